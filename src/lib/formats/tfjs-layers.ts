import { Conv1Error } from '../errors.ts';
import { checkRelativeName, type ModelFiles } from '../sources/model-files.ts';
import { decodeLittleEndian } from './dtypes.ts';
import type { ConvLayer, OpenedModel } from './format.ts';

/**
 * TensorFlow.js layers models (model.json + binary shards). The first convolution is found by
 * walking the Keras topology from the model's inputs; its kernel is located in the weights
 * manifest by arithmetic and read as one byte range, which may span two shards. No other shard is
 * read.
 */

/** model.json is read whole; a bigger one is not a model file we should trust. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1, complex64: 8 };

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number; original_dtype?: string };
}
interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}
interface KerasLayer {
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

export async function parseModelJson(files: ModelFiles): Promise<unknown> {
  const size = await files.size(files.main);
  if (size > MAX_MODEL_JSON_BYTES)
    throw new Conv1Error(
      files.label,
      `is ${size} bytes; a model.json larger than ${MAX_MODEL_JSON_BYTES} bytes is refused`,
      'Point the `model` option at the model.json of a TensorFlow.js model.',
    );
  const bytes = await files.read(files.main, 0, size);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new Conv1Error(files.label, `is not valid JSON (${(error as Error).message})`, 'The file may be truncated or not a model.json; download or export it again.', { cause: error });
  }
}

export function openTfjsLayers(files: ModelFiles, json: unknown): TfjsLayersModel {
  const fail = (reason: string, hint = 'Export the model again with tensorflowjs_converter, or point `model` at another file.') =>
    new Conv1Error(files.label, reason, hint);
  if (!looksLikeTfjsLayers(json)) throw fail('is not a TensorFlow.js layers model (no modelTopology with a Keras model config and weightsManifest)');
  const root = json as { modelTopology: Record<string, unknown>; weightsManifest: unknown[] };
  const topology = root.modelTopology;
  const modelConfig = (isRecord(topology.model_config) ? topology.model_config : topology) as { class_name?: string; config?: unknown };
  const { layers, inputs } = flattenModel(modelConfig, fail);
  const groups = root.weightsManifest.map((group, g) => checkGroup(group, g, files.label, fail));
  const seen = new Set<string>();
  for (const group of groups)
    for (const weight of group.weights) {
      if (seen.has(weight.name)) throw fail(`lists the weight "${weight.name}" twice in its weightsManifest`);
      seen.add(weight.name);
    }
  return { files, layers, inputs, groups, layerNames: new Set(layers.map((layer) => layer.name)) };
}

/** Convolution layers in the order a walk from the inputs reaches them (breadth first). */
export function listConvLayers(model: TfjsLayersModel): TfjsConv[] {
  const byName = new Map(model.layers.map((layer) => [layer.name, layer]));
  const consumers = new Map<string, string[]>();
  for (const layer of model.layers)
    for (const source of inboundLayerNames(layer, model.files.label)) {
      if (!byName.has(source))
        throw new Conv1Error(model.files.label, `layer "${layer.name}" takes its input from "${source}", which is not a layer of the model`, 'The model topology is inconsistent; export the model again.');
      consumers.set(source, [...(consumers.get(source) ?? []), layer.name]);
    }
  const order: string[] = [];
  const visited = new Set<string>();
  const queue = [...model.inputs];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (visited.has(name)) continue;
    visited.add(name);
    order.push(name);
    queue.push(...(consumers.get(name) ?? []));
  }
  return order
    .map((name) => byName.get(name)!)
    .filter((layer) => CONV_CLASSES.has(layer.class_name))
    .map((layer) => describeConv(model, layer));
}

