import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { FormatReader, OpenedModel } from './format.ts';
import { nestedModelError, openHdf5Model, parseStrides, type Hdf5Bytes } from './keras-h5.ts';
import { isPytorchArchive, openPytorchArchive } from './pytorch.ts';
import { CONV_CLASSES, kerasLayersFromInputs } from './tfjs-layers.ts';
import { isRecord } from './tfjs-manifest.ts';
import { extractZipEntry, isZipHead, readZipDirectory, storedEntryOffset, type ZipArchive, type ZipEntry } from './zip.ts';

/**
 * Keras 3 models (.keras): a zip of config.json (the topology), metadata.json and
 * model.weights.h5. The weights file has no layer names: saving_lib stores each layer's variables
 * at `layers/<snake_case class name>[_N]/vars/<i>`, N counting the layers of that class in
 * model.layers order, which is config.json's layer order. The first Conv2D is
 * `layers/conv2d/vars/0`, the second `layers/conv2d_1/vars/0`; variable 0 is the kernel of
 * Conv2D and the depthwise kernel of DepthwiseConv2D and SeparableConv2D. tf.keras 2.13–2.15
 * wrote `_layer_checkpoint_dependencies/` instead of `layers/`.
 *
 * Only the simple case is handled: convolutions that are layers of the saved model itself. A model
 * nested as a layer (a pretrained backbone inside a Sequential) keeps its layers one level down
 * (`layers/functional/layers/conv2d/...`) and is reported as such rather than guessed at.
 *
 * Every zip is opened here, whatever its extension, and told apart by its members: a PyTorch
 * archive (data.pkl) goes to the PyTorch reader. model.weights.h5 is read in an HDF5 worker thread
 * (keras-h5.ts) through ranges of the archive, so a .keras costs what an .h5 costs: the directory,
 * config.json, and HDF5's metadata and one kernel, locally or over HTTP, with nothing written to
 * disk.
 */

const CONFIG = 'config.json';
const WEIGHTS = 'model.weights.h5';
const PICKLED_WEIGHTS = 'model.weights.npz';
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
export const RESAVE_HINT = 'Save the model again with Keras 3: model.save("model.keras").';

/** Keras' naming.to_snake_case: Conv2D → conv2d, DepthwiseConv2D → depthwise_conv2d. */
export function toSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

async function readConfig(files: ModelFiles, archive: ZipArchive): Promise<Record<string, unknown>> {
  const entry = archive.entries.get(CONFIG)!;
  if (entry.size > MAX_CONFIG_BYTES) throw new Conv1Error(files.label, `has a ${entry.size}-byte ${CONFIG}; more than ${MAX_CONFIG_BYTES} bytes is refused`, RESAVE_HINT);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await extractZipEntry(archive, entry)));
  } catch (error) {
    if (error instanceof Conv1Error) throw error;
    throw new Conv1Error(files.label, `has a ${CONFIG} that is not valid JSON (${(error as Error).message})`, RESAVE_HINT, { cause: error });
  }
  if (!isRecord(config)) throw new Conv1Error(files.label, `has a ${CONFIG} that is not a JSON object`, RESAVE_HINT);
  return config;
}

/** The weights-file key of every layer, in config order (= model.layers order), as saving_lib numbers them. */
function weightKeys(config: Record<string, unknown>): Map<string, string> {
  const inner = config.config;
  const layers = isRecord(inner) && Array.isArray(inner.layers) ? inner.layers : [];
  const used = new Map<string, number>();
  const keys = new Map<string, string>();
  for (const layer of layers) {
    if (!isRecord(layer) || typeof layer.class_name !== 'string' || !isRecord(layer.config)) continue;
    const name = typeof layer.name === 'string' ? layer.name : layer.config.name;
    if (typeof name !== 'string') continue;
    const snake = toSnakeCase(layer.class_name);
    const seen = used.get(snake);
    used.set(snake, seen === undefined ? 0 : seen + 1);
    keys.set(name, seen === undefined ? snake : `${snake}_${seen + 1}`);
  }
  return keys;
}

async function openKerasZip(files: ModelFiles): Promise<OpenedModel> {
  const archive = await readZipDirectory(files);
  if (isPytorchArchive(archive)) return openPytorchArchive(files, archive);
  const has = (name: string) => archive.entries.has(name);
  if (!has(CONFIG))
    throw new Conv1Error(
      files.label,
      `is a zip archive without ${CONFIG}, so neither a Keras 3 model nor a PyTorch checkpoint`,
      'Point `model` at a .keras file written by model.save(), or at another supported model file.',
    );
  if (!has(WEIGHTS))
    throw new Conv1Error(
      files.label,
      has(PICKLED_WEIGHTS) ? `keeps its weights in ${PICKLED_WEIGHTS}, a NumPy archive that Keras loads with pickling allowed` : `has no ${WEIGHTS}`,
      has(PICKLED_WEIGHTS) ? 'Save the model with the default weights format: model.save("model.keras") (HDF5 weights).' : RESAVE_HINT,
    );
  const config = await readConfig(files, archive);
  const layers = kerasLayersFromInputs(config, files.label, RESAVE_HINT);
  const keys = weightKeys(config);

  const convolutions = layers
    .filter((layer) => CONV_CLASSES.has(layer.class_name))
    .map((layer) => ({ name: layer.name, layerType: layer.class_name, strides: parseStrides(layer.config), key: keys.get(layer.name) }));
  const weights = await openHdf5Model(await weightsBytes(archive, archive.entries.get(WEIGHTS)!), `${files.label} (${WEIGHTS})`, { kind: 'keras3', convolutions });
  if (weights.convolutions.length === 0) {
    const nested = nestedModelError(files.label, layers);
    if (nested) {
      await weights.close();
      throw nested;
    }
  }
  return { format: 'keras', convolutions: weights.convolutions, layerNames: new Set(layers.map((layer) => layer.name)), readKernel: weights.readKernel, close: weights.close };
}

/**
 * model.weights.h5 as HDF5 reads it. Keras stores it uncompressed, and then each read is a range
 * of the archive (the member's CRC-32 covers all of it, so goes unchecked, as nothing checks an
 * .h5 file read by range). A deflated member cannot be entered in the middle, so one is inflated
 * whole, in memory (checked against its size and CRC-32), and cut from there.
 */
async function weightsBytes(archive: ZipArchive, entry: ZipEntry): Promise<Hdf5Bytes> {
  const { files, file } = archive;
  if (entry.method === 0) {
    const start = await storedEntryOffset(archive, entry);
    return { name: WEIGHTS, size: entry.size, read: (offset, length) => files.read(file, start + offset, length) };
  }
  const data = await extractZipEntry(archive, entry);
  return { name: WEIGHTS, size: data.length, read: async (offset, length) => data.subarray(offset, offset + length) };
}

export const kerasZipReader: FormatReader = {
  format: 'keras',
  extensions: ['.keras'],
  detect: isZipHead,
  open: openKerasZip,
};
