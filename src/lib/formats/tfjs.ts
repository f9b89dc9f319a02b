import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { FormatReader } from './format.ts';
import { looksLikeTfjsGraph, openGraphModel } from './tfjs-graph.ts';
import { looksLikeTfjsLayers, openLayersModel } from './tfjs-layers.ts';

/** model.json is read whole; a bigger one is not a model file we should trust. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** Decoders keep no state between whole-buffer decodes, so one of each serves every call. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder();

/** TensorFlow.js model.json: a layers model (Keras topology) or a graph model (GraphDef). */
export const tfjsReader: FormatReader = {
  format: 'tfjs',
  extensions: ['.json'],
  detect(head) {
    const text = LENIENT_UTF8.decode(head).replace(/^\uFEFF/, '').trimStart();
    return text.startsWith('{');
  },
  async open(files) {
    const json = await parseModelJson(files);
    // Graph first: its `format` field or GraphDef nodes are unambiguous, while a layers model is
    // recognised by the absence of both plus a Keras config.
    if (looksLikeTfjsGraph(json)) return openGraphModel(files, json);
    if (looksLikeTfjsLayers(json)) return openLayersModel(files, json);
    throw new Conv1Error(
      files.label,
      'is JSON but not a TensorFlow.js model (no modelTopology and weightsManifest)',
      'Point `model` at the model.json that tensorflowjs_converter wrote, next to its .bin shards.',
    );
  },
};

async function parseModelJson(files: ModelFiles): Promise<unknown> {
  const size = await files.size(files.main);
  if (size > MAX_MODEL_JSON_BYTES)
    throw new Conv1Error(
      files.label,
      `is ${size} bytes; a model.json larger than ${MAX_MODEL_JSON_BYTES} bytes is refused`,
      'Point the `model` option at the model.json of a TensorFlow.js model.',
    );
  const bytes = await files.read(files.main, 0, size);
  try {
    return JSON.parse(UTF8.decode(bytes));
  } catch (error) {
    throw new Conv1Error(files.label, `is not valid JSON (${(error as Error).message})`, 'The file may be truncated or not a model.json; download or export it again.', { cause: error });
  }
}
