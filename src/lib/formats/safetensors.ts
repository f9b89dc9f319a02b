import { Conv1Error } from '../errors.ts';
import { oihwToHwio } from '../kernel.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import { decodeLittleEndian } from './dtypes.ts';
import { describeOihwConvolution, moduleName, rankConvolutionWeights } from './first-conv-names.ts';
import type { ConvLayer, FormatReader, OpenedModel } from './format.ts';

/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON naming every tensor's
 * dtype, shape and [begin, end) offsets into the data that follows. The header is validated the
 * way the reference reader (huggingface/safetensors, tensor.rs) does, then only the chosen
 * kernel's bytes are read. Two reads plus one for the kernel, so the same code suits HTTP ranges.
 */

/** The reference reader's cap; a larger header is refused before it is read. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Bits per element of every dtype the format defines (F4 and F6 pack below a byte). A Map, not an
 * object literal: a dtype read from the file such as "constructor" must not find Object's prototype.
 */
const DTYPE_BITS = new Map<string, number>([
  ['BOOL', 8], ['U8', 8], ['I8', 8], ['F8_E5M2', 8], ['F8_E4M3', 8], ['F8_E8M0', 8], ['F8_E4M3FNUZ', 8], ['F8_E5M2FNUZ', 8],
  ['I16', 16], ['U16', 16], ['F16', 16], ['BF16', 16],
  ['I32', 32], ['U32', 32], ['F32', 32],
  ['C64', 64], ['F64', 64], ['I64', 64], ['U64', 64],
  ['F4', 4], ['F6_E2M3', 6], ['F6_E3M2', 6],
]);
const KERNEL_DTYPES = new Map<string, 'float32' | 'float16' | 'bfloat16'>([['F32', 'float32'], ['F16', 'float16'], ['BF16', 'bfloat16']]);

interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets into the data, which starts after the header. */
  begin: number;
  end: number;
}

interface SafetensorsConv extends ConvLayer {
  /** The weight tensor's full name in the header. */
  tensor: string;
}

export const safetensorsReader: FormatReader = {
  format: 'safetensors',
  extensions: ['.safetensors'],
  detect(head) {
    if (head.length < 9) return false;
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    // Headers are capped at 1e8 bytes, so the high word is 0 in any file the reference reads.
    const length = view.getUint32(0, true);
    return view.getUint32(4, true) === 0 && length >= 2 && length <= MAX_HEADER_BYTES && head[8] === 0x7b;
  },
  open: openSafetensors,
};

async function openSafetensors(files: ModelFiles): Promise<OpenedModel> {
  const { dataStart, tensors } = await readHeader(files);
  const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  // safetensors records no graph, and its header order means nothing (writers sort by dtype and name).
  const convolutions = rankConvolutionWeights(tensors).map((tensor): SafetensorsConv => ({ ...describeOihwConvolution(tensor.name, tensor.shape), tensor: tensor.name }));
  const layerNames = new Set<string>([...tensors.map((tensor) => moduleName(tensor.name)), ...convolutions.map((conv) => conv.name)]);
  return {
    format: 'safetensors',
    convolutions,
    layerNames,
    defaultChannels: 'rgb',
    async readKernel(conv) {
      const tensor = byName.get((conv as SafetensorsConv).tensor)!;
      const dtype = KERNEL_DTYPES.get(tensor.dtype);
      if (!dtype)
        throw new Conv1Error(
          files.label,
          `stores the convolution weight "${tensor.name}" as ${tensor.dtype}, but astro-conv1 draws only F32, F16 and BF16 weights`,
          'Save the model with floating-point weights (e.g. model.float() before safetensors.torch.save_file), or choose another convolution with the `layer` option.',
        );
      const bytes = await files.read(files.main, dataStart + tensor.begin, tensor.end - tensor.begin);
      return oihwToHwio(decodeLittleEndian(bytes, dtype), tensor.shape as [number, number, number, number]);
    },
  };
}

/** Reads the 8-byte length and the JSON header, and checks every rule the reference reader enforces. */
async function readHeader(files: ModelFiles): Promise<{ dataStart: number; tensors: TensorEntry[] }> {
  const fail = (reason: string, hint = 'The file is damaged or was not written by a safetensors library; download or save it again.') =>
    new Conv1Error(files.label, reason, hint);
  const size = await files.size(files.main);
  if (size < 8) throw fail(`is ${size} bytes long, shorter than the 8-byte header length a safetensors file starts with`);
  const prefix = await files.read(files.main, 0, 8);
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES))
    throw fail(`declares a header of ${declared} bytes; safetensors refuses headers over ${MAX_HEADER_BYTES} bytes`);
  const headerLength = Number(declared);
  if (8 + headerLength > size)
    throw fail(`declares a header of ${headerLength} bytes, but the file ends ${size - 8} bytes after the length field`, 'The file is truncated; download or save it again.');
  const bytes = await files.read(files.main, 8, headerLength);
  if (bytes[0] !== 0x7b) throw fail('has a header that does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    const why = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : 'is not valid UTF-8';
    throw new Conv1Error(files.label, `has a header that ${why}`, 'The file is damaged or was not written by a safetensors library; download or save it again.', { cause: error });
  }
  if (!isRecord(json)) throw fail('has a header that is not a JSON object');

  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string'))
        throw fail('has a "__metadata__" entry that is not a map of strings to strings');
      continue;
    }
    tensors.push(checkEntry(name, value, fail));
  }

  // As the reference reader: sorted by offsets, the tensors must tile the data exactly.
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const tensor of sorted) {
    if (tensor.begin !== at)
      throw fail(
        `places "${tensor.name}" at data bytes ${tensor.begin}–${tensor.end}, but the tensor before it ends at ${at}; tensors must follow each other from 0 without gaps or overlaps`,
      );
    const bits = elementCount(tensor.shape) * DTYPE_BITS.get(tensor.dtype)!;
    if (!Number.isSafeInteger(bits) || bits % 8 !== 0 || bits / 8 !== tensor.end - tensor.begin)
      throw fail(
        `gives "${tensor.name}" ${tensor.end - tensor.begin} bytes, but a ${tensor.dtype} tensor of shape [${tensor.shape.join(', ')}] takes ${Number.isSafeInteger(bits) ? `${bits / 8} bytes` : 'more bytes than a file can hold'}`,
      );
    at = tensor.end;
  }
  const dataStart = 8 + headerLength;
  if (dataStart + at < size)
    throw fail(`has ${size - dataStart - at} bytes after its last tensor, which the header does not account for`, 'The file was altered or joined with other data; download or save it again.');
  if (dataStart + at > size)
    throw fail(`ends ${dataStart + at - size} bytes before the end of the data its header describes`, 'The file is truncated; download or save it again.');
  return { dataStart, tensors };
}

function checkEntry(name: string, value: unknown, fail: (reason: string) => Conv1Error): TensorEntry {
  if (!isRecord(value)) throw fail(`describes the tensor "${name}" with something other than an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !DTYPE_BITS.has(dtype)) throw fail(`gives the tensor "${name}" the dtype ${JSON.stringify(dtype)}, which safetensors does not define`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`gives the tensor "${name}" the shape ${JSON.stringify(shape)}; dimensions must be non-negative integers`);
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [];
  if (!isCount(begin) || !isCount(end) || begin > end)
    throw fail(`gives the tensor "${name}" the data_offsets ${JSON.stringify(offsets)}; they must be [begin, end] with 0 ≤ begin ≤ end`);
  return { name, dtype, shape, begin, end };
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
