import { Conv1Error } from '../errors.ts';
import { checkRelativeName, type ModelFiles } from '../sources/model-files.ts';
import { decodeLittleEndian } from './dtypes.ts';

/**
 * What the TensorFlow.js layers and graph readers share: the weights manifest of model.json and
 * TensorFlow's kernel layouts. One weight is located by offset arithmetic and read as one byte
 * range, which may span two shards; no other shard is read, and every size is checked before
 * anything is allocated. Loops over every weight use indices, for the reason tfjs-layers.ts gives.
 */

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1, complex64: 8 };

export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number; original_dtype?: string };
}
export interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
  /** Where each weight starts in the group's byte stream, then where the stream ends. */
  offsets: number[];
}
export interface LocatedWeight {
  group: ManifestGroup;
  weight: ManifestWeight;
  /** Byte offset of the weight in its group's stream. */
  offset: number;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The HWIO shape of a TensorFlow convolution kernel. A depthwise kernel [kh, kw, cin, m] gives
 * every input channel m single-channel filters; in memory that is already HWIO with one input
 * channel and cin·m filters, so only the shape changes.
 */
export function kernelShapeAsHwio(shape: [number, number, number, number], depthwise: boolean): [number, number, number, number] {
  const [kh, kw, cin, multiplier] = shape;
  return depthwise ? [kh, kw, 1, cin * multiplier] : [kh, kw, cin, multiplier];
}

/** Validates `weightsManifest` (paths, shapes, dtypes, unique names) and locates each weight in its group's byte stream. */
export function checkWeightsManifest(manifest: unknown[], label: string, fail: (reason: string) => Conv1Error): ManifestGroup[] {
  const groups = manifest.map((group, g) => checkGroup(group, g, label, fail));
  const seen = new Set<string>();
  for (const { weights } of groups)
    for (let w = 0; w < weights.length; w++) {
      const { name } = weights[w]!;
      if (seen.has(name)) throw fail(`lists the weight "${name}" twice in its weightsManifest`);
      seen.add(name);
    }
  return groups;
}

export function locateWeight(groups: readonly ManifestGroup[], name: string): LocatedWeight | undefined {
  for (const group of groups)
    for (let w = 0; w < group.weights.length; w++) if (group.weights[w]!.name === name) return { group, weight: group.weights[w]!, offset: group.offsets[w]! };
  return undefined;
}

/** Reads a float or quantised weight as float32, dequantised exactly as tfjs does. */
export async function readFloatWeight(files: ModelFiles, { group, weight, offset }: LocatedWeight): Promise<Float32Array> {
  const elements = elementCount(weight.shape);
  const storedType = weight.quantization?.dtype ?? weight.dtype;
  if (storedType !== 'float32' && storedType !== 'float16' && storedType !== 'uint8' && storedType !== 'uint16')
    throw new Conv1Error(files.label, `stores the kernel "${weight.name}" as ${storedType}, which is not a floating-point or quantised encoding`, 'Convert the model with float32 weights.');
  const q = weight.quantization;
  if (q && q.dtype !== 'float16' && (typeof q.min !== 'number' || typeof q.scale !== 'number' || !Number.isFinite(q.min) || !Number.isFinite(q.scale)))
    throw new Conv1Error(files.label, `quantises "${weight.name}" to ${q.dtype} without a numeric min and scale`, 'The manifest is damaged; convert the model again.');
  // tfjs only quantises float32 weights to float16; anything else is a damaged or foreign manifest.
  if (q?.dtype === 'float16' && weight.dtype !== 'float32')
    throw new Conv1Error(files.label, `quantises "${weight.name}" (${weight.dtype}) to float16, which tfjs allows only for float32 weights`, 'The manifest is damaged; convert the model again.');
  const bytes = await readGroupRange(files, group, offset, elements * BYTES_PER_ELEMENT[storedType]!);
  const values = decodeLittleEndian(bytes, storedType);
  if (q && q.dtype !== 'float16') {
    const { min, scale } = q as { min: number; scale: number };
    // As tfjs: q * scale + min in double precision, rounded once to float32 by the store.
    for (let i = 0; i < values.length; i++) values[i] = values[i]! * scale + min;
  }
  return values;
}

/**
 * A group's paths are one byte stream cut into shards of equal size (only the last may be
 * shorter). The first shard's size gives the cut; every shard a read touches is checked against
 * the size the manifest implies, so a truncated or padded shard is an error, not wrong numbers.
 */
async function readGroupRange(files: ModelFiles, group: ManifestGroup, offset: number, length: number): Promise<Uint8Array> {
  const total = group.offsets[group.weights.length]!;
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

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (let d = 0; d < shape.length; d++) count *= shape[d]!;
  return count;
}

function isDimension(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 2 ** 31;
}

/** Checks one group; each weight's offset follows from the shapes and dtypes checked before it. */
function checkGroup(group: unknown, g: number, label: string, fail: (reason: string) => Conv1Error): ManifestGroup {
  if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights) || group.paths.length === 0)
    throw fail(`has a malformed weightsManifest group ${g}`);
  const { paths, weights } = group;
  for (let p = 0; p < paths.length; p++) {
    const path: unknown = paths[p];
    if (typeof path !== 'string') throw fail(`has a non-string path in weightsManifest group ${g}`);
    checkRelativeName(path, label);
  }
  const offsets = [0];
  for (let w = 0; w < weights.length; w++) {
    const weight: unknown = weights[w];
    if (!isRecord(weight) || typeof weight.name !== 'string' || weight.name === '__proto__') throw fail(`has a malformed weight in weightsManifest group ${g}`);
    const { shape } = weight;
    if (!Array.isArray(shape) || !shape.every(isDimension))
      throw fail(`gives "${weight.name}" the shape ${JSON.stringify(shape)}; dimensions must be non-negative integers`);
    const stored = isRecord(weight.quantization) ? weight.quantization.dtype : weight.dtype;
    // hasOwn, not `in`: a dtype such as "constructor" must not find Object.prototype's members.
    if (typeof stored !== 'string' || !Object.hasOwn(BYTES_PER_ELEMENT, stored) || (stored === 'complex64' && isRecord(weight.quantization)))
      throw fail(`stores "${weight.name}" as ${JSON.stringify(stored)}, a dtype this reader does not know`);
    offsets.push(offsets[w]! + elementCount(shape) * BYTES_PER_ELEMENT[stored]!);
  }
  return { paths, weights, offsets };
}
