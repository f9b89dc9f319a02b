import { Conv1Error } from '../errors.ts';
import { oihwToHwio } from '../kernel.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import { decodeLittleEndian } from './dtypes.ts';
import type { ConvLayer, FormatReader, OpenedModel } from './format.ts';
import {
  ChunkedSource,
  MAX_FIELD_HEADER_BYTES,
  ProtobufError,
  ProtoReader,
  ProtoStream,
  readFieldHeader,
  readPackedSigned,
  signedValue,
  unsignedValue,
  WireType,
  type FieldHeader,
} from './protobuf.ts';

/**
 * ONNX ModelProto (onnx/onnx.proto). The model file is walked as a protobuf stream: node and input
 * messages are decoded, but of each initializer only its name, dims, type and where its data lies
 * are kept, so large inline weights are skipped, not read. The first convolution is the first
 * Conv a breadth-first walk from the graph's inputs reaches; its weight is the initializer named
 * by its input 1 (through Identity nodes), read as one range from the model file or from its
 * external data file. Bytes read: the model's structure in chunks of CHUNK_BYTES (the whole .onnx
 * when it is small or holds only external references) plus the kernel.
 */

/** Reads of the model file's structure go in chunks of this size; a larger field is skipped without reading. */
const CHUNK_BYTES = 64 * 1024;
/** Names, nodes and tensor descriptions held in memory, in total: more is not a model we should trust. */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;
/** One string or small message read whole (a name, an attribute, external_data). */
const MAX_FIELD_BYTES = 16 * 1024 * 1024;

const GRAPH = 7; // ModelProto.graph
const GraphField = { node: 1, initializer: 5, input: 11 } as const;
const NodeField = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const AttributeField = { name: 1, i: 3, ints: 8 } as const;
const TensorField = {
  dims: 1, dataType: 2, segment: 3, floatData: 4, int32Data: 5, stringData: 6, int64Data: 7, name: 8,
  rawData: 9, doubleData: 10, uint64Data: 11, externalData: 13, dataLocation: 14,
} as const;
const EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL

/** TensorProto.DataType names, by value, for messages. */
const DATA_TYPES = [
  'UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32',
  'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16', 'FLOAT8E4M3FN', 'FLOAT8E4M3FNUZ', 'FLOAT8E5M2', 'FLOAT8E5M2FNUZ', 'UINT4',
  'INT4', 'FLOAT4E2M1', 'FLOAT8E8M0',
];
interface KernelType {
  dtype: 'float32' | 'float16' | 'bfloat16';
  bytes: number;
}
const KERNEL_TYPES = new Map<number, KernelType>([
  [1, { dtype: 'float32', bytes: 4 }],
  [10, { dtype: 'float16', bytes: 2 }],
  [16, { dtype: 'bfloat16', bytes: 2 }],
]);

/** ModelProto fields with their wire types; writers emit them in field order, ir_version first. */
const MODEL_FIELDS = new Map<number, WireType>([
  [1, WireType.Varint], [2, WireType.LengthDelimited], [3, WireType.LengthDelimited], [4, WireType.LengthDelimited],
  [5, WireType.Varint], [6, WireType.LengthDelimited], [7, WireType.LengthDelimited], [8, WireType.LengthDelimited],
  [14, WireType.LengthDelimited], [20, WireType.LengthDelimited], [25, WireType.LengthDelimited], [26, WireType.LengthDelimited],
]);
/** producer_name, producer_version, domain, doc_string. */
const MODEL_TEXT_FIELDS = new Set([2, 3, 4, 6]);
/** ONNX IR versions run from 1 (2017) to 11 (2025); leave room for a few more. */
const MAX_IR_VERSION = 32;

interface Span {
  offset: number;
  length: number;
}

interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Span;
  /** Little-endian float32 bytes: one span if packed, one per value if not. */
  floatData: Span[];
  /** Varint bytes, packed or not: concatenated they decode as one packed field. */
  int32Data: Span[];
  /** Other typed value fields present (int64_data, double_data, ...), by name, for messages. */
  otherData: Set<string>;
  externalData: [key: string, value: string][];
  dataLocation: number;
  segmented: boolean;
}

interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Where each AttributeProto lies; only a convolution's are decoded. */
  attributes: Span[];
}

interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
}

interface OnnxConv extends ConvLayer {
  /** Name of the initializer that holds the kernel, OIHW. */
  weight: string;
}

