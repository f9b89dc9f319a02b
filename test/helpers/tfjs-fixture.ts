/**
 * Small TensorFlow.js layers models written to disk for tests: a model.json with a Keras topology
 * and a weights manifest, and the weights as one little-endian byte stream cut into shards of a
 * chosen size (group1-shard{i}of{n}.bin), encoded and quantised the way tensorflowjs_converter
 * does it. Values come from a seeded PRNG, so every run writes the same bytes.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Quantization = 'uint8' | 'uint16' | 'float16';

export interface FixtureWeight {
  name: string;
  shape: number[];
  values: Float32Array;
  quantization?: Quantization;
}

export interface ManifestQuantization {
  dtype: Quantization;
  min?: number;
  scale?: number;
  original_dtype: 'float32';
}

export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: ManifestQuantization;
}

export interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: string;
  modelTopology: {
    keras_version: string;
    backend: string;
    model_config: { class_name: string; config: unknown };
  };
  weightsManifest: { paths: string[]; weights: ManifestEntry[] }[];
}

export interface TfjsModelOptions {
  /** Keras layer configs ({ name, class_name, config, inbound_nodes }), in the order model.json lists them. */
  layers: object[];
  /** Names of the model's input layers (ignored for Sequential models). */
  inputLayers: string[];
  /** Names of the output layers; defaults to the last layer (ignored for Sequential models). */
  outputLayers?: string[];
  /** Weights in manifest order. */
  weights: FixtureWeight[];
  /** Size of every shard but the last, in bytes. */
  shardBytes: number;
  className?: 'Model' | 'Sequential';
  /** File name of the model file inside `dir`; model.json by default. */
  modelJsonName?: string;
  /** Last chance to alter model.json before it is written (e.g. to break it on purpose). */
  editModelJson?: (json: ModelJson) => void;
}

/** Where one weight sits in the group's byte stream. */
export interface PlacedWeight {
  name: string;
  offset: number;
  byteLength: number;
  manifest: ManifestEntry;
  bytes: Uint8Array;
}

export interface WeightPlan {
  weights: PlacedWeight[];
  totalBytes: number;
}

