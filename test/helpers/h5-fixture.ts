/**
 * Keras model files written for tests: HDF5 files through h5wasm (a full model with model_config
 * and model_weights, or weights only), Keras 3 .keras archives through a small zip writer, and two
 * HDF5 files h5wasm cannot write (a virtual dataset, external storage), kept as bytes. Values come
 * from seeded PRNGs (tfjs-fixture.ts), so every run writes the same bytes.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { gunzipSync, crc32, deflateRawSync } from 'node:zlib';
import h5wasm from 'h5wasm/node';
import type { FixtureWeight } from './tfjs-fixture.ts';

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;

export async function h5Library(): Promise<typeof h5wasm> {
  await h5wasm.ready;
  return h5wasm;
}

/** "<layer>/<role>" (tfjs-fixture's naming) → layer and Keras' HDF5 weight name "<layer>/<role>:0". */
function splitWeightName(name: string): { layer: string; weightName: string } {
  const layer = name.split('/')[0]!;
  return { layer, weightName: `${name}:0` };
}

/** Fixed-length byte strings, as Keras writes layer_names and weight_names through numpy. */
function writeNames(target: H5Group, attribute: string, names: string[]): void {
  const width = Math.max(1, ...names.map((name) => Buffer.byteLength(name)));
  target.create_attribute(attribute, names, [names.length], `S${width}`);
}

function createGroups(root: H5Group, path: string): H5Group {
  let group = root;
  for (const part of path.split('/').filter(Boolean)) group = (group.keys().includes(part) ? group.get(part) : group.create_group(part)) as H5Group;
  return group;
}

function writeWeight(group: H5Group, name: string, weight: FixtureWeight, float64 = false): void {
  group.create_dataset({ name, data: float64 ? Float64Array.from(weight.values) : weight.values, shape: weight.shape, dtype: float64 ? '<d' : '<f' });
}

export interface KerasH5Options {
  /** Keras layer configs ({ name, class_name, config, inbound_nodes }), as tfjs-fixture builds them. */
  layers: object[];
  inputLayers: string[];
  className?: 'Model' | 'Functional' | 'Sequential';
  /** Weights named "<layer>/<role>" with float32 values; stored at "<layer>/<layer>/<role>:0". */
  weights: FixtureWeight[];
  /** Write `save_weights` layout: layer_names and weights at the root, no model_config. */
  weightsOnly?: boolean;
  /** layer_names in this order (default: the layers in `layers` order). */
  layerNames?: string[];
  /** Names of weights listed in weight_names but not written (for `edit` to put something else there). */
  omitWeights?: string[];
  /** Names of weights to store as float64 instead of float32. */
  float64Weights?: string[];
  /** Split layer_names into layer_names0, layer_names1, … of this many names each, as Keras does past 64 KiB. */
  splitLayerNamesEvery?: number;
  /** Last chance to alter the open file (links, broken datasets) before it is closed; `root` is where the layer groups are. */
  edit?: (file: H5File, root: H5Group) => void;
}

/** Writes a Keras 2 style .h5 file to `path`. */
export async function writeKerasH5(path: string, options: KerasH5Options): Promise<void> {
  const api = await h5Library();
  await rm(path, { force: true });
  const file = new api.File(path, 'w');
  try {
    let root: H5Group = file;
    if (!options.weightsOnly) {
      const last = options.layers.at(-1) as { name?: string } | undefined;
      const className = options.className ?? 'Model';
      const config =
        className === 'Sequential'
          ? { name: 'm', layers: options.layers }
          : { name: 'm', layers: options.layers, input_layers: options.inputLayers.map((name) => [name, 0, 0]), output_layers: last?.name ? [[last.name, 0, 0]] : [] };
      file.create_attribute('model_config', JSON.stringify({ class_name: className, config }));
      file.create_attribute('keras_version', '2.2.4');
      file.create_attribute('backend', 'tensorflow');
      root = file.create_group('model_weights');
    }
    const layerNames = options.layerNames ?? options.layers.map((layer) => (layer as { name: string }).name);
    const every = options.splitLayerNamesEvery;
    if (every) for (let i = 0; i * every < layerNames.length; i++) writeNames(root, `layer_names${i}`, layerNames.slice(i * every, (i + 1) * every));
    else writeNames(root, 'layer_names', layerNames);
    for (const layer of layerNames) {
      const group = root.create_group(layer);
      const own = options.weights.filter((weight) => splitWeightName(weight.name).layer === layer);
      writeNames(group, 'weight_names', own.map((weight) => splitWeightName(weight.name).weightName));
      for (const weight of own) {
        if (options.omitWeights?.includes(weight.name)) continue;
        const { weightName } = splitWeightName(weight.name);
        const parts = weightName.split('/');
        writeWeight(createGroups(group, parts.slice(0, -1).join('/')), parts.at(-1)!, weight, options.float64Weights?.includes(weight.name));
      }
    }
    options.edit?.(file, root);
  } finally {
    file.close();
  }
}