/** Reading state shared by the parse: the model file in chunks, and the memory held so far. */
interface Context {
  files: ModelFiles;
  source: ChunkedSource;
  held: number;
}

export const onnxReader: FormatReader = {
  format: 'onnx',
  extensions: ['.onnx'],
  detect: looksLikeOnnx,
  async open(files) {
    try {
      return await openOnnx(files);
    } catch (error) {
      if (error instanceof ProtobufError)
        throw new Conv1Error(
          files.label,
          `is not a well-formed ONNX protobuf: ${error.message} at byte ${error.offset}`,
          'The file is truncated or damaged; download or export the model again.',
          { cause: error },
        );
      throw error;
    }
  },
};

/**
 * ONNX has no magic number. A ModelProto starts with ir_version (field 1, a varint) and continues
 * with ModelProto fields in ascending order; the head must parse that way, with readable text in
 * the string fields it shows. A field cut off by the end of the head is given the benefit of the
 * doubt; the `.onnx` extension settles ties with other formats.
 */
export function looksLikeOnnx(head: Uint8Array): boolean {
  if (head[0] !== 0x08) return false;
  let previous = 0;
  for (let index = 0; index < head.length; ) {
    let header: FieldHeader;
    try {
      header = readFieldHeader(head, index, 0, Number.MAX_SAFE_INTEGER);
    } catch {
      return head.length - index < MAX_FIELD_HEADER_BYTES && previous > 0;
    }
    if (MODEL_FIELDS.get(header.field) !== header.wireType || header.field < previous) return false;
    if (header.field === 1 && (previous !== 0 || header.value < 1n || header.value > BigInt(MAX_IR_VERSION))) return false;
    if (MODEL_TEXT_FIELDS.has(header.field) && head.subarray(header.start, header.end).some((byte) => byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d))
      return false;
    previous = header.field;
    index = header.end;
  }
  return true;
}