// ---------------------------------------------------------------------------------------------
// Values

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` float32 values uniformly spread over [low, high), from `seed`. */
export function randomValues(count: number, seed: number, low = -1, high = 1): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = low + (high - low) * next();
  return out;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A weight named `name` of `shape` with seeded random values. */
export function randomWeight(name: string, shape: number[], seed: number, quantization?: Quantization): FixtureWeight {
  const weight: FixtureWeight = { name, shape, values: randomValues(elementCount(shape), seed) };
  if (quantization) weight.quantization = quantization;
  return weight;
}

// ---------------------------------------------------------------------------------------------
// Encodings

/** numpy's np.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** IEEE 754 binary16 bits of a number, rounded to nearest, ties to even (subnormals and infinities included). */
export function float16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  // 65504 is the largest half; halfway to the next binade (65520) rounds to even, i.e. to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal (1024 is the smallest normal, correctly)
  let exponent = Math.floor(Math.log2(a));
  while (2 ** exponent > a) exponent--;
  while (2 ** (exponent + 1) <= a) exponent++;
  let fraction = roundHalfEven((a / 2 ** exponent - 1) * 1024);
  if (fraction === 1024) {
    fraction = 0;
    exponent++;
  }
  return sign | ((exponent + 15) << 10) | fraction;
}

/** tfjs-converter's affine quantisation: min = min(values), scale = (max - min) / (2^bits - 1). */
export function quantizeAffine(values: Float32Array, bits: 8 | 16): { quantized: number[]; min: number; scale: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  const top = 2 ** bits - 1;
  const scale = max === min ? 1 : (max - min) / top;
  const quantized = Array.from(values, (v) => Math.min(top, Math.max(0, roundHalfEven((v - min) / scale))));
  return { quantized, min, scale };
}

/** The bytes and manifest entry of one weight. */
export function encodeWeight(weight: FixtureWeight): { bytes: Uint8Array; manifest: ManifestEntry } {
  const count = elementCount(weight.shape);
  if (weight.values.length !== count)
    throw new Error(`fixture weight ${weight.name}: ${weight.values.length} values for shape [${weight.shape}]`);
  const manifest: ManifestEntry = { name: weight.name, shape: [...weight.shape], dtype: 'float32' };
  switch (weight.quantization) {
    case undefined: {
      const bytes = new Uint8Array(count * 4);
      const view = new DataView(bytes.buffer);
      weight.values.forEach((v, i) => view.setFloat32(i * 4, v, true));
      return { bytes, manifest };
    }
    case 'float16': {
      const bytes = new Uint8Array(count * 2);
      const view = new DataView(bytes.buffer);
      weight.values.forEach((v, i) => view.setUint16(i * 2, float16Bits(v), true));
      manifest.quantization = { dtype: 'float16', original_dtype: 'float32' };
      return { bytes, manifest };
    }
    case 'uint8':
    case 'uint16':
      break;
  }
  const dtype = weight.quantization;
  const size = dtype === 'uint8' ? 1 : 2;
  const { quantized, min, scale } = quantizeAffine(weight.values, size === 1 ? 8 : 16);
  const bytes = new Uint8Array(count * size);
  const view = new DataView(bytes.buffer);
  quantized.forEach((q, i) => (size === 1 ? view.setUint8(i, q) : view.setUint16(i * 2, q, true)));
  manifest.quantization = { dtype, min, scale, original_dtype: 'float32' };
  return { bytes, manifest };
}

/** Byte offsets of the weights in the group's stream, in manifest order. */
export function planWeights(weights: readonly FixtureWeight[]): WeightPlan {
  let offset = 0;
  const placed = weights.map((weight): PlacedWeight => {
    const { bytes, manifest } = encodeWeight(weight);
    const entry = { name: weight.name, offset, byteLength: bytes.byteLength, manifest, bytes };
    offset += bytes.byteLength;
    return entry;
  });
  return { weights: placed, totalBytes: offset };
}

export function shardName(index: number, count: number): string {
  return `group1-shard${index + 1}of${count}.bin`;
}

/** Names of the shards a byte range [offset, offset + length) of the group's stream lies in. */
export function shardsTouched(offset: number, length: number, shardBytes: number, totalBytes: number): string[] {
  const count = Math.max(1, Math.ceil(totalBytes / shardBytes));
  const first = Math.floor(offset / shardBytes);
  const last = Math.floor((offset + Math.max(length, 1) - 1) / shardBytes);
  const names: string[] = [];
  for (let i = first; i <= last; i++) names.push(shardName(i, count));
  return names;
}

// ---------------------------------------------------------------------------------------------
// Layers

export type Inbound = string | string[] | null;

/** Keras 2 inbound_nodes: one node whose edges come from `sources`. */
export function keras2Inbound(sources: Inbound): unknown[] {
  if (sources === null) return [];
  const list = Array.isArray(sources) ? sources : [sources];
  return [list.map((source) => [source, 0, 0, {}])];
}

/** Keras 3 inbound_nodes: nodes whose args hold __keras_tensor__ objects with a keras_history. */
export function keras3Inbound(sources: Inbound): unknown[] {
  if (sources === null) return [];
  const tensor = (source: string) => ({
    class_name: '__keras_tensor__',
    config: { shape: [null, null, null, 3], dtype: 'float32', keras_history: [source, 0, 0] },
  });
  const args = Array.isArray(sources) ? [sources.map(tensor)] : [tensor(sources)];
  return [{ args, kwargs: {} }];
}

/** Any Keras layer with Keras 2 inbound nodes. */
export function kerasLayer(className: string, name: string, inbound: Inbound, config: Record<string, unknown> = {}): object {
  return { name, class_name: className, config: { name, trainable: true, dtype: 'float32', ...config }, inbound_nodes: keras2Inbound(inbound) };
}

export function inputLayer(name: string, shape: (number | null)[] = [null, null, null, 3]): object {
  return kerasLayer('InputLayer', name, null, { batch_input_shape: shape, sparse: false });
}

export function conv2dLayer(name: string, inbound: Inbound, kernel: [number, number], filters: number, strides: [number, number] = [1, 1]): object {
  return kerasLayer('Conv2D', name, inbound, {
    filters,
    kernel_size: kernel,
    strides,
    padding: 'valid',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: 'linear',
    use_bias: true,
  });
}

export function denseLayer(name: string, inbound: Inbound, units: number): object {
  return kerasLayer('Dense', name, inbound, { units, activation: 'linear', use_bias: true });
}

/** The same layer with its inbound_nodes replaced (e.g. by keras3Inbound). */
export function withInbound(layer: object, inboundNodes: unknown[]): object {
  return { ...layer, inbound_nodes: inboundNodes };
}

/** The same layer without inbound_nodes, as Sequential configs list them. */
export function withoutInbound(layer: object): object {
  const { inbound_nodes: _dropped, ...rest } = layer as Record<string, unknown>;
  return rest;
}

/** Kernel and bias weights of a Conv2D layer with `cin` input channels, seeded values. */
export function convWeights(name: string, kernel: [number, number], cin: number, filters: number, seed: number, quantization?: Quantization): FixtureWeight[] {
  return [randomWeight(`${name}/kernel`, [kernel[0], kernel[1], cin, filters], seed, quantization), randomWeight(`${name}/bias`, [filters], seed + 1)];
}

export function denseWeights(name: string, inputs: number, units: number, seed: number, quantization?: Quantization): FixtureWeight[] {
  return [randomWeight(`${name}/kernel`, [inputs, units], seed, quantization), randomWeight(`${name}/bias`, [units], seed + 1)];
}

// ---------------------------------------------------------------------------------------------
// Files

function layerName(layer: object): string {
  const record = layer as { name?: unknown; config?: { name?: unknown } };
  const name = typeof record.name === 'string' ? record.name : record.config?.name;
  if (typeof name !== 'string') throw new Error('fixture layer without a name');
  return name;
}

/** Writes model.json and its shards into `dir`; returns the URL of model.json. */
export async function writeTfjsModel(dir: URL, options: TfjsModelOptions): Promise<URL> {
  if (!Number.isSafeInteger(options.shardBytes) || options.shardBytes <= 0) throw new Error('fixture: shardBytes must be a positive integer');
  const folder = dir.href.endsWith('/') ? dir : new URL(`${dir.href}/`);
  await mkdir(folder, { recursive: true });
  const plan = planWeights(options.weights);
  const stream = new Uint8Array(plan.totalBytes);
  for (const weight of plan.weights) stream.set(weight.bytes, weight.offset);
  const count = Math.max(1, Math.ceil(plan.totalBytes / options.shardBytes));
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = shardName(i, count);
    paths.push(name);
    await writeFile(new URL(name, folder), stream.subarray(i * options.shardBytes, Math.min(plan.totalBytes, (i + 1) * options.shardBytes)));
  }
  const className = options.className ?? 'Model';
  const last = options.layers.length > 0 ? layerName(options.layers[options.layers.length - 1]!) : undefined;
  const config =
    className === 'Sequential'
      ? { name: 'm', layers: options.layers }
      : {
          name: 'm',
          layers: options.layers,
          input_layers: options.inputLayers.map((name) => [name, 0, 0]),
          output_layers: (options.outputLayers ?? (last ? [last] : [])).map((name) => [name, 0, 0]),
        };
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: 'test',
    convertedBy: 'test',
    modelTopology: { keras_version: '2.2.4', backend: 'tensorflow', model_config: { class_name: className, config } },
    weightsManifest: [{ paths, weights: plan.weights.map((weight) => weight.manifest) }],
  };
  options.editModelJson?.(json);
  const modelJson = new URL(options.modelJsonName ?? 'model.json', folder);
  await writeFile(modelJson, JSON.stringify(json));
  return modelJson;
}

/** Temporary folders under os.tmpdir(), removed by cleanup() (call it from afterEach/afterAll). */
export class TempDirs {
  private readonly made: string[] = [];

  /** A new empty folder, as a file URL with a trailing slash. */
  async make(prefix = 'conv1-test-'): Promise<URL> {
    const path = await mkdtemp(join(tmpdir(), prefix));
    this.made.push(path);
    return pathToFileURL(`${path}/`);
  }

  async cleanup(): Promise<void> {
    const paths = this.made.splice(0);
    await Promise.all(paths.map((path) => rm(path, { recursive: true, force: true })));
  }
}

// ---------------------------------------------------------------------------------------------
// Graph models

/** One GraphDef node as tensorflowjs_converter writes it into model.json. */
export interface GraphNodeJson {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

export interface GraphModelJson extends Omit<ModelJson, 'modelTopology'> {
  modelTopology: { node: GraphNodeJson[]; library: object; versions: object };
}

export interface TfjsGraphModelOptions {
  nodes: GraphNodeJson[];
  /** Values of the Const nodes, named like them, in manifest order. */
  weights: FixtureWeight[];
  /** Size of every shard but the last, in bytes. */
  shardBytes: number;
  modelJsonName?: string;
  editModelJson?: (json: GraphModelJson) => void;
}

/** GraphDef JSON keeps string attributes as base64 of their bytes. */
function stringAttr(value: string): { s: string } {
  return { s: Buffer.from(value, 'latin1').toString('base64') };
}

function shapeAttr(shape: readonly number[]): { dim: { size: string }[] } {
  return { dim: shape.map((size) => ({ size: String(size) })) };
}

export function placeholderNode(name: string, shape: readonly number[] = [-1, -1, -1, 3]): GraphNodeJson {
  return { name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shapeAttr(shape) } } };
}

/** A Const whose values live in the manifest (the converter keeps only dtype and shape in the node). */
export function constNode(name: string, shape: readonly number[]): GraphNodeJson {
  return { name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shapeAttr(shape) } } } };
}

/** Any op with the given inputs (e.g. Identity, Relu, ConcatV2); `attr` as the GraphDef has it. */
export function opNode(op: string, name: string, input: string[], attr: Record<string, unknown> = {}): GraphNodeJson {
  return { name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } };
}

export type GraphConvOp = 'Conv2D' | '_FusedConv2D' | 'DepthwiseConv2dNative' | 'FusedDepthwiseConv2dNative';

export interface GraphConvOptions {
  /** Height and width strides. */
  strides?: [number, number];
  dataFormat?: 'NHWC' | 'NCHW';
  /** Extra inputs after data and filter: the bias of a fused op, control inputs (^name). */
  extraInputs?: string[];
}

/** A convolution node with the attributes the converter writes; fused ops get a BiasAdd. */
export function convNode(op: GraphConvOp, name: string, data: string, filter: string, options: GraphConvOptions = {}): GraphNodeJson {
  const [sh, sw] = options.strides ?? [1, 1];
  const format = options.dataFormat ?? 'NHWC';
  const strides = format === 'NHWC' ? [1, sh, sw, 1] : [1, 1, sh, sw];
  const attr: Record<string, unknown> = {
    strides: { list: { i: strides.map(String) } },
    data_format: stringAttr(format),
    padding: stringAttr('SAME'),
    dilations: { list: { i: ['1', '1', '1', '1'] } },
    explicit_paddings: { list: {} },
  };
  if (op.startsWith('_Fused') || op.startsWith('Fused')) Object.assign(attr, { fused_ops: { list: { s: [stringAttr('BiasAdd').s] } }, num_args: { i: '1' }, epsilon: { f: 0 } });
  return opNode(op, name, [data, filter, ...(options.extraInputs ?? [])], attr);
}

/**
 * Writes a graph model.json and its shards into `dir`; returns the URL of model.json. The weights
 * part is the layers writer's (same encoding, quantisation and shard cut); only the topology differs.
 */
export async function writeTfjsGraphModel(dir: URL, options: TfjsGraphModelOptions): Promise<URL> {
  return writeTfjsModel(dir, {
    layers: [],
    inputLayers: [],
    weights: options.weights,
    shardBytes: options.shardBytes,
    ...(options.modelJsonName ? { modelJsonName: options.modelJsonName } : {}),
    editModelJson: (json) => {
      const graph = json as unknown as GraphModelJson;
      graph.format = 'graph-model';
      graph.modelTopology = { node: options.nodes, library: {}, versions: { producer: 1395 } };
      options.editModelJson?.(graph);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Bare weights manifests

/** One weight as a weights manifest lists it (tfjs-core's WeightsManifestEntry). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: ManifestQuantization;
}

export interface WeightGroupSpec {
  /** The group's weights in manifest order, and their bytes as one stream. */
  weights: WeightSpec[];
  bytes: Uint8Array;
  /** Size of every shard but the last, in bytes. */
  shardBytes: number;
}

/**
 * Writes a weights manifest without a topology, as tf.io and tensorflowjs_converter write it beside
 * the weights: a JSON list of { paths, weights } groups, group g's stream cut into
 * group<g>-shard<i>of<n>.bin. Returns the manifest's URL and each group's shard names.
 */
export async function writeWeightsManifest(dir: URL, groups: WeightGroupSpec[], name = 'weights_manifest.json'): Promise<{ url: URL; paths: string[][] }> {
  const folder = dir.href.endsWith('/') ? dir : new URL(`${dir.href}/`);
  await mkdir(folder, { recursive: true });
  const paths: string[][] = [];
  for (const [g, group] of groups.entries()) {
    const count = Math.max(1, Math.ceil(group.bytes.length / group.shardBytes));
    const names = Array.from({ length: count }, (_, i) => `group${g + 1}-shard${i + 1}of${count}.bin`);
    for (const [i, shard] of names.entries()) await writeFile(new URL(shard, folder), group.bytes.subarray(i * group.shardBytes, Math.min(group.bytes.length, (i + 1) * group.shardBytes)));
    paths.push(names);
  }
  const url = new URL(name, folder);
  await writeFile(url, JSON.stringify(groups.map((group, g) => ({ paths: paths[g], weights: group.weights }))));
  return { url, paths };
}