/**
 * Keras 3 model.weights.h5: each layer's variables at layers/<key>/vars/<i>, keys as saving_lib
 * numbers them (`prefix` "_layer_checkpoint_dependencies" for tf.keras 2.13–2.15).
 */
export async function writeKeras3Weights(path: string, layers: { key: string; vars: FixtureWeight[] }[], prefix = 'layers'): Promise<Uint8Array> {
  const api = await h5Library();
  await rm(path, { force: true });
  const file = new api.File(path, 'w');
  try {
    file.create_group('vars');
    const group = file.create_group(prefix);
    for (const layer of layers) {
      const vars = group.create_group(layer.key).create_group('vars');
      layer.vars.forEach((weight, i) => writeWeight(vars, String(i), weight));
    }
  } finally {
    file.close();
  }
  return new Uint8Array(await readFile(path));
}

/** A Keras 3 config.json for a functional (or Sequential) model of `layers`. */
export function keras3Config(layers: object[], inputLayers: string[], className: 'Functional' | 'Sequential' = 'Functional'): object {
  const last = layers.at(-1) as { name?: string } | undefined;
  const config =
    className === 'Sequential'
      ? { name: 'sequential', trainable: true, layers }
      : { name: 'functional', trainable: true, layers, input_layers: inputLayers.map((name) => [name, 0, 0]), output_layers: last?.name ? [[last.name, 0, 0]] : [] };
  return { module: 'keras', class_name: className, config, registered_name: className };
}

// ---------------------------------------------------------------------------------------------
// Zip

export interface ZipMember {
  name: string;
  data: Uint8Array;
  method?: 'stored' | 'deflate';
  /** Overrides the uncompressed size written in both headers (to fake a bomb). */
  declaredSize?: number;
  /** Overrides the name in the local header only. */
  localName?: string;
  /** Overrides the CRC-32 in both headers. */
  crc?: number;
}

/**
 * A zip archive of `members` (no data descriptors), as Python's zipfile writes a .keras. With
 * `zip64`, as torch.save writes: ZIP64 end records, and member offsets in ZIP64 extra fields,
 * with the 16- and 32-bit fields saturated so that only the 64-bit values are right.
 */
export function zipBytes(members: ZipMember[], { zip64 = false } = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const member of members) {
    const method = member.method === 'deflate' ? 8 : 0;
    const body = method === 8 ? deflateRawSync(member.data) : member.data;
    const crc = member.crc ?? crc32(member.data);
    const size = member.declaredSize ?? member.data.length;
    const name = Buffer.from(member.name);
    const localName = Buffer.from(member.localName ?? member.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(localName.length, 26);
    const extra = Buffer.alloc(zip64 ? 12 : 0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(8, 2);
      extra.writeBigUInt64LE(BigInt(offset), 4);
    }
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(zip64 ? 45 : 20, 4);
    entry.writeUInt16LE(zip64 ? 45 : 20, 6);
    entry.writeUInt16LE(0x800, 8);
    entry.writeUInt16LE(method, 10);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(size, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt16LE(extra.length, 30);
    entry.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    chunks.push(local, localName, body);
    central.push(entry, name, extra);
    offset += local.length + localName.length + body.length;
  }
  const directorySize = central.reduce((sum, chunk) => sum + chunk.length, 0);
  const records: Uint8Array[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(members.length), 24);
    record.writeBigUInt64LE(BigInt(members.length), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + directorySize), 8);
    locator.writeUInt32LE(1, 16);
    records.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : members.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : members.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : directorySize, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...chunks, ...central, ...records, end]);
}

export interface KerasZipOptions {
  config: object | string;
  /** model.weights.h5 bytes (see writeKeras3Weights). */
  weights: Uint8Array;
  method?: 'stored' | 'deflate';
  /** Further members, written after the usual three. */
  extra?: ZipMember[];
  zip64?: boolean;
}

/** Writes a .keras archive (metadata.json, config.json, model.weights.h5, in saving_lib's order). */
export async function writeKerasZip(path: string, options: KerasZipOptions): Promise<void> {
  const method = options.method ?? 'stored';
  const text = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  const members: ZipMember[] = [
    { name: 'metadata.json', data: text({ keras_version: '3.6.0', date_saved: '2024-01-01@00:00:00' }), method },
    { name: 'config.json', data: text(options.config), method },
    { name: 'model.weights.h5', data: options.weights, method },
    ...(options.extra ?? []),
  ];
  await writeFile(path, zipBytes(members, { zip64: options.zip64 ?? false }));
}