export async function readConvKernel(model: TfjsLayersModel, conv: TfjsConv): Promise<Float32Array> {
  const { files } = model;
  const found = locateWeight(model, conv.weight);
  const { group, weight, offset } = found;
  const elements = weight.shape.reduce((a, b) => a * b, 1);
  const storedType = weight.quantization?.dtype ?? weight.dtype;
  if (storedType !== 'float32' && storedType !== 'float16' && storedType !== 'uint8' && storedType !== 'uint16')
    throw new Conv1Error(files.label, `stores the kernel "${weight.name}" as ${storedType}, which is not a floating-point or quantised encoding`, 'Convert the model with float32 weights.');
  const length = elements * BYTES_PER_ELEMENT[storedType]!;
  const bytes = await readGroupRange(files, group, offset, length);
  const values = decodeLittleEndian(bytes, storedType);
  const q = weight.quantization;
  if (q && q.dtype !== 'float16') {
    if (typeof q.min !== 'number' || typeof q.scale !== 'number' || !Number.isFinite(q.min) || !Number.isFinite(q.scale))
      throw new Conv1Error(files.label, `quantises "${weight.name}" to ${q.dtype} without a numeric min and scale`, 'The manifest is damaged; convert the model again.');
    // As tfjs: q * scale + min in double precision, rounded once to float32 by the store.
    for (let i = 0; i < values.length; i++) values[i] = values[i]! * q.scale + q.min;
  }
  return values;
}

/**
 * A group's paths are one byte stream cut into shards of equal size (only the last may be
 * shorter). The first shard's size gives the cut; every shard a read touches is checked against
 * the size the manifest implies, so a truncated or padded shard is an error, not wrong numbers.
 */
async function readGroupRange(files: ModelFiles, group: ManifestGroup, offset: number, length: number): Promise<Uint8Array> {
  const total = group.weights.reduce((sum, weight) => sum + weightByteLength(weight), 0);
  const first = group.paths[0]!;
  const shardSize = await files.size(first);
  const count = group.paths.length;
  const expectedSize = (index: number) => (count === 1 ? total : index < count - 1 ? shardSize : total - shardSize * (count - 1));
  if (count > 1 && (shardSize <= 0 || expectedSize(count - 1) <= 0 || expectedSize(count - 1) > shardSize))
    throw new Conv1Error(
      files.describe(first),
      `has ${shardSize} bytes, which does not cut the group's ${total} bytes into ${count} shards of equal size`,
      'The shard is truncated or the weight files do not match model.json; copy the model folder again.',
    );
  // Check every shard the range touches before allocating, so a manifest that claims an absurd
  // tensor fails on the sizes instead of reserving memory for it.
  const step = count === 1 ? Math.max(total, 1) : shardSize;
  const touched: number[] = [];
  for (let index = Math.floor(offset / step); index * step < offset + length && index < count; index++) touched.push(index);
  if (offset + length > total || touched.length === 0)
    throw new Conv1Error(files.label, `places a weight at bytes ${offset}–${offset + length}, beyond the ${total} bytes its group holds`, 'The manifest is damaged; export the model again.');
  for (const index of touched) {
    const name = group.paths[index]!;
    const actual = await files.size(name);
    if (actual !== expectedSize(index))
      throw new Conv1Error(
        files.describe(name),
        `is ${actual} bytes but model.json implies ${expectedSize(index)}` +
          (index < count - 1 ? ` (every shard but the last has the size of ${first})` : ''),
        'The shard is truncated or does not belong to this model.json; copy the model folder again.',
      );
  }
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const at = offset + done;
    const index = Math.floor(at / step);
    const within = at - index * step;
    const take = Math.min(length - done, step - within);
    out.set(await files.read(group.paths[index]!, within, take), done);
    done += take;
  }
  return out;
}

function locateWeight(model: TfjsLayersModel, name: string) {
  for (const group of model.groups) {
    let offset = 0;
    for (const weight of group.weights) {
      if (weight.name === name) return { group, weight, offset };
      offset += weightByteLength(weight);
    }
  }
  throw new Conv1Error(model.files.label, `has no weight "${name}" in its weightsManifest`, 'The manifest does not match the topology; export the model again.');
}

function weightByteLength(weight: ManifestWeight): number {
  const elements = weight.shape.reduce((a, b) => a * b, 1);
  return elements * BYTES_PER_ELEMENT[weight.quantization?.dtype ?? weight.dtype]!;
}

