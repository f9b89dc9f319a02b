import { Conv1Error } from '../errors.ts';
import type { FormatReader } from './format.ts';
import { looksLikeTfjsLayers, openLayersModel, parseModelJson } from './tfjs-layers.ts';

/** TensorFlow.js model.json: a layers model (Keras topology) or a graph model (GraphDef). */
export const tfjsReader: FormatReader = {
  format: 'tfjs',
  extensions: ['.json'],
  detect(head) {
    const text = new TextDecoder().decode(head).replace(/^\uFEFF/, '').trimStart();
    return text.startsWith('{');
  },
  async open(files) {
    const json = await parseModelJson(files);
    if (looksLikeTfjsLayers(json)) return openLayersModel(files, json);
    throw new Conv1Error(
      files.label,
      'is JSON but not a TensorFlow.js model (no modelTopology and weightsManifest)',
      'Point `model` at the model.json that tensorflowjs_converter wrote, next to its .bin shards.',
    );
  },
};