// ---------------------------------------------------------------------------------------------
// Files h5wasm cannot write

/**
 * Weights-only Keras layouts whose kernel conv1/conv1/kernel:0 [3,3,3,4] float32 is stored
 * outside the file, gzipped and base64 encoded. Written once with h5py 3.7 (HDF5 1.10.8,
 * libver="latest"), each as
 *   f.attrs["layer_names"] = np.array([b"conv1"])
 *   g = f.create_group("conv1"); g.attrs["weight_names"] = np.array([b"conv1/kernel:0"])
 *   c = g.create_group("conv1")
 * then, for the virtual dataset,
 *   layout = h5py.VirtualLayout((3, 3, 3, 4), "<f4")
 *   layout[:] = h5py.VirtualSource("weights-source.h5", "data", shape=(3, 3, 3, 4))
 *   c.create_virtual_dataset("kernel:0", layout)
 * and for external storage,
 *   c.create_dataset("kernel:0", (3, 3, 3, 4), "<f4", external=[("raw-kernel.bin", 0, 432)])
 */
const VIRTUAL_DATASET_H5 =
  'H4sIAAAAAAACA+v0cHHj5ZLiYubgYICB/1DAIAHhG0DFHTs72f09XIKYFJpMebKRcYWAAANDGCNEmRFUORcTA1BEVIiBBWEkDPCYMTAwM/AwcDCIMDDkJFamFsXnJeamFjMIA7WwAjUzMQIB1CAYnZyfV2bIwMWABJYFmvzA4yRpJhKc5AByEi/ESeWpmekZJUhu4sPnJv3s1KK81BwrcEC1h/Un+Tt7eDMJIYclDLAJgPSygrUdhpoxmS/CBYcnsBsC8QabMMgoDpjdvkywaGKgHFx1jZ9FnCc6oCGhe/JfKtgTiuieYGBkdAEGHgsjIzPUdHSaBYc4hrwIA6OggjyUr8AgzsEgXg9ksQLDg5mLAxhHLMwMHEgR1MIwKAD/fIe7DKNgFIyCUTC4gLuzvw+4qBRArddyGNAqOkiNWKxbnF9alJyql2HKkJJYkgguohmRzGNC4mtAi25GLPYyIWGQGeGdYYHI8gX8o3EzCkbBKBgFo2AUjIJRMApGwSgYBaNgFFALAADe+tncABgAAA==';
const EXTERNAL_STORAGE_H5 =
  'H4sIAAAAAAACA+v0cHHj5ZLiYubgYICB/1AwkRnCN4CK+y8r6PH3cAliUmgy5clGxhUCAgwMYYwQZUZQ5VxMDEARUSEGFoSRMMBjxsDAzMDDwMEgwsCQk1iZWhSfl5ibWswgDNTCCtTMxAgEUINgdHJ+XpkhAxcDElgWaPIDj5OkmUhwkgPISbwQJ5WnZqZnlCC5iQ+fm/SzU4vyUnOswAHVHtaf5O/s4c0khByWMMAmANLLCtZ2GGrGZL4IFxyewG4IxBtswiCjOGB2+0L9yuDIQDm46ho/izhPdEBDQvfkv1SwJxgZGBldgIHFwsgITT8M6DQLDnEMeREGRkEFeShfgUGcg0G8HshiBfqfmYtdgwEcHUALGSKhWjnQ/LEB6joOoD9YGGHuh4kyhDDQBFxYLsXm4eoYAGJLoCWYSmZUtUWJ5bqQKNRLysxjYAAAf/V5/5EDAAA=';

export const EXTERNAL_FILE_FIXTURES = {
  /** Virtual dataset drawing its values from weights-source.h5 / data. */
  virtualDataset: () => gunzipSync(Buffer.from(VIRTUAL_DATASET_H5, 'base64')),
  /** Contiguous dataset whose 432 bytes live in raw-kernel.bin (HDF5 external storage). */
  externalStorage: () => gunzipSync(Buffer.from(EXTERNAL_STORAGE_H5, 'base64')),
};

/** A plain HDF5 file with `data` [3,3,3,4] float32, the source a virtual dataset would draw from. */
export async function writeSourceDataset(path: string, values: Float32Array): Promise<void> {
  const api = await h5Library();
  const file = new api.File(path, 'w');
  try {
    file.create_dataset({ name: 'data', data: values, shape: [3, 3, 3, 4], dtype: '<f' });
  } finally {
    file.close();
  }
}
