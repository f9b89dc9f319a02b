import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { ConvLayer, OpenedModel } from './format.ts';
import { checkWeightsManifest, isRecord, kernelShapeAsHwio, locateWeight, readFloatWeight, type ManifestGroup, type ManifestWeight } from './tfjs-manifest.ts';

/**
 * TensorFlow.js layers models (model.json + binary shards). The first convolution is found by
 * walking the Keras topology from the model's inputs; its kernel is read through the weights
 * manifest (tfjs-manifest.ts), touching only the shards it lies in.
 */

/*
 * The loops that visit every layer, edge or weight use indices rather than for…of: a model is read
 * once, so they run before V8 optimises them, and unoptimised for…of allocates an iterator and a
 * result object per step, which costs as much time again and brings the next garbage collection
 * forward.
 */

export const CONV_CLASSES: ReadonlySet<string> = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);
const TFJS_HINT = 'Export the model with a current tensorflowjs_converter; if it still fails, please report the model.';

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown;
}

interface TfjsConv extends ConvLayer {
  /** Name of the kernel in the weights manifest. */
  weight: string;
}

export interface TfjsLayersModel {
  files: ModelFiles;
  layers: KerasLayer[];
  inputs: string[];
  byName: ReadonlyMap<string, KerasLayer>;
  groups: ManifestGroup[];
  /** All layer names, for presets that recognise well-known models. */
  layerNames: Set<string>;
}

export function looksLikeTfjsLayers(json: unknown): boolean {
  if (!isRecord(json) || !Array.isArray(json.weightsManifest)) return false;
  const topology = json.modelTopology;
  return isRecord(topology) && (isRecord(topology.model_config) || typeof topology.class_name === 'string');
}

export function openTfjsLayers(files: ModelFiles, json: unknown): TfjsLayersModel {
  const fail = (reason: string, hint = 'Export the model again with tensorflowjs_converter, or point `model` at another file.') =>
    new Conv1Error(files.label, reason, hint);
  if (!looksLikeTfjsLayers(json)) throw fail('is not a TensorFlow.js layers model (no modelTopology with a Keras model config and weightsManifest)');
  const root = json as { modelTopology: Record<string, unknown>; weightsManifest: unknown[] };
  const topology = root.modelTopology;
  const modelConfig = (isRecord(topology.model_config) ? topology.model_config : topology) as { class_name?: string; config?: unknown };
  const { layers, inputs, byName } = flattenModel(modelConfig, fail);
  const groups = checkWeightsManifest(root.weightsManifest, files.label, fail);
  return { files, layers, inputs, byName, groups, layerNames: new Set(byName.keys()) };
}

/** Convolution layers in the order a walk from the inputs reaches them (breadth first). */
export function listConvLayers(model: TfjsLayersModel): TfjsConv[] {
  // Kernels by their last two path parts ("conv1/kernel"), so each layer finds its kernel at once
  // even when the converter prefixed the names ("model/conv1/kernel"). describeConv only looks up
  // names ending in kernel, so biases and normalisation weights are not indexed.
  const byLayer = new Map<string, ManifestWeight[]>();
  for (const { weights } of model.groups)
    for (let w = 0; w < weights.length; w++) {
      const weight = weights[w]!;
      if (!weight.name.endsWith('kernel')) continue;
      const key = weight.name.split('/').slice(-2).join('/');
      const list = byLayer.get(key);
      if (list) list.push(weight);
      else byLayer.set(key, [weight]);
    }
  const ordered = layersFromInputs(model, model.files.label, TFJS_HINT);
  const convs: TfjsConv[] = [];
  for (let i = 0; i < ordered.length; i++) if (CONV_CLASSES.has(ordered[i]!.class_name)) convs.push(describeConv(model, ordered[i]!, byLayer));
  return convs;
}

/**
 * The layers of a Keras model config (`{class_name, config}`, as model.json, an .h5 file's
 * model_config and a .keras file's config.json hold it) in the order a breadth-first walk from
 * the model's inputs reaches them. `hint` tells the user what to do about a malformed config.
 */
