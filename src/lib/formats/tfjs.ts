import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { FormatReader } from './format.ts';
import { looksLikeTfjsGraph, openGraphModel } from './tfjs-graph.ts';
import { looksLikeTfjsLayers, openLayersModel } from './tfjs-layers.ts';
import { isRecord } from './tfjs-manifest.ts';
import { looksLikeWeightsManifest, openWeightsManifest } from './tfjs-weights-manifest.ts';

/** model.json is read whole; a bigger one is not a model file we should trust. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** Decoders keep no state between whole-buffer decodes, so one of each serves every call. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder();

/**
 * TensorFlow.js JSON: a model.json holding a layers model (Keras topology) or a graph model
 * (GraphDef), or a bare weights manifest (the weights without a topology).
 */
export const tfjsReader: FormatReader = {
  format: 'tfjs',
  extensions: ['.json'],
  detect(head) {
    const text = LENIENT_UTF8.decode(head).replace(/^\uFEFF/, '').trimStart();
    return text.startsWith('{') || text.startsWith('[');
  },
  async open(files) {
    const json = await parseModelJson(files);
    // Graph first: its `format` field or GraphDef nodes are unambiguous, while a layers model is
    // recognised by the absence of both plus a Keras config.
    if (looksLikeTfjsGraph(json)) return openGraphModel(files, json);
    if (looksLikeTfjsLayers(json)) return openLayersModel(files, json);
    if (looksLikeWeightsManifest(json)) return openWeightsManifest(files, json);
    throw new Conv1Error(
      files.label,
      `is JSON but not a TensorFlow.js model (a modelTopology with a weightsManifest) nor a weights manifest (a list of { paths, weights } groups): it is ${describeJson(json)}`,
      'Point `model` at the model.json that tensorflowjs_converter wrote (or the weights manifest a library ships), next to its .bin shards.',
    );
  },
};

/** What a JSON value is, in a few words: "an object with the keys a, b", "a list of 2 items, the first being a number". */
function describeJson(json: unknown): string {
  if (Array.isArray(json)) return json.length === 0 ? 'an empty list' : `a list of ${json.length} items, the first being ${describeJson(json[0])}`;
  if (isRecord(json)) {
    const keys = Object.keys(json).map((key) => (key.length > 40 ? `${key.slice(0, 40)}…` : key));
    if (keys.length === 0) return 'an empty object';
    return `an object with the key${keys.length > 1 ? 's' : ''} ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}`;
  }
  return json === null ? 'null' : `a ${typeof json}`;
}

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
