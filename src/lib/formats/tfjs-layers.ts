import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { ConvLayer, OpenedModel } from './format.ts';
import { checkWeightsManifest, isRecord, kernelShapeAsHwio, locateWeight, readFloatWeight, type ManifestGroup, type ManifestWeight } from './tfjs-manifest.ts';

/**
 * TensorFlow.js layers models (model.json + binary shards). The first convolution is found by
 * walking the Keras topology from the model's inputs; its kernel is read through the weights
 * manifest (tfjs-manifest.ts), touching only the shards it lies in.
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
  const { layers, inputs } = flattenModel(modelConfig, fail);
  const groups = checkWeightsManifest(root.weightsManifest, files.label, fail);
  return { files, layers, inputs, groups, layerNames: new Set(layers.map((layer) => layer.name)) };
}

/** Convolution layers in the order a walk from the inputs reaches them (breadth first). */
export function listConvLayers(model: TfjsLayersModel): TfjsConv[] {
  // Weights by their last two path parts ("conv1/kernel"), so each layer finds its kernel at once
  // even when the converter prefixed the names ("model/conv1/kernel").
  const byLayer = new Map<string, ManifestWeight[]>();
  for (const group of model.groups)
    for (const weight of group.weights) {
      const key = weight.name.split('/').slice(-2).join('/');
      const list = byLayer.get(key);
      if (list) list.push(weight);
      else byLayer.set(key, [weight]);
    }
  return layersFromInputs(model.layers, model.inputs, model.files.label, TFJS_HINT)
    .filter((layer) => CONV_CLASSES.has(layer.class_name))
    .map((layer) => describeConv(model, layer, byLayer));
}

/**
 * The layers of a Keras model config (`{class_name, config}`, as model.json, an .h5 file's
 * model_config and a .keras file's config.json hold it) in the order a breadth-first walk from
 * the model's inputs reaches them. `hint` tells the user what to do about a malformed config.
 */
export function kerasLayersFromInputs(modelConfig: unknown, label: string, hint: string): KerasLayer[] {
  const fail = (reason: string) => new Conv1Error(label, reason, hint);
  if (!isRecord(modelConfig)) throw fail('has a model config that is not a JSON object');
  const { layers, inputs } = flattenModel(modelConfig as { class_name?: string; config?: unknown }, fail);
  return layersFromInputs(layers, inputs, label, hint);
}

function layersFromInputs(layers: KerasLayer[], inputs: string[], label: string, hint: string): KerasLayer[] {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const consumers = new Map<string, string[]>();
  for (const layer of layers)
    for (const source of inboundLayerNames(layer, label, hint)) {
      if (!byName.has(source))
        throw new Conv1Error(label, `layer "${layer.name}" takes its input from "${source}", which is not a layer of the model`, 'The model topology is inconsistent; export the model again.');
      const list = consumers.get(source);
      if (list) list.push(layer.name);
      else consumers.set(source, [layer.name]);
    }
  const order: string[] = [];
  for (const input of inputs)
    if (!byName.has(input))
      throw new Conv1Error(label, `names "${input}" as a model input, but it is not a layer of the model`, 'The model topology is inconsistent; export the model again.');
  const visited = new Set<string>();
  const queue = [...inputs];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (visited.has(name)) continue;
    visited.add(name);
    order.push(name);
    queue.push(...(consumers.get(name) ?? []));
  }
  return order.map((name) => byName.get(name)!);
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
): { layers: KerasLayer[]; inputs: string[] } {
  const config = modelConfig.config;
  const rawLayers = Array.isArray(config) ? config : isRecord(config) && Array.isArray(config.layers) ? config.layers : undefined;
  if (!rawLayers) throw fail('has a modelTopology without a list of layers');
  const layers = rawLayers.map((layer, i): KerasLayer => {
    if (!isRecord(layer) || typeof layer.class_name !== 'string' || !isRecord(layer.config)) throw fail(`has a malformed layer at position ${i}`);
    const name = typeof layer.name === 'string' ? layer.name : typeof layer.config.name === 'string' ? layer.config.name : undefined;
    if (!name || name === '__proto__') throw fail(`has a layer without a usable name at position ${i}`);
    return { name, class_name: layer.class_name, config: layer.config, inbound_nodes: layer.inbound_nodes };
  });
  if (new Set(layers.map((l) => l.name)).size !== layers.length) throw fail('names two layers the same');
  if (modelConfig.class_name === 'Sequential' || Array.isArray(config)) {
    // A Sequential model is a chain: each layer feeds the next.
    for (let i = 1; i < layers.length; i++) layers[i]!.inbound_nodes = [[[layers[i - 1]!.name, 0, 0, {}]]];
    if (layers.length > 0) layers[0]!.inbound_nodes = [];
    return { layers, inputs: layers.length > 0 ? [layers[0]!.name] : [] };
  }
  const inputLayers = isRecord(config) ? config.input_layers : undefined;
  if (!Array.isArray(inputLayers) || inputLayers.length === 0) throw fail('has a functional model without input_layers');
  // Keras 3 writes a single input as one flat triple ["input_layer", 0, 0] rather than a list of them.
  const entries = typeof inputLayers[0] === 'string' ? [inputLayers] : inputLayers;
  const inputs = entries.map((entry) => (Array.isArray(entry) ? entry[0] : entry));
  if (!inputs.every((name): name is string => typeof name === 'string')) throw fail('has malformed input_layers');
  return { layers, inputs };
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
  // Keras nests tensors a few levels deep at most; a hostile file could nest them until the stack overflows.
  const visitKerasTensor = (value: unknown, depth = 0): void => {
    if (depth > MAX_INBOUND_DEPTH) throw unknownInbound(layer, label, hint);
    if (Array.isArray(value)) return value.forEach((item) => visitKerasTensor(item, depth + 1));
    if (!isRecord(value)) return;
    if (value.class_name === '__keras_tensor__' && isRecord(value.config) && Array.isArray(value.config.keras_history)) {
      const source = value.config.keras_history[0];
      if (typeof source !== 'string') throw unknownInbound(layer, label, hint);
      names.push(source);
    }
  };
  for (const node of nodes) {
    if (Array.isArray(node)) {
      for (const edge of node) {
        if (!Array.isArray(edge) || typeof edge[0] !== 'string') throw unknownInbound(layer, label, hint);
        names.push(edge[0]);
      }
    } else if (isRecord(node) && Array.isArray(node.args)) {
      visitKerasTensor(node.args);
      if (isRecord(node.kwargs)) visitKerasTensor(Object.values(node.kwargs));
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