export function kerasLayersFromInputs(modelConfig: unknown, label: string, hint: string): KerasLayer[] {
  const fail = (reason: string) => new Conv1Error(label, reason, hint);
  if (!isRecord(modelConfig)) throw fail('has a model config that is not a JSON object');
  return layersFromInputs(flattenModel(modelConfig as { class_name?: string; config?: unknown }, fail), label, hint);
}

function layersFromInputs({ layers, inputs, byName }: FlatModel, label: string, hint: string): KerasLayer[] {
  const consumers = new Map<string, KerasLayer[]>();
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const sources = inboundLayerNames(layer, label, hint);
    for (let j = 0; j < sources.length; j++) {
      const source = sources[j]!;
      if (!byName.has(source))
        throw new Conv1Error(label, `layer "${layer.name}" takes its input from "${source}", which is not a layer of the model`, 'The model topology is inconsistent; export the model again.');
      const list = consumers.get(source);
      if (list) list.push(layer);
      else consumers.set(source, [layer]);
    }
  }
  // `order` doubles as the queue: a layer is appended once, when first seen.
  const order: KerasLayer[] = [];
  const seen = new Set<KerasLayer>();
  for (const input of inputs) {
    const layer = byName.get(input);
    if (!layer) throw new Conv1Error(label, `names "${input}" as a model input, but it is not a layer of the model`, 'The model topology is inconsistent; export the model again.');
    if (!seen.has(layer)) order.push(layer);
    seen.add(layer);
  }
  for (let i = 0; i < order.length; i++) {
    const next = consumers.get(order[i]!.name);
    if (next)
      for (let j = 0; j < next.length; j++)
        if (!seen.has(next[j]!)) {
          seen.add(next[j]!);
          order.push(next[j]!);
        }
  }
  return order;
}

/** A model config's layers, in file order, with its input layers and the layers by name. */
interface FlatModel {
  layers: KerasLayer[];
  inputs: string[];
  byName: ReadonlyMap<string, KerasLayer>;
}

export async function readConvKernel(model: TfjsLayersModel, conv: TfjsConv): Promise<Float32Array> {
  const located = locateWeight(model.groups, conv.weight);
  if (!located)
    throw new Conv1Error(model.files.label, `has no weight "${conv.weight}" in its weightsManifest`, 'The manifest does not match the topology; export the model again.');
  return readFloatWeight(model.files, located);
}

function describeConv(model: TfjsLayersModel, layer: KerasLayer, byLayer: ReadonlyMap<string, ManifestWeight[]>): TfjsConv {
  const config = layer.config;
  const strides = Array.isArray(config.strides) ? (config.strides as number[]) : [1, 1];
  const suffix = layer.class_name === 'DepthwiseConv2D' ? 'depthwise_kernel' : layer.class_name === 'SeparableConv2D' ? 'depthwise_kernel' : 'kernel';
  const wanted = `${layer.name}/${suffix}`;
  const candidates = (byLayer.get(wanted) ?? []).filter((w) => w.name === wanted || w.name.endsWith(`/${wanted}`));
  if (candidates.length !== 1)
    throw new Conv1Error(
      model.files.label,
      candidates.length === 0 ? `has no kernel weight for the convolution "${layer.name}" (looked for "${wanted}")` : `has ${candidates.length} weights named like "${wanted}"`,
      'The manifest does not match the topology; export the model again.',
    );
  const weight = candidates[0]!;
  if (weight.shape.length !== 4)
    throw new Conv1Error(model.files.label, `gives the kernel "${weight.name}" the shape [${weight.shape}], not a rank-4 convolution kernel`, 'Only 2-D convolutions can be drawn as filters; choose another layer.');
  const shape = kernelShapeAsHwio(weight.shape as [number, number, number, number], layer.class_name !== 'Conv2D');
  return { name: layer.name, layerType: layer.class_name, shape, strides: [strides[0] ?? 1, strides[1] ?? strides[0] ?? 1], weight: weight.name };
}

