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
 * breaks ties.
 */
export const READERS: readonly FormatReader[] = [tfjsReader, safetensorsReader, onnxReader, kerasH5Reader, kerasZipReader, pytorchReader];

/** What each format's files hold, for the message about a file whose content does not match its extension. */
const CONTENTS: Readonly<Record<string, string>> = {
  tfjs: 'JSON',
  safetensors: 'a length-prefixed JSON header and raw tensors',
  onnx: 'an ONNX protobuf',
  'keras-h5': 'an HDF5 file',
  keras: 'a zip archive',
  pytorch: 'a zip archive written by torch.save',
};

/** Bytes of leading whitespace a JSON file may have before detection gives up on it. */
const MAX_LEADING_WHITESPACE = 1024 * 1024;

export async function detectFormat(files: ModelFiles): Promise<FormatReader> {
  const size = await files.size(files.main);
  if (size === 0) throw new Conv1Error(files.label, 'is empty (0 bytes)', 'The download or export did not finish; produce the model file again.');
  const head = await readHead(files, size);
  const extension = /\.[^./]+$/.exec(files.main.toLowerCase())?.[0] ?? '';
  const matches = READERS.filter((reader) => reader.detect(head));
  const named = READERS.find((reader) => reader.extensions.includes(extension));
  if (matches.length === 0) {
    const found = describeContent(head);
    throw new Conv1Error(
      files.label,
      named
        ? `has the extension ${extension} but its content is not ${named.format} (${CONTENTS[named.format] ?? 'a model file'}): it ${found.text}`
        : `is not a model file astro-conv1 can read: it ${found.text}`,
      `${found.hint ? `${found.hint} ` : ''}Point \`model\` at a file in a supported format: ${READERS.map((reader) => `${reader.format} (${reader.extensions.join(', ')})`).join('; ')}.`,
    );
  }
  return matches.find((reader) => reader === named) ?? matches[0]!;
}

const isJsonWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * The first HEAD_BYTES of the main file. JSON may begin with any amount of whitespace, so when
 * those bytes are all whitespace (after a byte order mark), the head is taken from where the text
 * starts, looking ever further ahead up to MAX_LEADING_WHITESPACE.
 */
async function readHead(files: ModelFiles, size: number): Promise<Uint8Array> {
  const first = await files.read(files.main, 0, Math.min(HEAD_BYTES, size));
  const bom = first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? 3 : 0;
  if (!first.subarray(bom).every(isJsonWhitespace)) return first;
  for (let at = first.length; at < Math.min(size, MAX_LEADING_WHITESPACE); ) {
    const chunk = await files.read(files.main, at, Math.min(Math.max(4096, at), size - at));
    const text = chunk.findIndex((byte) => !isJsonWhitespace(byte));
    if (text >= 0) return text + HEAD_BYTES <= chunk.length ? chunk.subarray(text, text + HEAD_BYTES) : files.read(files.main, at + text, Math.min(HEAD_BYTES, size - at - text));
    at += chunk.length;
  }
  return first;
}

/** Files that are not models but are often mistaken for them, by their first bytes. */
const LOOKALIKES: readonly { test: (head: Uint8Array, text: string) => boolean; text: string; hint?: string }[] = [
  {
    test: (_, text) => text.startsWith('version https://git-lfs'),
    text: 'is a Git LFS pointer, a few lines standing for the real file',
    hint: 'Fetch the file itself (git lfs pull, or the host\'s download link for it).',
  },
  {
    test: (_, text) => /^\s*<(!doctype|html|\?xml|head|body)/i.test(text),
    text: 'is an HTML or XML page',
    hint: 'The URL or download gave a web page instead of the file: use the link that downloads the raw file.',
  },
  { test: (head) => head[0] === 0x1f && head[1] === 0x8b, text: 'starts like a gzip archive', hint: 'Unpack it first and point `model` at the model file inside.' },
  { test: (head) => head[0] === 0x50 && head[1] === 0x4b, text: 'starts like a zip archive but not with a member (an empty or split archive)' },
  { test: (_, text) => text.startsWith('\u0093NUMPY'), text: 'is a NumPy array (.npy), which holds no model structure' },
  { test: (_, text) => text.slice(4, 8) === 'TFL3', text: 'is a TensorFlow Lite model, which astro-conv1 does not read', hint: 'Export the model from its source as TensorFlow.js, ONNX or Keras instead.' },
  { test: (head) => head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47, text: 'is a PNG image' },
  { test: (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff, text: 'is a JPEG image' },
];

/** What a file that no reader claims looks like, in words, with advice where there is some. */
function describeContent(head: Uint8Array): { text: string; hint?: string } {
  const text = new TextDecoder('latin1').decode(head);
  const lookalike = LOOKALIKES.find((entry) => entry.test(head, text));
  if (lookalike) return lookalike;
  if (head.every(isJsonWhitespace)) return { text: 'holds nothing but whitespace' };
  // Printable text (UTF-8 included) is quoted; anything else is shown as bytes.
  if (head.every((byte) => byte >= 0x20 || isJsonWhitespace(byte))) return { text: `is text beginning ${JSON.stringify(new TextDecoder().decode(head.subarray(0, 24)))}` };
  return { text: `starts with the bytes ${Array.from(head.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join(' ')}` };
}
