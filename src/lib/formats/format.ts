import type { ChannelOrder } from '../kernel.ts';
import type { ModelFiles } from '../sources/model-files.ts';

/**
 * One reader per file format, behind one interface. A reader turns a model's files into the list
 * of its convolutions and reads one kernel on request, as float32 HWIO, touching only the bytes
 * that kernel needs (plus the format's metadata).
 */

export interface ConvLayer {
  /** The layer's (or node's, or tensor's) name as the file calls it; what the `layer` option matches. */
  name: string;
  /** Other names the `layer` option accepts, e.g. the full tensor name conv1.weight for conv1. */
  aliases?: readonly string[];
  /** Class or op, e.g. Conv2D, _FusedConv2D, Conv, DepthwiseConv2dNative. */
  layerType: string;
  /** Kernel shape as it will be returned: HWIO. */
  shape: [number, number, number, number];
  strides: [number, number];
}

export interface OpenedModel {
  /** Short format name shown to users: tfjs-layers, tfjs-graph, tfjs-weights, keras-h5, keras, safetensors, onnx, pytorch. */
  format: string;
  /** Convolutions in the order a walk from the model's input meets them (or the file's order where the format has no graph). */
  convolutions: ConvLayer[];
  /** Every layer or node name, for presets and for telling "not a convolution" from "no such layer". */
  layerNames: ReadonlySet<string>;
  /** The channel order this format's models usually take when no preset applies (PyTorch: rgb). */
  defaultChannels?: ChannelOrder;
  /** The kernel of `conv`, float32, HWIO. */
  readKernel(conv: ConvLayer): Promise<Float32Array>;
  /**
   * What the user should know about how `conv` was found, as a sentence naming the file, e.g. a
   * guess where the file has no topology; `named`: the `layer` option chose it.
   */
  note?(conv: ConvLayer, named: boolean): string | undefined;
  /** Releases files or memory the reader holds. */
  close?(): Promise<void>;
}

export interface FormatReader {
  format: string;
  /** File extensions (lowercase, with the dot) that usually name this format. */
  extensions: readonly string[];
  /** True when the first bytes of the main file identify this format (HEAD_BYTES are offered). */
  detect(head: Uint8Array): boolean;
  open(files: ModelFiles): Promise<OpenedModel>;
}

/** How many leading bytes format detection reads (after any whitespace a JSON file starts with, see registry.ts). */
export const HEAD_BYTES = 64;
