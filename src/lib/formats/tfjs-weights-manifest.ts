import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { ConvLayer, OpenedModel } from './format.ts';
import { checkWeightsManifest, isRecord, kernelShapeAsHwio, locateWeight, readFloatWeight } from './tfjs-manifest.ts';

/**
 * A bare TensorFlow.js weights manifest: the JSON list of `{ paths, weights }` groups that tf.io
 * writes beside the weight files, without the model's topology. face-api.js and other libraries
 * ship their models this way and build the network in code. With no graph to walk, the 4-D float
 * weights stand for the convolutions, in manifest order: the first one is taken for the first
 * layer (a guess the reader says it makes, see `note`), and `layer` picks any other by name. Its
 * bytes are located and read as for a model.json (tfjs-manifest.ts), touching only its shards.
 */

const HINT = 'The manifest is damaged or was not written by tf.io or tensorflowjs_converter; download the model again, or point `model` at its model.json if it has one.';

/** A list of groups, or an object holding one under weightsManifest but no topology. */
export function looksLikeWeightsManifest(json: unknown): boolean {
  if (isRecord(json)) return (json.modelTopology === undefined || json.modelTopology === null) && Array.isArray(json.weightsManifest);
  return Array.isArray(json) && json.length > 0 && json.every((group) => isRecord(group) && Array.isArray(group.paths) && Array.isArray(group.weights));
}

export function openWeightsManifest(files: ModelFiles, json: unknown): OpenedModel {
  const manifest = (Array.isArray(json) ? json : (json as { weightsManifest: unknown[] }).weightsManifest) as unknown[];
  const groups = checkWeightsManifest(manifest, files.label, (reason) => new Conv1Error(files.label, reason, HINT));
  const weights = groups.flatMap((group) => group.weights);
  const kernels = weights.filter((weight) => weight.shape.length === 4 && weight.dtype === 'float32');
  if (kernels.length === 0)
    throw new Conv1Error(files.label, `is a weights manifest of ${weights.length} weights, none of them a 4-D float kernel, so it holds no convolution`, 'astro-conv1 draws the weights of a 2-D convolution; point `model` at a convolutional network.');
  // A kernel "conv0/filters" may also be asked for as "conv0", when no other kernel shares that prefix.
  const prefixes = kernels.map(({ name }) => layerOf(name));
  const convolutions = kernels.map(({ name, shape }, k): ConvLayer => {
    const depthwise = /depthwise/i.test(name);
    const prefix = prefixes[k]!;
    const unique = prefix !== '' && prefixes.indexOf(prefix) === prefixes.lastIndexOf(prefix);
    return {
      name,
      ...(unique ? { aliases: [prefix] } : {}),
      layerType: depthwise ? 'DepthwiseConv2D' : 'Conv2D',
      shape: kernelShapeAsHwio(shape as [number, number, number, number], depthwise),
      strides: [1, 1],
    };
  });
  return {
    format: 'tfjs-weights',
    convolutions,
    // Weight names and the layers they name, for presets (a manifest of Keras' ResNet50 is BGR).
    layerNames: new Set(weights.flatMap(({ name }) => [name, layerOf(name)]).filter((name) => name !== '')),
    readKernel: (conv) => readFloatWeight(files, locateWeight(groups, conv.name)!),
    note: (conv, named) =>
      named
        ? `${files.label} is a weights manifest without a topology: the strides of "${conv.name}" are not in the file and are shown as 1.`
        : `${files.label} is a weights manifest without a topology, so the first convolution is a guess: "${conv.name}", the first 4-D weight in manifest order. Its strides are not in the file and are shown as 1; set \`layer\` to another 4-D weight's name to draw that one.`,
  };
}

/** "conv1/kernel" → "conv1"; "model/conv1/kernel" → "model/conv1"; a name without "/" has none. */
function layerOf(weightName: string): string {
  return weightName.split('/').slice(0, -1).join('/');
}