function flattenModel(
  modelConfig: { class_name?: string; config?: unknown },
  fail: (reason: string) => Conv1Error,
): FlatModel {
  const config = modelConfig.config;
  const rawLayers = Array.isArray(config) ? config : isRecord(config) && Array.isArray(config.layers) ? config.layers : undefined;
  if (!rawLayers) throw fail('has a modelTopology without a list of layers');
  const byName = new Map<string, KerasLayer>();
  const layers = rawLayers.map((layer, i): KerasLayer => {
    if (!isRecord(layer) || typeof layer.class_name !== 'string' || !isRecord(layer.config)) throw fail(`has a malformed layer at position ${i}`);
    const name = typeof layer.name === 'string' ? layer.name : typeof layer.config.name === 'string' ? layer.config.name : undefined;
    if (!name || name === '__proto__') throw fail(`has a layer without a usable name at position ${i}`);
    const flat = { name, class_name: layer.class_name, config: layer.config, inbound_nodes: layer.inbound_nodes };
    byName.set(name, flat);
    return flat;
  });
  if (byName.size !== layers.length) throw fail('names two layers the same');
  if (modelConfig.class_name === 'Sequential' || Array.isArray(config)) {
    // A Sequential model is a chain: each layer feeds the next.
    for (let i = 1; i < layers.length; i++) layers[i]!.inbound_nodes = [[[layers[i - 1]!.name, 0, 0, {}]]];
    if (layers.length > 0) layers[0]!.inbound_nodes = [];
    return { layers, inputs: layers.length > 0 ? [layers[0]!.name] : [], byName };
  }
  const inputLayers = isRecord(config) ? config.input_layers : undefined;
  if (!Array.isArray(inputLayers) || inputLayers.length === 0) throw fail('has a functional model without input_layers');
  // Keras 3 writes a single input as one flat triple ["input_layer", 0, 0] rather than a list of them.
  const entries = typeof inputLayers[0] === 'string' ? [inputLayers] : inputLayers;
  const inputs = entries.map((entry) => (Array.isArray(entry) ? entry[0] : entry));
  if (!inputs.every((name): name is string => typeof name === 'string')) throw fail('has malformed input_layers');
  return { layers, inputs, byName };
}

/**
 * The names of the layers that feed `layer`. Keras 2 writes inbound nodes as nested lists
 * ([[["input_1", 0, 0, {}]]]); Keras 3 as objects whose args hold keras tensors with a
 * keras_history. Anything else is refused rather than guessed.
 */
function inboundLayerNames(layer: KerasLayer, label: string, hint: string): string[] {
  const nodes = layer.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw unknownInbound(layer, label, hint);
  const names: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const node: unknown = nodes[i];
    if (Array.isArray(node)) {
      for (let j = 0; j < node.length; j++) {
        const edge: unknown = node[j];
        if (!Array.isArray(edge) || typeof edge[0] !== 'string') throw unknownInbound(layer, label, hint);
        names.push(edge[0]);
      }
    } else if (isRecord(node) && Array.isArray(node.args)) {
      // Keras nests tensors a few levels deep at most; a hostile file could nest them until the stack overflows.
      const visitKerasTensor = (value: unknown, depth: number): void => {
        if (depth > MAX_INBOUND_DEPTH) throw unknownInbound(layer, label, hint);
        if (Array.isArray(value)) return value.forEach((item) => visitKerasTensor(item, depth + 1));
        if (!isRecord(value)) return;
        if (value.class_name === '__keras_tensor__' && isRecord(value.config) && Array.isArray(value.config.keras_history)) {
          const source = value.config.keras_history[0];
          if (typeof source !== 'string') throw unknownInbound(layer, label, hint);
          names.push(source);
        }
      };
      visitKerasTensor(node.args, 0);
      if (isRecord(node.kwargs)) visitKerasTensor(Object.values(node.kwargs), 0);
    } else throw unknownInbound(layer, label, hint);
  }
  return names;
}

const MAX_INBOUND_DEPTH = 32;

function unknownInbound(layer: KerasLayer, label: string, hint: string): Conv1Error {
  return new Conv1Error(label, `describes the inputs of layer "${layer.name}" in a form this reader does not know`, hint);
}

/** model.json of a layers model; graph models are told apart after parsing (see tfjs.ts). */
export function openLayersModel(files: ModelFiles, json: unknown): OpenedModel {
  const model = openTfjsLayers(files, json);
  const convolutions = listConvLayers(model);
  return {
    format: 'tfjs-layers',
    convolutions,
    layerNames: model.layerNames,
    readKernel: (conv) => readConvKernel(model, conv as TfjsConv),
  };
}