function describeConv(model: TfjsLayersModel, layer: KerasLayer): TfjsConv {
  const config = layer.config;
  const strides = Array.isArray(config.strides) ? (config.strides as number[]) : [1, 1];
  const suffix = layer.class_name === 'DepthwiseConv2D' ? 'depthwise_kernel' : layer.class_name === 'SeparableConv2D' ? 'depthwise_kernel' : 'kernel';
  const wanted = `${layer.name}/${suffix}`;
  const candidates = model.groups.flatMap((group) => group.weights).filter((w) => w.name === wanted || w.name.endsWith(`/${wanted}`));
  if (candidates.length !== 1)
    throw new Conv1Error(
      model.files.label,
      candidates.length === 0 ? `has no kernel weight for the convolution "${layer.name}" (looked for "${wanted}")` : `has ${candidates.length} weights named like "${wanted}"`,
      'The manifest does not match the topology; export the model again.',
    );
  const weight = candidates[0]!;
  if (weight.shape.length !== 4)
    throw new Conv1Error(model.files.label, `gives the kernel "${weight.name}" the shape [${weight.shape}], not a rank-4 convolution kernel`, 'Only 2-D convolutions can be drawn as filters; choose another layer.');
  const [kh, kw, cin, multiplier] = weight.shape as [number, number, number, number];
  // A depthwise kernel [kh, kw, cin, m] gives every input channel m single-channel filters; in
  // memory that is already HWIO with one input channel and cin·m filters.
  const depthwise = layer.class_name !== 'Conv2D';
  const [inputs, cout] = depthwise ? [1, cin * multiplier] : [cin, multiplier];
  return { name: layer.name, layerType: layer.class_name, shape: [kh, kw, inputs, cout], strides: [strides[0] ?? 1, strides[1] ?? strides[0] ?? 1], weight: weight.name };
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
function inboundLayerNames(layer: KerasLayer, label: string): string[] {
  const nodes = layer.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw unknownInbound(layer, label);
  const names: string[] = [];
  const visitKerasTensor = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visitKerasTensor);
    if (!isRecord(value)) return;
    if (value.class_name === '__keras_tensor__' && isRecord(value.config) && Array.isArray(value.config.keras_history)) {
      const source = value.config.keras_history[0];
      if (typeof source !== 'string') throw unknownInbound(layer, label);
      names.push(source);
    }
  };
  for (const node of nodes) {
    if (Array.isArray(node)) {
      for (const edge of node) {
        if (!Array.isArray(edge) || typeof edge[0] !== 'string') throw unknownInbound(layer, label);
        names.push(edge[0]);
      }
    } else if (isRecord(node) && Array.isArray(node.args)) {
      visitKerasTensor(node.args);
      if (isRecord(node.kwargs)) visitKerasTensor(Object.values(node.kwargs));
    } else throw unknownInbound(layer, label);
  }
  return names;
}

function unknownInbound(layer: KerasLayer, label: string): Conv1Error {
  return new Conv1Error(label, `describes the inputs of layer "${layer.name}" in a form this reader does not know`, 'Export the model with a current tensorflowjs_converter; if it still fails, please report the model.');
}

function checkGroup(group: unknown, g: number, label: string, fail: (reason: string) => Conv1Error): ManifestGroup {
  if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights) || group.paths.length === 0)
    throw fail(`has a malformed weightsManifest group ${g}`);
  for (const path of group.paths) {
    if (typeof path !== 'string') throw fail(`has a non-string path in weightsManifest group ${g}`);
    checkRelativeName(path, label);
  }
  for (const weight of group.weights) {
    if (!isRecord(weight) || typeof weight.name !== 'string' || weight.name === '__proto__') throw fail(`has a malformed weight in weightsManifest group ${g}`);
    if (!Array.isArray(weight.shape) || !weight.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= 2 ** 31))
      throw fail(`gives "${weight.name}" the shape ${JSON.stringify(weight.shape)}; dimensions must be non-negative integers`);
    const stored = isRecord(weight.quantization) ? weight.quantization.dtype : weight.dtype;
    if (typeof stored !== 'string' || !(stored in BYTES_PER_ELEMENT) || stored === 'complex64' && isRecord(weight.quantization))
      throw fail(`stores "${weight.name}" as ${JSON.stringify(stored)}, a dtype this reader does not know`);
  }
  return group as unknown as ManifestGroup;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
