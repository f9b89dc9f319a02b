/**
 * safetensors files written for tests, byte by byte: an 8-byte little-endian header length, the
 * JSON header padded with spaces to a multiple of 8 (as the reference writer does), then the
 * tensors' data in the order given. Header keys are written in the order given too, so a test can
 * list a deeper convolution first.
 */
import { writeFile } from 'node:fs/promises';
import { float16Bits } from './tfjs-fixture.ts';

export type FloatDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsTensor {
  name: string;
  shape: number[];
  /** F32, F16 or BF16 with `values`; any other dtype needs `bytes`. */
  dtype?: string;
  values?: Float32Array;
  bytes?: Uint8Array;
}

export interface SafetensorsFile {
  bytes: Uint8Array;
  /** N, the header's length in bytes (after the 8-byte length field). */
  headerLength: number;
  /** Offset of the data section, 8 + N. */
  dataStart: number;
  /** [begin, end) of each tensor within the data section. */
  offsets: Map<string, [number, number]>;
}

export interface SafetensorsOptions {
  metadata?: Record<string, string>;
  /** Last chance to alter the header object before it is serialised (e.g. to break it on purpose). */
  editHeader?: (header: Record<string, unknown>) => void;
}

/** bfloat16 bits of a number: float32 rounded to its upper 16 bits, nearest, ties to even. */
export function bfloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The little-endian bytes of `values` in a float dtype. */
export function encodeFloats(values: Float32Array, dtype: FloatDtype): Uint8Array {
  const size = dtype === 'F32' ? 4 : 2;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    if (dtype === 'F32') view.setFloat32(i * 4, v, true);
    else view.setUint16(i * 2, dtype === 'F16' ? float16Bits(v) : bfloat16Bits(v), true);
  });
  return bytes;
}

/** HWIO values (as tfjs and Kernel hold them) reordered to OIHW (as PyTorch and ONNX store them). */
export function hwioToOihw(values: Float32Array, [h, w, i, o]: readonly [number, number, number, number]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < i; c++) for (let f = 0; f < o; f++) out[((f * i + c) * h + y) * w + x] = values[((y * w + x) * i + c) * o + f]!;
  return out;
}

export function encodeSafetensors(tensors: readonly SafetensorsTensor[], options: SafetensorsOptions = {}): SafetensorsFile {
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  const offsets = new Map<string, [number, number]>();
  const data: Uint8Array[] = [];
  let at = 0;
  for (const tensor of tensors) {
    const dtype = tensor.dtype ?? 'F32';
    const bytes = tensor.bytes ?? encodeFloats(tensor.values ?? new Float32Array(0), dtype as FloatDtype);
    header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [at, at + bytes.length] };
    offsets.set(tensor.name, [at, at + bytes.length]);
    data.push(bytes);
    at += bytes.length;
  }
  options.editHeader?.(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  out.set(json, 8);
  let position = 8 + headerLength;
  for (const bytes of data) {
    out.set(bytes, position);
    position += bytes.length;
  }
  return { bytes: out, headerLength, dataStart: 8 + headerLength, offsets };
}

/** Writes the file to `url` and returns its layout. */
export async function writeSafetensors(url: URL, tensors: readonly SafetensorsTensor[], options: SafetensorsOptions = {}): Promise<SafetensorsFile> {
  const file = encodeSafetensors(tensors, options);
  await writeFile(url, file.bytes);
  return file;
}

/** `rest` behind an 8-byte little-endian header length of `length`, whatever `rest` really holds. */
export function withHeaderLength(length: bigint, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + rest.length);
  new DataView(out.buffer).setBigUint64(0, length, true);
  out.set(rest, 8);
  return out;
}