async function openOnnx(files: ModelFiles): Promise<OpenedModel> {
  const size = await files.size(files.main);
  const context: Context = { files, source: new ChunkedSource((offset, length) => files.read(files.main, offset, length), size, CHUNK_BYTES), held: 0 };
  const graph = await parseModel(context);
  const convolutions = await listConvolutions(context, graph);
  const layerNames = new Set([...graph.nodes.map((node) => node.name).filter((name) => name !== ''), ...convolutions.map((conv) => conv.name)]);
  return {
    format: 'onnx',
    convolutions,
    layerNames,
    defaultChannels: 'rgb',
    async readKernel(conv) {
      const { weight } = conv as OnnxConv;
      const tensor = graph.initializers.get(weight)!;
      const type = KERNEL_TYPES.get(tensor.dataType);
      if (!type)
        throw new Conv1Error(
          files.label,
          `stores the weight "${weight}" of convolution "${conv.name}" as ${DATA_TYPES[tensor.dataType] ?? `data type ${tensor.dataType}`}, but astro-conv1 draws only FLOAT, FLOAT16 and BFLOAT16 weights`,
          'Export the model with floating-point weights, or choose another convolution with the `layer` option.',
        );
      const bytes = await readTensorBytes(context, tensor, type);
      return oihwToHwio(decodeLittleEndian(bytes, type.dtype), tensor.dims as [number, number, number, number]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Parsing

async function parseModel(context: Context): Promise<OnnxGraph> {
  let graph: OnnxGraph | undefined;
  const model = new ProtoStream(context.source, 0, context.source.size);
  for await (const field of model.fields()) {
    if (field.field !== GRAPH) continue;
    if (graph) throw new ProtobufError('ModelProto holds two graphs', field.start);
    graph = await parseGraph(context, model.nested(expectLength(field, 'ModelProto.graph')));
  }
  if (!graph)
    throw new Conv1Error(context.files.label, 'is an ONNX model without a graph', 'The file holds no network (perhaps only functions or training info); export the model again.');
  return graph;
}

async function parseGraph(context: Context, graph: ProtoStream): Promise<OnnxGraph> {
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxTensor>();
  const inputs: string[] = [];
  for await (const field of graph.fields()) {
    if (field.field === GraphField.node) nodes.push(await parseNode(context, graph.nested(expectLength(field, 'GraphProto.node'))));
    else if (field.field === GraphField.initializer) {
      const tensor = await parseTensor(context, graph.nested(expectLength(field, 'GraphProto.initializer')));
      if (initializers.has(tensor.name))
        throw new Conv1Error(context.files.label, `has two initializers named "${tensor.name}"`, 'Initializer names must be unique (onnx.checker refuses this model); export it again.');
      initializers.set(tensor.name, tensor);
    } else if (field.field === GraphField.input) {
      const input = graph.nested(expectLength(field, 'GraphProto.input'));
      for await (const inner of input.fields()) if (inner.field === 1) inputs.push(await readString(context, input, inner, 'ValueInfoProto.name'));
    }
  }
  return { nodes, initializers, inputs };
}

async function parseNode(context: Context, node: ProtoStream): Promise<OnnxNode> {
  const parsed: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  for await (const field of node.fields()) {
    switch (field.field) {
      case NodeField.input:
        parsed.inputs.push(await readString(context, node, field, 'NodeProto.input'));
        break;
      case NodeField.output:
        parsed.outputs.push(await readString(context, node, field, 'NodeProto.output'));
        break;
      case NodeField.name:
        parsed.name = await readString(context, node, field, 'NodeProto.name');
        break;
      case NodeField.opType:
        parsed.opType = await readString(context, node, field, 'NodeProto.op_type');
        break;
      case NodeField.domain:
        parsed.domain = await readString(context, node, field, 'NodeProto.domain');
        break;
      case NodeField.attribute:
        expectLength(field, 'NodeProto.attribute');
        parsed.attributes.push({ offset: field.start, length: field.end - field.start });
        hold(context, 16, field);
    }
  }
  return parsed;
}

async function parseTensor(context: Context, tensor: ProtoStream): Promise<OnnxTensor> {
  const parsed: OnnxTensor = { name: '', dims: [], dataType: 0, floatData: [], int32Data: [], otherData: new Set(), externalData: [], dataLocation: 0, segmented: false };
  const span = (field: FieldHeader): Span => {
    hold(context, 16, field);
    return { offset: field.start, length: field.end - field.start };
  };
  for await (const field of tensor.fields()) {
    switch (field.field) {
      case TensorField.dims:
        if (field.wireType === WireType.Varint) parsed.dims.push(signedValue(field.value, field.start));
        else parsed.dims.push(...readPackedSigned(await tensor.payload(expectLength(field, 'TensorProto.dims'), MAX_FIELD_BYTES), field.start));
        hold(context, 8, field);
        break;
      case TensorField.dataType:
        parsed.dataType = unsignedValue(expectWire(field, WireType.Varint, 'TensorProto.data_type'));
        break;
      case TensorField.segment:
        parsed.segmented = true;
        break;
      case TensorField.floatData:
        if (field.wireType !== WireType.Fixed32) expectLength(field, 'TensorProto.float_data');
        parsed.floatData.push(span(field));
        break;
      case TensorField.int32Data:
        if (field.wireType !== WireType.Varint) expectLength(field, 'TensorProto.int32_data');
        parsed.int32Data.push(span(field));
        break;
      case TensorField.stringData:
        parsed.otherData.add('string_data');
        break;
      case TensorField.int64Data:
        parsed.otherData.add('int64_data');
        break;
      case TensorField.doubleData:
        parsed.otherData.add('double_data');
        break;
      case TensorField.uint64Data:
        parsed.otherData.add('uint64_data');
        break;
      case TensorField.name:
        parsed.name = await readString(context, tensor, field, 'TensorProto.name');
        break;
      case TensorField.rawData:
        parsed.rawData = span(expectLength(field, 'TensorProto.raw_data'));
        break;
      case TensorField.externalData: {
        const entry = new ProtoReader(await tensor.payload(expectLength(field, 'TensorProto.external_data'), MAX_FIELD_BYTES), field.start);
        let key = '';
        let value = '';
        for (const inner of entry.fields()) {
          if (inner.field === 1) key = entry.string(expectLength(inner, 'StringStringEntryProto.key'));
          else if (inner.field === 2) value = entry.string(expectLength(inner, 'StringStringEntryProto.value'));
        }
        hold(context, key.length + value.length, field);
        parsed.externalData.push([key, value]);
        break;
      }
      case TensorField.dataLocation:
        parsed.dataLocation = unsignedValue(expectWire(field, WireType.Varint, 'TensorProto.data_location'));
        break;
    }
  }
  return parsed;
}

/** Decodes a convolution's INT and INTS attributes (strides, pads, group, dilations, ...). */
async function readIntAttributes(context: Context, node: OnnxNode): Promise<Map<string, number[]>> {
  const attributes = new Map<string, number[]>();
  for (const { offset, length } of node.attributes) {
    if (length > MAX_FIELD_BYTES) continue; // a tensor- or graph-valued attribute: not one we need
    const attribute = new ProtoReader(await context.source.read(offset, length), offset);
    let name = '';
    const values: number[] = [];
    for (const field of attribute.fields()) {
      if (field.field === AttributeField.name) name = attribute.string(expectLength(field, 'AttributeProto.name'));
      else if (field.field === AttributeField.i) values.push(signedValue(expectWire(field, WireType.Varint, 'AttributeProto.i').value, field.start));
      else if (field.field === AttributeField.ints)
        values.push(...(field.wireType === WireType.Varint ? [signedValue(field.value, field.start)] : readPackedSigned(attribute.payload(expectLength(field, 'AttributeProto.ints')), field.start)));
    }
    if (values.length > 0) attributes.set(name, values);
  }
  return attributes;
}

async function readString(context: Context, stream: ProtoStream, field: FieldHeader, what: string): Promise<string> {
  const text = await stream.string(expectLength(field, what), MAX_FIELD_BYTES);
  hold(context, text.length, field);
  return text;
}

/** Counts what the parse keeps in memory, so a hostile file cannot make it hold gigabytes of names. */
function hold(context: Context, bytes: number, field: FieldHeader): void {
  context.held += bytes;
  if (context.held > MAX_METADATA_BYTES)
    throw new Conv1Error(
      context.files.label,
      `describes its graph with more than ${MAX_METADATA_BYTES} bytes of names and tensor records (reached at byte ${field.start})`,
      'This is far beyond any real network; the file is damaged or crafted. Export the model again.',
    );
}

function expectWire(field: FieldHeader, wireType: WireType, what: string): FieldHeader {
  if (field.wireType !== wireType) throw new ProtobufError(`${what} has wire type ${field.wireType}, not ${wireType}`, field.start);
  return field;
}

function expectLength(field: FieldHeader, what: string): FieldHeader {
  return expectWire(field, WireType.LengthDelimited, what);
}

// ---------------------------------------------------------------------------------------------
// The graph

function isConvolution(node: OnnxNode): boolean {
  const standard = node.domain === '' || node.domain === 'ai.onnx';
  return (standard && (node.opType === 'Conv' || node.opType === 'QLinearConv' || node.opType === 'ConvInteger')) || (node.domain === 'com.microsoft' && node.opType === 'FusedConv');
}

/**
 * Convolutions in the order a breadth-first walk from the graph's inputs reaches them. Inputs that
 * are also initializers (IR version < 4 lists weights as inputs) are not where data enters, so the
 * walk does not start from them.
 */
async function listConvolutions(context: Context, graph: OnnxGraph): Promise<OnnxConv[]> {
  const consumers = new Map<string, OnnxNode[]>();
  const producers = new Map<string, OnnxNode>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) if (input !== '') consumers.set(input, [...(consumers.get(input) ?? []), node]);
    for (const output of node.outputs) if (output !== '') producers.set(output, node);
  }
  const queue = graph.inputs.filter((name) => !graph.initializers.has(name));
  const seenTensors = new Set(queue);
  const reached = new Set<OnnxNode>();
  for (let next = 0; next < queue.length; next++)
    for (const node of consumers.get(queue[next]!) ?? []) {
      if (reached.has(node)) continue;
      reached.add(node);
      for (const output of node.outputs)
        if (output !== '' && !seenTensors.has(output)) {
          seenTensors.add(output);
          queue.push(output);
        }
    }
  const convolutions: OnnxConv[] = [];
  for (const node of [...reached].filter(isConvolution)) {
    try {
      convolutions.push(await describeConv(context, graph, producers, node));
    } catch (error) {
      // The first convolution is the default and must be drawable. One further in whose weight
      // is computed, quantised or not 2-D is left out rather than making the whole model unreadable.
      if (convolutions.length === 0 || !(error instanceof Conv1Error)) throw error;
    }
  }
  return convolutions;
}

async function describeConv(context: Context, graph: OnnxGraph, producers: Map<string, OnnxNode>, node: OnnxNode): Promise<OnnxConv> {
  const label = context.files.label;
  const name = node.name || node.outputs[0] || node.opType;
  if (node.opType !== 'Conv' && node.opType !== 'FusedConv')
    throw new Conv1Error(
      label,
      `begins with the convolution "${name}", a ${node.opType} whose weights are quantised integers; astro-conv1 draws floating-point weights`,
      'Point `model` at the float model the quantised one was made from.',
    );
  const weight = resolveWeight(label, graph, producers, node, name);
  const tensor = graph.initializers.get(weight)!;
  if (tensor.dims.length !== 4 || !tensor.dims.every((d) => Number.isSafeInteger(d) && d > 0))
    throw new Conv1Error(
      label,
      tensor.dims.length === 4 ? `gives the weight "${weight}" of convolution "${name}" the shape [${tensor.dims.join(', ')}]; dimensions must be positive` : `begins with "${name}", a ${tensor.dims.length - 2}-D convolution (weight shape [${tensor.dims.join(', ')}]), not a 2-D one`,
      'astro-conv1 draws 2-D convolution kernels; point `model` at an image model.',
    );
  const [o, i, h, w] = tensor.dims as [number, number, number, number];
  const attributes = await readIntAttributes(context, node);
  const strides = attributes.get('strides') ?? [1, 1];
  const group = attributes.get('group')?.[0] ?? 1;
  if (strides.length !== 2 || !strides.every((s) => s > 0) || group < 1 || o % group !== 0)
    throw new Conv1Error(label, `gives the convolution "${name}" strides [${strides.join(', ')}] and group ${group}, which do not fit its weight [${tensor.dims.join(', ')}]`, 'The model is damaged; export it again.');
  // A grouped convolution's weight is [O, I/group, kh, kw]: each filter sees its group's I/group
  // channels. Depthwise (group = input channels) leaves one channel per filter, so it is drawn as
  // single-channel filters, like a Keras DepthwiseConv2D.
  return { name, layerType: node.opType, shape: [h, w, i, o], strides: [strides[0]!, strides[1]!], weight };
}

/** The initializer a Conv's input 1 names, directly or through Identity nodes. */
function resolveWeight(label: string, graph: OnnxGraph, producers: Map<string, OnnxNode>, node: OnnxNode, convName: string): string {
  let name = node.inputs[1] ?? '';
  const passed = new Set<OnnxNode>();
  while (!graph.initializers.has(name)) {
    const producer = producers.get(name);
    if (producer && producer.opType === 'Identity' && !passed.has(producer)) {
      passed.add(producer);
      name = producer.inputs[0] ?? '';
      continue;
    }
    const source =
      name === ''
        ? 'nowhere: the node has no weight input'
        : producer
          ? `a ${producer.opType} node ("${producer.name || name}")${producer.opType === 'DequantizeLinear' ? ', i.e. quantised weights' : ''}`
          : `"${name}", which is ${graph.inputs.includes(name) ? 'a graph input, so the file holds no values for it' : "neither an initializer nor any node's output"}`;
    throw new Conv1Error(label, `takes the weight of its first convolution "${convName}" from ${source}`, 'astro-conv1 reads weights stored as initializers; export the model with its weights as constants (e.g. torch.onnx.export with export_params=True).');
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// Tensor data

async function readTensorBytes(context: Context, tensor: OnnxTensor, type: KernelType): Promise<Uint8Array> {
  const { files } = context;
  const fail = (reason: string, hint = 'The model file is damaged; export it again.') => new Conv1Error(files.label, reason, hint);
  const what = `the weight "${tensor.name}"`;
  const typeName = DATA_TYPES[tensor.dataType]!;
  const elements = tensor.dims.reduce((a, b) => a * b, 1);
  const expected = elements * type.bytes;
  const stores = [
    ...(tensor.rawData ? ['raw_data'] : []),
    ...(tensor.floatData.length > 0 ? ['float_data'] : []),
    ...(tensor.int32Data.length > 0 ? ['int32_data'] : []),
    ...tensor.otherData,
    ...(tensor.externalData.length > 0 ? ['external_data'] : []),
  ];
  if (tensor.segmented) throw fail(`splits ${what} into segments, which this reader does not read`, 'Save the model without segments (onnx.save writes whole tensors).');
  if (stores.length > 1) throw fail(`stores the values of ${what} in both ${stores.join(' and ')}; a tensor must use exactly one`);
  if (stores.length === 0) throw fail(`has no values for ${what}`);
  const externallyStored = stores[0] === 'external_data';
  if (externallyStored !== (tensor.dataLocation === EXTERNAL))
    throw fail(externallyStored ? `lists external_data for ${what} but does not set its data_location to EXTERNAL` : `sets the data_location of ${what} to EXTERNAL without external_data`);
  const countMismatch = (count: number, field: string) =>
    fail(`has ${count} ${typeName} values in the ${field} of ${what}, but its dims [${tensor.dims.join(', ')}] call for ${elements}`);

  switch (stores[0]) {
    case 'raw_data': {
      const raw = tensor.rawData!;
      if (raw.length !== expected)
        throw fail(`has ${raw.length} bytes of raw_data for ${what}, but its dims [${tensor.dims.join(', ')}] call for ${elements} ${typeName} values (${expected} bytes)`);
      return files.read(files.main, raw.offset, raw.length);
    }
    case 'float_data': {
      if (type.dtype !== 'float32') throw fail(`stores ${what}, a ${typeName} tensor, in float_data, which holds FLOAT values only`);
      const length = tensor.floatData.reduce((sum, span) => sum + span.length, 0);
      if (length % 4 !== 0) throw fail(`has ${length} bytes of float_data for ${what}, not a whole number of 4-byte floats`);
      if (length / 4 !== elements) throw countMismatch(length / 4, 'float_data');
      return readSpans(context, tensor.floatData);
    }
    case 'int32_data': {
      // FLOAT16 and BFLOAT16 values may sit in int32_data, one 16-bit pattern per element.
      if (type.bytes !== 2) throw fail(`stores ${what}, a ${typeName} tensor, in int32_data, which holds 16-bit floats only as bit patterns`);
      const values = readPackedSigned(await readSpans(context, tensor.int32Data), tensor.int32Data[0]!.offset);
      if (values.length !== elements) throw countMismatch(values.length, 'int32_data');
      const bytes = new Uint8Array(elements * 2);
      const view = new DataView(bytes.buffer);
      for (const [index, value] of values.entries()) {
        if (value < 0 || value > 0xffff) throw fail(`has the value ${value} in the int32_data of ${what}, which is not a 16-bit pattern`);
        view.setUint16(index * 2, value, true);
      }
      return bytes;
    }
    case 'external_data':
      return readExternalData(context, tensor, expected);
    default:
      throw fail(`stores ${what}, a ${typeName} tensor, in ${stores[0]}, which cannot hold ${typeName} values`);
  }
}

/**
 * External data: `location` relative to the model's folder, optional decimal `offset` and `length`.
 * The location goes through ModelFiles, which refuses absolute paths, `..` and URL schemes; a
 * symbolic link out of the folder is refused here (CVE-2024-27318). The SHA-1 `checksum` is not
 * verified: that would mean reading the whole file for one kernel.
 */
async function readExternalData(context: Context, tensor: OnnxTensor, expected: number): Promise<Uint8Array> {
  const { files } = context;
  const entries = new Map(tensor.externalData);
  const fail = (reason: string) => new Conv1Error(files.label, reason, 'The model or its external data file is damaged; export the model again.');
  const location = entries.get('location');
  if (!location) throw fail(`gives no location for the external data of "${tensor.name}"`);
  const decimal = (key: string): number | undefined => {
    const text = entries.get(key);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw fail(`gives the external data of "${tensor.name}" the ${key} "${text}", which is not a byte count`);
    return value;
  };
  const offset = decimal('offset') ?? 0;
  const length = decimal('length');
  if (length !== undefined && length !== expected)
    throw fail(`gives the external data of "${tensor.name}" a length of ${length} bytes, but its dims [${tensor.dims.join(', ')}] call for ${expected}`);
  const size = await files.size(location);
  if (offset + expected > size)
    throw new Conv1Error(
      files.describe(location),
      `has ${size} bytes, but ${files.main} places "${tensor.name}" at bytes ${offset}–${offset + expected}`,
      'The external data file is truncated or belongs to another export; copy the whole model folder again.',
    );
  return files.read(location, offset, expected);
}

/** The bytes of `spans` of the model file, one after another. */
async function readSpans(context: Context, spans: readonly Span[]): Promise<Uint8Array> {
  const out = new Uint8Array(spans.reduce((sum, span) => sum + span.length, 0));
  let at = 0;
  // One at a time: the chunked source keeps a single chunk, which parallel reads would fight over.
  for (const span of spans) {
    out.set(await context.source.read(span.offset, span.length), at);
    at += span.length;
  }
  return out;
}
