import type { ConvLayer } from './format.ts';

/**
 * Formats that keep tensors by name and record no graph (safetensors, PyTorch state dicts) leave
 * the first convolution to be inferred from PyTorch's naming conventions. Both readers rank their
 * weights here, so that a model gives the same answer whichever of the two it was saved as.
 */

/** Module names that by convention hold a network's first convolution (torchvision, timm, Hugging Face, diffusers). */
const STEM_PARTS = /^(stem|conv_?stem|conv_?[01]|conv_?in|conv_?first|first_?conv|input_?conv|patch_?embed|patch_?embeds|patch_?embedding|patch_?embeddings|embedder|embeddings?)$/;

export interface NamedWeight {
  /** The tensor's full name, e.g. layer1.0.conv1.weight. */
  name: string;
  /** As stored: OIHW for a PyTorch convolution. */
  shape: readonly number[];
}

/**
 * A convolution weight is a 4-D tensor whose name ends in "weight" with no empty dimension. They
 * are ranked, first to last, by:
 *  1. input channels (OIHW axis 1): 3, an RGB stem, before 1 (a greyscale stem, or a depthwise
 *     convolution deeper in) before any other count;
 *  2. a name with a stem part (stem, conv1, conv_stem, conv_in, patch_embed, embeddings, …) first;
 *  3. the numbers in the name compared in order, a prefix first: features.0 before features.3,
 *     conv1 before layer1.0.conv1;
 *  4. fewer dot-separated parts first;
 *  5. code-point order of the name, so that the file's order never matters.
 */
export function rankConvolutionWeights<T extends NamedWeight>(weights: readonly T[]): T[] {
  const keyed = weights
    .filter((weight) => weight.shape.length === 4 && weight.name.endsWith('weight') && weight.shape.every((d) => d > 0))
    .map((weight) => {
      const parts = weight.name.split('.');
      const inputs = weight.shape[1];
      return {
        weight,
        channels: inputs === 3 ? 0 : inputs === 1 ? 1 : 2,
        stem: parts.some((part) => STEM_PARTS.test(part.toLowerCase())) ? 0 : 1,
        numbers: (weight.name.match(/\d+/g) ?? []).map(Number),
        depth: parts.length,
      };
    });
  keyed.sort(
    (a, b) =>
      a.channels - b.channels ||
      a.stem - b.stem ||
      compareNumbers(a.numbers, b.numbers) ||
      a.depth - b.depth ||
      (a.weight.name < b.weight.name ? -1 : a.weight.name > b.weight.name ? 1 : 0),
  );
  return keyed.map((entry) => entry.weight);
}

function compareNumbers(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** "conv1.weight" → "conv1": the name a convolution weight's layer goes by. */
export function convolutionName(tensor: string): string {
  return tensor.endsWith('.weight') ? tensor.slice(0, -'.weight'.length) : tensor;
}

/** "layer1.0.bn1.running_mean" → "layer1.0.bn1": the module a tensor belongs to. */
export function moduleName(tensor: string): string {
  const dot = tensor.lastIndexOf('.');
  return dot > 0 ? tensor.slice(0, dot) : tensor;
}

/** The ConvLayer of an OIHW weight named `tensor`; `aliases` are further names the `layer` option accepts. */
export function describeOihwConvolution(tensor: string, [o, i, h, w]: readonly number[], aliases: readonly string[] = []): ConvLayer {
  const name = convolutionName(tensor);
  return {
    name,
    aliases: [...new Set([tensor, ...aliases])].filter((alias) => alias !== name),
    // The file records no layer class; OIHW 4-D weights are what PyTorch's Conv2d writes.
    layerType: 'Conv2d',
    shape: [h!, w!, i!, o!],
    // A state dict stores tensors only, not the stride they are applied with; [1, 1] stands in.
    strides: [1, 1],
  };
}
