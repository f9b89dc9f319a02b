/**
 * ONNX models written for tests with a minimal protobuf encoder: ModelProto, GraphProto,
 * NodeProto, TensorProto and the few nested messages the reader looks at, field numbers as in
 * onnx/onnx.proto. Fields are emitted in field-number order, as protobuf libraries do.
 */
import { writeFile } from 'node:fs/promises';
import { float16Bits } from './tfjs-fixture.ts';
import { bfloat16Bits } from './safetensors-fixture.ts';

// ---------------------------------------------------------------------------------------------
// Wire format

/** A varint; negative numbers as 64-bit two's complement, as int32/int64 fields store them. */
export function varint(value: number | bigint): Uint8Array {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Uint8Array.from(out);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function tag(field: number, wireType: 0 | 1 | 2 | 5): Uint8Array {
  return varint(field * 8 + wireType);
}

export function varintField(field: number, value: number | bigint): Uint8Array {
  return concat(tag(field, 0), varint(value));
}

export function bytesField(field: number, bytes: Uint8Array): Uint8Array {
  return concat(tag(field, 2), varint(bytes.length), bytes);
}

export function stringField(field: number, text: string): Uint8Array {
  return bytesField(field, new TextEncoder().encode(text));
}

export function fixed32Field(field: number, value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return concat(tag(field, 5), bytes);
}

// ---------------------------------------------------------------------------------------------
// Messages

export const FLOAT = 1;
export const FLOAT16 = 10;
export const DOUBLE = 11;
export const BFLOAT16 = 16;

export interface TensorSpec {
  name: string;
  dims: number[];
  /** TensorProto.DataType; FLOAT by default. */
  dataType?: number;
  values?: Float32Array;
  /**
   * Where the values go: raw_data (default), packed float_data, float_data as one field per value,
   * int32_data (16-bit patterns), or nowhere (when `external` or `extra` provides them).
   */
  storage?: 'raw' | 'float_data' | 'float_data_unpacked' | 'int32_data' | 'none';
  /** external_data entries in order, e.g. [['location', 'weights.bin'], ['offset', '0']]; sets data_location EXTERNAL unless `dataLocation` says otherwise. */
  external?: [string, string][];
  dataLocation?: number;
  /** Further encoded fields appended to the message. */
  extra?: Uint8Array;
}

/** The bytes a FLOAT, FLOAT16 or BFLOAT16 tensor's values take in raw_data or external data. */
export function encodeValues(values: Float32Array, dataType = FLOAT): Uint8Array {
  const size = dataType === FLOAT ? 4 : 2;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    if (dataType === FLOAT) view.setFloat32(i * 4, v, true);
    else view.setUint16(i * 2, dataType === FLOAT16 ? float16Bits(v) : bfloat16Bits(v), true);
  });
  return bytes;
}

function halfBits(values: Float32Array, dataType: number): number[] {
  return Array.from(values, (v) => (dataType === FLOAT16 ? float16Bits(v) : bfloat16Bits(v)));
}

export function tensorProto(spec: TensorSpec): Uint8Array {
  const dataType = spec.dataType ?? FLOAT;
  const values = spec.values ?? new Float32Array(0);
  const storage = spec.storage ?? (spec.external ? 'none' : 'raw');
  const parts = [...spec.dims.map((d) => varintField(1, d)), varintField(2, dataType)];
  if (storage === 'float_data') parts.push(bytesField(4, encodeValues(values, FLOAT)));
  if (storage === 'float_data_unpacked') parts.push(...Array.from(values, (v) => fixed32Field(4, v)));
  if (storage === 'int32_data') parts.push(bytesField(5, concat(...halfBits(values, dataType).map((bits) => varint(bits)))));
  parts.push(stringField(8, spec.name));
  if (storage === 'raw') parts.push(bytesField(9, encodeValues(values, dataType)));
  for (const [key, value] of spec.external ?? []) parts.push(bytesField(13, concat(stringField(1, key), stringField(2, value))));
  const location = spec.dataLocation ?? (spec.external ? 1 : 0);
  if (location !== 0) parts.push(varintField(14, location));
  if (spec.extra) parts.push(spec.extra);
  return concat(...parts);
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** INT (a number) and INTS (an array) attributes. */
  attributes?: Record<string, number | number[]>;
}

function attributeProto(name: string, value: number | number[]): Uint8Array {
  // AttributeProto.type: INT 2, INTS 7.
  return Array.isArray(value)
    ? concat(stringField(1, name), bytesField(8, concat(...value.map((v) => varint(v)))), varintField(20, 7))
    : concat(stringField(1, name), varintField(3, value), varintField(20, 2));
}

export function nodeProto(spec: NodeSpec): Uint8Array {
  return concat(
    ...spec.inputs.map((input) => stringField(1, input)),
    ...spec.outputs.map((output) => stringField(2, output)),
    ...(spec.name !== undefined ? [stringField(3, spec.name)] : []),
    stringField(4, spec.opType),
    ...Object.entries(spec.attributes ?? {}).map(([name, value]) => bytesField(5, attributeProto(name, value))),
    ...(spec.domain !== undefined ? [stringField(7, spec.domain)] : []),
  );
}

/** A ValueInfoProto with a float tensor type of unknown shape. */
export function valueInfoProto(name: string): Uint8Array {
  const tensorType = bytesField(1, varintField(1, FLOAT)); // TypeProto.tensor_type { elem_type }
  return concat(stringField(1, name), bytesField(2, tensorType));
}

export interface GraphSpec {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  /** Graph input names; by default the names that are consumed but neither produced nor initializers. */
  inputs?: string[];
  outputs?: string[];
}

export function graphProto(spec: GraphSpec): Uint8Array {
  const produced = new Set(spec.nodes.flatMap((node) => node.outputs));
  const initialized = new Set(spec.initializers.map((tensor) => tensor.name));
  const inputs = spec.inputs ?? [...new Set(spec.nodes.flatMap((node) => node.inputs))].filter((name) => name !== '' && !produced.has(name) && !initialized.has(name));
  const outputs = spec.outputs ?? spec.nodes.slice(-1).flatMap((node) => node.outputs);
  return concat(
    ...spec.nodes.map((node) => bytesField(1, nodeProto(node))),
    stringField(2, 'test-graph'),
    ...spec.initializers.map((tensor) => bytesField(5, tensorProto(tensor))),
    ...inputs.map((name) => bytesField(11, valueInfoProto(name))),
    ...outputs.map((name) => bytesField(12, valueInfoProto(name))),
  );
}

export function modelProto(graph: Uint8Array, irVersion = 8): Uint8Array {
  const opset = concat(stringField(1, ''), varintField(2, 17)); // OperatorSetIdProto { domain, version }
  return concat(varintField(1, irVersion), stringField(2, 'astro-conv1-test'), stringField(3, '1.0'), bytesField(7, graph), bytesField(8, opset));
}

/** Writes model.onnx (and any `files` beside it) into `dir`; returns the model's URL and bytes. */
export async function writeOnnxModel(dir: URL, graph: GraphSpec, options: { files?: Record<string, Uint8Array>; name?: string; edit?: (bytes: Uint8Array) => Uint8Array } = {}): Promise<{ url: URL; bytes: Uint8Array }> {
  const model = modelProto(graphProto(graph));
  const bytes = options.edit ? options.edit(model) : model;
  const url = new URL(options.name ?? 'model.onnx', dir);
  await writeFile(url, bytes);
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(new URL(name, dir), content);
  return { url, bytes };
}
