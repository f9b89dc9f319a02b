import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import { HEAD_BYTES, type FormatReader } from './format.ts';
import { tfjsReader } from './tfjs.ts';
import { safetensorsReader } from './safetensors.ts';
import { onnxReader } from './onnx.ts';
import { kerasH5Reader } from './keras-h5.ts';
import { kerasZipReader } from './keras-zip.ts';
import { pytorchReader } from './pytorch.ts';

/**
 * Every format astro-conv1 recognises. Detection goes by the file's first bytes; the extension only
 * breaks ties. The PyTorch reader only ever refuses, with advice, since unpickling runs code.
 */
export const READERS: readonly FormatReader[] = [tfjsReader, safetensorsReader, onnxReader, kerasH5Reader, kerasZipReader, pytorchReader];

export async function detectFormat(files: ModelFiles): Promise<FormatReader> {
  const size = await files.size(files.main);
  if (size === 0) throw new Conv1Error(files.label, 'is empty (0 bytes)', 'The download or export did not finish; produce the model file again.');
  const head = await files.read(files.main, 0, Math.min(HEAD_BYTES, size));
  const extension = /\.[^./]+$/.exec(files.main.toLowerCase())?.[0] ?? '';
  const matches = READERS.filter((reader) => reader.detect(head));
  const named = READERS.find((reader) => reader.extensions.includes(extension));
  if (matches.length === 0) {
    throw new Conv1Error(
      files.label,
      named ? `has the extension ${extension} but its content is not ${named.format}` : 'is not a model file astro-conv1 can read',
      `Supported: ${READERS.filter((reader) => reader !== pytorchReader)
        .map((reader) => `${reader.format} (${reader.extensions.join(', ')})`)
        .join('; ')}. PyTorch pickles are recognised only to be refused: export safetensors or ONNX.`,
    );
  }
  return matches.find((reader) => reader === named) ?? matches[0]!;
}
