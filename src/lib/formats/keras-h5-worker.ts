/**
 * The worker thread behind the Keras HDF5 readers (keras-h5.ts, keras-zip.ts): it holds one HDF5
 * file open in an h5wasm instance of its own and answers the main thread's requests, "open" (the
 * file's Keras layout: convolutions and layer names) and "read" (one kernel). h5wasm is
 * synchronous and a damaged file can make it loop forever or trap; in a thread of its own, the
 * main side can put a deadline on each request and terminate the thread, and no damage survives
 * into the next file, which gets a fresh thread and a fresh library.
 *
 * Node runs this file directly (type stripping), also inside an Astro build: keep it to erasable
 * TypeScript, and never import it from the main side except for types, since importing it starts
 * the message loop.
 *
 * Everything the library does to the disk goes through Emscripten's file system object, so while
 * one of our calls runs we watch it (see Hdf5File.run): reads of the model file are counted for
 * the byte account, and any attempt to open another file is refused. That second rule is what
 * stops external links, external storage and virtual datasets from reading arbitrary files even
 * where h5wasm offers no way to see them (it does not expose external storage at all).
 */
import { resolve, sep } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { Metadata } from 'h5wasm/node';
import { Conv1Error } from '../errors.ts';
import { toWire, type WireError } from '../threads.ts';
import type { ConvLayer } from './format.ts';
import { nestedModelError, parseStrides } from './keras-h5.ts';
import { RESAVE_HINT as KERAS3_RESAVE_HINT } from './keras-zip.ts';
import { CONV_CLASSES, kerasLayersFromInputs } from './tfjs-layers.ts';
import { isRecord, kernelShapeAsHwio } from './tfjs-manifest.ts';

// ---------------------------------------------------------------------------------------------
// Messages

/** What the main side knows of a Keras 3 convolution: its weights live at `<prefix>/<key>/vars/0`. */
export interface Keras3Conv {
  name: string;
  layerType: string;
  strides: [number, number];
  key: string | undefined;
}

/** Which Keras layout the file holds: a Keras 2 .h5 (full model or weights only), or a .keras archive's model.weights.h5. */
export type Hdf5Layout = { kind: 'keras-h5' } | { kind: 'keras3'; convolutions: Keras3Conv[] };

export type Hdf5Query = { op: 'open'; path: string; size: number; label: string; layout: Hdf5Layout } | { op: 'read'; index: number };
export type Hdf5Request = Hdf5Query & { id: number };

export interface Hdf5Contents {
  convolutions: ConvLayer[];
  layerNames: string[];
}

/** A failure, as it crosses the thread boundary. `fatal`: the library trapped and must not be used again. */
export type Hdf5WireError = WireError & { fatal: boolean };

/** `bytes`: what the library read from the model file since the previous reply. */
export type Hdf5Reply = { id: number; bytes: number } & ({ result: Hdf5Contents | Float32Array } | { error: Hdf5WireError });

// ---------------------------------------------------------------------------------------------
// The library

type H5wasm = typeof import('h5wasm/node').default;
type H5Module = Awaited<H5wasm['ready']>;

/** The part of Emscripten's FS object (NODERAWFS in h5wasm/node) that the guard wraps. */
interface EmscriptenStream {
  path?: string;
}
interface EmscriptenFs {
  read(stream: EmscriptenStream, buffer: Int8Array, offset: number, length: number, position?: number): number;
  open(path: string, flags: number, mode?: number): EmscriptenStream;
  close(stream: EmscriptenStream): void;
  isClosed(stream: EmscriptenStream): boolean;
  ErrnoError: new (errno: number) => Error;
}

interface Hdf5Library {
  h5wasm: H5wasm;
  module: H5Module;
  fs: EmscriptenFs;
  /** Folders HDF5 searches for filter and VOL plugins (compiled-in paths of h5wasm's build). */
  pluginFolders: string[];
}

/** Emscripten's Linux-compatible open(2) flags and errno. */
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const EACCES = 2;
const ENOENT = 44;
const H5T_FLOAT = 1;
/** The largest kernel we read: 3×3×2048×2048 float32 is 151 MB; anything beyond is no convolution to draw. */
const MAX_KERNEL_BYTES = 256 * 1024 * 1024;
/** deflate cannot expand data more than about 1032:1, so a compressed dataset declaring more than that is lying. */
const MAX_FILTER_RATIO = 1032;
const REEXPORT_HINT = 'Save the model again with Keras (model.save("model.h5") or model.save("model.keras")).';
const LINK_HINT =
  'Links and storage outside the file can make a reader open any file on this machine (CVE-2026-1669), so they are refused; save the model again so that its weights live inside the one file.';

async function loadLibrary(): Promise<Hdf5Library> {
  const { default: h5wasm } = await import('h5wasm/node');
  const module = await h5wasm.ready;
  // By default HDF5 prints its error stack to stderr and lets the call go on with an invalid
  // id; the throwing handler turns every HDF5 error into an exception at the failing call.
  module.activate_throwing_error_handler();
  return { h5wasm, module, fs: module.FS as unknown as EmscriptenFs, pluginFolders: module.get_plugin_search_paths().map((folder) => resolve(folder)) };
}

/** A dataset, located through hard links only, with its declared type and shape. */
interface Hdf5Dataset {
  path: string;
  shape: number[];
  metadata: Metadata;
  /** True when HDF5 filters (compression, shuffle, checksums) apply to the stored chunks. */
  filtered: boolean;
}

/**
 * One HDF5 file opened read-only by h5wasm. Every library call runs inside `run`, which counts
 * the bytes read from this file, refuses to let the library open any other file, and turns any
 * failure (an HDF5 error, a wasm trap, a JS error from h5wasm) into a Conv1Error naming the file.
 */
class Hdf5File {
  readonly label: string;
  private readonly lib: Hdf5Library;
  private readonly path: string;
  private readonly size: number;
  private readonly onRead: (bytes: number) => void;
  private fileId: bigint | undefined;
  /** Paths already checked to be hard links, and the member names of groups already listed. */
  private readonly hardLinks = new Set<string>(['']);
  private readonly members = new Map<string, Set<string>>();

  private constructor(lib: Hdf5Library, path: string, size: number, label: string, onRead: (bytes: number) => void) {
    this.lib = lib;
    this.path = resolve(path);
    this.size = size;
    this.label = label;
    this.onRead = onRead;
  }

  /** Opens `path` (on local disk, `size` bytes). `onRead` receives the bytes the library reads from it, call by call. */
  static open(lib: Hdf5Library, path: string, size: number, label: string, onRead: (bytes: number) => void): Hdf5File {
    const file = new Hdf5File(lib, path, size, label, onRead);
    file.fileId = file.run('opening it', () => {
      const id = new lib.h5wasm.File(file.path, 'r').file_id;
      if (id < 0n) throw new Error('H5Fopen returned no file');
      return id;
    });
    return file;
  }

  /** The names of an object's attributes. */
  attributeNames(objectPath: string): string[] {
    return this.run(`listing the attributes of "${objectPath || '/'}"`, (id) => {
      this.requireHard(objectPath);
      return this.lib.module.get_attribute_names(id, objectPath || '/');
    });
  }

  /** An attribute's value as h5wasm decodes it (strings for string types, typed arrays for numbers). */
  attribute(objectPath: string, name: string): unknown {
    return this.run(`reading the attribute "${name}" of "${objectPath || '/'}"`, (id) => {
      this.requireHard(objectPath);
      return new this.lib.h5wasm.Group(id, objectPath || '/').get_attribute(name, false);
    });
  }

  /** True when every component of `objectPath` exists as a hard link; soft and external links are refused. */
  exists(objectPath: string): boolean {
    return this.run(`looking up "${objectPath}"`, () => this.resolveHard(objectPath));
  }

  isGroup(objectPath: string): boolean {
    return this.run(`looking up "${objectPath}"`, (id) => this.resolveHard(objectPath) && this.lib.module.get_type(id, objectPath || '/') === this.lib.module.H5G_GROUP);
  }

  /** A dataset's declared type and shape; virtual datasets are refused. */
  dataset(datasetPath: string): Hdf5Dataset {
    return this.run(`reading the header of "${datasetPath}"`, (id) => {
      const module = this.lib.module;
      if (!this.resolveHard(datasetPath)) throw new Conv1Error(this.label, `has no dataset "${datasetPath}"`, REEXPORT_HINT);
      if (module.get_type(id, datasetPath) !== module.H5G_DATASET) throw new Conv1Error(this.label, `has "${datasetPath}", but it is not a dataset`, REEXPORT_HINT);
      const metadata = module.get_dataset_metadata(id, datasetPath);
      if (metadata.virtual_sources) {
        const sources = metadata.virtual_sources.map((source) => `dataset "${source.dset_name}" of "${source.file_name}"`).join(', ');
        throw new Conv1Error(this.label, `makes "${datasetPath}" a virtual dataset whose values come from ${sources}`, LINK_HINT);
      }
      if (!metadata.shape) throw new Conv1Error(this.label, `gives "${datasetPath}" no shape (an empty dataspace)`, REEXPORT_HINT);
      return { path: datasetPath, shape: metadata.shape, metadata, filtered: module.get_dataset_filters(id, datasetPath).length > 0 };
    });
  }

  /**
   * Reads a floating-point dataset whole, as float32. Sizes are checked against the file before
   * anything is allocated; a dataset whose storage was never written (HDF5 would hand back its
   * fill value) is refused.
   */
  readFloat32(dataset: Hdf5Dataset): Float32Array {
    const { metadata, path } = dataset;
    const elements = dataset.shape.reduce((a, b) => a * b, 1);
    if (metadata.type !== H5T_FLOAT || (metadata.size !== 4 && metadata.size !== 8))
      throw new Conv1Error(
        this.label,
        `stores "${path}" as ${describeType(metadata)}, not as 32- or 64-bit floats`,
        'Save the model with float32 weights (for mixed precision, the variables are float32 already; cast bfloat16 or float16 models before saving).',
      );
    const declared = elements * metadata.size;
    const limit = Math.min(MAX_KERNEL_BYTES, dataset.filtered ? this.size * MAX_FILTER_RATIO : this.size);
    if (declared > limit)
      throw new Conv1Error(
        this.label,
        `declares ${declared} bytes for "${path}" [${dataset.shape}]` +
          (declared > MAX_KERNEL_BYTES ? `, more than the ${MAX_KERNEL_BYTES} bytes a kernel may have` : `, more than a ${this.size}-byte file can hold`),
        'The file is truncated or damaged; download or save the model again.',
      );
    let rawBytes = 0;
    const values = this.run(
      `reading "${path}"`,
      () => new this.lib.h5wasm.Dataset(this.fileId!, path).value,
      (bytes) => (rawBytes = bytes),
    );
    if (!(values instanceof Float32Array || values instanceof Float64Array) || values.length !== elements)
      throw new Conv1Error(this.label, `yields ${describeValue(values)} for "${path}" instead of ${elements} floats`, 'The file is damaged; download or save the model again.');
    // Unwritten storage reads as the fill value without touching the disk. A compact dataset also
    // reads 0 bytes (its values sit in the header), but Keras never writes one and real weights are
    // not all equal, so only that combination is taken for missing data.
    if (elements > 0 && rawBytes === 0 && values.every((v) => Object.is(v, values[0])))
      throw new Conv1Error(this.label, `declares "${path}" [${dataset.shape}] but stores none of its values (HDF5 would return the fill value ${values[0]})`, 'The file is incomplete; save the model again.');
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }

  /** Refuses to continue unless `objectPath` exists through hard links only. */
  private requireHard(objectPath: string): void {
    if (!this.resolveHard(objectPath)) throw new Conv1Error(this.label, `has no object "${objectPath}"`, REEXPORT_HINT);
  }

  /**
   * Walks `objectPath` one component at a time, from the root. HDF5 itself follows soft and
   * external links silently on every lookup (even an existence check opens an external link's
   * file), so each component is checked to be a hard link before anything looks beyond it.
   */
  private resolveHard(objectPath: string): boolean {
    const module = this.lib.module;
    const id = this.fileId!;
    let current = '';
    for (const part of objectPath.split('/').filter((p) => p !== '')) {
      if (part === '.') throw new Conv1Error(this.label, `refers to the object "${objectPath}", whose path contains "."`, REEXPORT_HINT);
      const next = `${current}/${part}`;
      if (!this.hardLinks.has(next)) {
        if (current !== '' && module.get_type(id, current) !== module.H5G_GROUP) return false;
        let names = this.members.get(current);
        if (!names) {
          names = new Set(module.get_names(id, current || '/', false));
          this.members.set(current, names);
        }
        if (!names.has(part)) return false;
        const softTarget = module.get_symbolic_link(id, next);
        if (softTarget !== null) throw new Conv1Error(this.label, `makes "${next}" a soft link to "${softTarget}"`, LINK_HINT);
        const external = module.get_external_link(id, next) as { filename?: string; obj_path?: string };
        if (external.filename !== undefined)
          throw new Conv1Error(this.label, `makes "${next}" an external link to "${external.obj_path}" in the file "${external.filename}"`, LINK_HINT);
        this.hardLinks.add(next);
      }
      current = next;
    }
    return true;
  }

  /**
   * Runs library calls with the file system watched. h5wasm is synchronous, so while `body` runs
   * no other code can touch the FS object: the wrappers see exactly this call's I/O. `action`
   * says what was being done, for messages; `onRaw` receives the bytes this one call read.
   */
  private run<T>(action: string, body: (fileId: bigint) => T, onRaw?: (bytes: number) => void): T {
    const lib = this.lib;
    const fs = lib.fs;
    const { read, open } = fs;
    const own = (path: string | undefined) => typeof path === 'string' && resolve(path) === this.path;
    let bytes = 0;
    let foreign: string | undefined;
    const scratch: EmscriptenStream[] = [];
    fs.read = (stream, buffer, offset, length, position) => {
      const count = read(stream, buffer, offset, length, position);
      if (own(stream.path)) bytes += count;
      return count;
    };
    fs.open = (path, flags, mode) => {
      if (own(path)) return open(path, flags, mode);
      // A file created exclusively is new and empty, so it cannot leak anything: it is the
      // tmpfile() h5wasm's error handler prints HDF5's error stack into.
      if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) {
        const stream = open(path, flags, mode);
        scratch.push(stream);
        return stream;
      }
      // HDF5 looks through its plugin folders for a filter or VOL connector it lacks (when a
      // file will not open, it tries every connector). Plugins are code, never loaded here: the
      // search finds nothing, and the file's own error is the one reported.
      const target = resolve(path);
      if (lib.pluginFolders.some((folder) => target === folder || target.startsWith(`${folder}${sep}`))) throw new fs.ErrnoError(ENOENT);
      foreign ??= path;
      throw new fs.ErrnoError(EACCES);
    };
    try {
      const result = body(this.fileId ?? -1n);
      if (foreign !== undefined) throw foreignFile(this.label, foreign, action);
      return result;
    } catch (error) {
      if (error instanceof Conv1Error) throw error;
      if (foreign !== undefined) throw foreignFile(this.label, foreign, action, error);
      throw this.libraryFailure(action, error);
    } finally {
      fs.read = read;
      fs.open = open;
      // The handler throws before it closes its tmpfile(); without this every HDF5 error would
      // leak a file descriptor.
      for (const stream of scratch) if (!fs.isClosed(stream)) fs.close(stream);
      this.onRead(bytes);
      onRaw?.(bytes);
    }
  }

  private libraryFailure(action: string, error: unknown): Conv1Error {
    const message = error instanceof Error ? error.message : String(error);
    // A trap (out-of-bounds access, abort, stack exhaustion: RangeError) or an exit() unwinds
    // through the C code and can leave the library's memory in any state: the thread is ended
    // rather than trusted (see Hdf5Trap).
    if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError || (error as { name?: unknown })?.name === 'ExitStatus')
      return new Hdf5Trap(this.label, `made the HDF5 library fail while ${action} (${message})`, 'The file is damaged or crafted; download or save the model again.', { cause: error });
    return new Conv1Error(this.label, `could not be read while ${action}: ${innermostHdf5Error(message)}`, 'The file is damaged, truncated or not a Keras HDF5 file; download or save the model again.', {
      cause: error,
    });
  }
}

/** A failure after which this thread's library is not used again: the main side ends the thread. */
class Hdf5Trap extends Conv1Error {}

function foreignFile(label: string, path: string, action: string, cause?: unknown): Conv1Error {
  return new Conv1Error(label, `makes the HDF5 library open another file, "${path}", while ${action} (an external link, external storage or a virtual dataset)`, LINK_HINT, { cause });
}

/** HDF5's error stack lists the API call first and the actual cause last: keep the cause. */
function innermostHdf5Error(message: string): string {
  const causes = [...message.matchAll(/#\d+: .* in ([\w]+)\(\): (.+)/g)];
  const last = causes.at(-1);
  return last ? `${last[2]!.trim()} (HDF5 ${last[1]})` : (message.split('\n')[0] ?? message);
}

function describeType(metadata: Metadata): string {
  const classes = ['integers', 'floats', 'times', 'strings', 'bit fields', 'opaque bytes', 'compounds', 'references', 'enums', 'variable-length data', 'arrays'];
  const name = classes[metadata.type] ?? `HDF5 type class ${metadata.type}`;
  return metadata.type === H5T_FLOAT || metadata.type === 0 ? `${metadata.size * 8}-bit ${name}` : name;
}

function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// Keras layouts

/** A convolution and where its kernel is stored. */
interface H5Conv extends ConvLayer {
  dataset: Hdf5Dataset;
}

/** Keras writes string lists as arrays of fixed-length byte strings; h5wasm gives strings or an array of them. */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

/**
 * A list attribute such as layer_names or weight_names. HDF5 caps an attribute at 64 KiB, so
 * Keras splits long lists into name0, name1, … (legacy_h5_format.save_attributes_to_hdf5_group).
 */
function readNameList(h5: Hdf5File, objectPath: string, name: string): string[] | undefined {
  const names = new Set(h5.attributeNames(objectPath));
  const parts = names.has(name) ? [name] : [];
  if (parts.length === 0) for (let chunk = 0; names.has(`${name}${chunk}`); chunk++) parts.push(`${name}${chunk}`);
  if (parts.length === 0) return undefined;
  const list: string[] = [];
  for (const part of parts) {
    const values = stringList(h5.attribute(objectPath, part));
    if (!values) throw new Conv1Error(h5.label, `has a "${part}" attribute on "${objectPath || '/'}" that is not a list of strings`, REEXPORT_HINT);
    list.push(...values);
  }
  return list;
}

function textAttribute(h5: Hdf5File, name: string): string {
  const value = h5.attribute('', name);
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new Conv1Error(h5.label, `has a "${name}" attribute that is not text`, REEXPORT_HINT);
}

/** The last component of a Keras weight name without its ":0" suffix, e.g. "model/conv1/kernel:0" → "kernel". */
function weightRole(weightName: string): string {
  return (weightName.split('/').at(-1) ?? '').replace(/:\d+$/, '');
}

/** A rank-4 kernel's dataset, described as the convolution it belongs to. */
function describeKernel(h5: Hdf5File, datasetPath: string, name: string, layerType: string, strides: [number, number]): H5Conv {
  const dataset = h5.dataset(datasetPath);
  if (dataset.shape.length !== 4)
    throw new Conv1Error(h5.label, `gives the kernel "${datasetPath}" of "${name}" the shape [${dataset.shape}], not a rank-4 convolution kernel`, 'Only 2-D convolutions can be drawn as filters; choose another layer.');
  const shape = kernelShapeAsHwio(dataset.shape as [number, number, number, number], layerType !== 'Conv2D');
  return { name, layerType, shape, strides, dataset };
}

/**
 * Full model: the topology decides the order. Each convolution's kernel is the weight whose
 * name ends in "kernel" (Conv2D) or "depthwise_kernel" (the drawn part of DepthwiseConv2D and
 * SeparableConv2D) in the layer's weight_names.
 */
function fullModelConvolutions(h5: Hdf5File, modelConfig: unknown): { convolutions: H5Conv[]; layerNames: string[] } {
  const layers = kerasLayersFromInputs(modelConfig, h5.label, REEXPORT_HINT);
  if (!h5.isGroup('model_weights')) throw new Conv1Error(h5.label, 'has a model_config but no model_weights group', REEXPORT_HINT);
  const convolutions = layers
    .filter((layer) => CONV_CLASSES.has(layer.class_name))
    .map((layer): H5Conv => {
      const group = `model_weights/${layer.name}`;
      const weightNames = h5.exists(group) ? readNameList(h5, group, 'weight_names') : undefined;
      if (!weightNames) throw new Conv1Error(h5.label, `has no weights for the convolution "${layer.name}" (no weight_names on ${group})`, REEXPORT_HINT);
      const role = layer.class_name === 'Conv2D' ? 'kernel' : 'depthwise_kernel';
      const kernels = weightNames.filter((name) => weightRole(name) === role);
      if (kernels.length !== 1)
        throw new Conv1Error(
          h5.label,
          kernels.length === 0
            ? `has no ${role} among the weights of the convolution "${layer.name}" (${weightNames.join(', ') || 'none'})`
            : `lists ${kernels.length} ${role} weights for the convolution "${layer.name}"`,
          REEXPORT_HINT,
        );
      return describeKernel(h5, `${group}/${kernels[0]}`, layer.name, layer.class_name, parseStrides(layer.config));
    });
  if (convolutions.length === 0) {
    const nested = nestedModelError(h5.label, layers);
    if (nested) throw nested;
  }
  return { convolutions, layerNames: layers.map((layer) => layer.name) };
}

/**
 * Weights only: there is no topology, so the order is layer_names', which is Keras' own layer
 * order (model.layers) — for the usual single-input networks the first convolution in it is the
 * first one the input meets. A layer counts as a convolution when one of its weights is rank 4;
 * its class and strides are unknown, so the kind is read from the weight's name and strides are
 * taken as 1.
 */
function weightsOnlyConvolutions(h5: Hdf5File, layerNames: string[]): H5Conv[] {
  const convolutions: H5Conv[] = [];
  for (const layer of layerNames) {
    const weightNames = h5.exists(layer) ? (readNameList(h5, layer, 'weight_names') ?? []) : [];
    const kernel = weightNames.find((name) => h5.dataset(`${layer}/${name}`).shape.length === 4);
    if (kernel === undefined) continue;
    const layerType = weightRole(kernel).includes('depthwise') ? 'DepthwiseConv2D' : 'Conv2D';
    convolutions.push(describeKernel(h5, `${layer}/${kernel}`, layer, layerType, [1, 1]));
  }
  return convolutions;
}

/** Keras 2 .h5: a full model (topology in model_config) or weights only (layer_names). */
function kerasH5Convolutions(h5: Hdf5File): { convolutions: H5Conv[]; layerNames: string[] } {
  const rootAttributes = new Set(h5.attributeNames(''));
  if (rootAttributes.has('model_config')) {
    const text = textAttribute(h5, 'model_config');
    let modelConfig: unknown;
    try {
      modelConfig = JSON.parse(text);
    } catch (error) {
      throw new Conv1Error(h5.label, `has a model_config attribute that is not valid JSON (${(error as Error).message})`, REEXPORT_HINT, { cause: error });
    }
    if (!isRecord(modelConfig)) throw new Conv1Error(h5.label, 'has a model_config attribute that is not a JSON object', REEXPORT_HINT);
    return fullModelConvolutions(h5, modelConfig);
  }
  const names = readNameList(h5, '', 'layer_names');
  if (!names) {
    const keras3 = h5.exists('layers') || h5.exists('_layer_checkpoint_dependencies');
    throw new Conv1Error(
      h5.label,
      keras3 ? 'holds Keras 3 weights (a .weights.h5 file) without the model config they need' : 'is an HDF5 file but not a Keras model (no model_config and no layer_names)',
      keras3 ? 'Save the whole model with model.save("model.keras") and point `model` at that file.' : REEXPORT_HINT,
    );
  }
  return { convolutions: weightsOnlyConvolutions(h5, names), layerNames: names };
}

/** A .keras archive's model.weights.h5: the main side found the convolutions in config.json; here their kernels are located. */
function keras3Convolutions(h5: Hdf5File, convolutions: readonly Keras3Conv[]): H5Conv[] {
  const prefix = ['layers', '_layer_checkpoint_dependencies'].find((group) => h5.isGroup(group));
  if (prefix === undefined) throw new Conv1Error(h5.label, 'has no "layers" group, where Keras 3 keeps the layers\' weights', KERAS3_RESAVE_HINT);
  return convolutions.map((conv) => describeKernel(h5, `${prefix}/${conv.key}/vars/0`, conv.name, conv.layerType, conv.strides));
}

// ---------------------------------------------------------------------------------------------
// The message loop

const port = parentPort!;
let opened: { h5: Hdf5File; convolutions: H5Conv[] } | undefined;
let unreported = 0;

async function answer(request: Hdf5Request): Promise<{ result: Hdf5Contents | Float32Array; transfer: ArrayBuffer[] }> {
  if (request.op === 'read') {
    const values = opened!.h5.readFloat32(opened!.convolutions[request.index]!.dataset);
    return { result: values, transfer: [values.buffer as ArrayBuffer] };
  }
  let lib: Hdf5Library;
  try {
    lib = await loadLibrary();
  } catch (error) {
    throw new Conv1Error(request.label, `cannot be read: the HDF5 library (h5wasm) failed to load (${(error as Error).message})`, 'Reinstall the project dependencies (npm install).', { cause: error });
  }
  const h5 = Hdf5File.open(lib, request.path, request.size, request.label, (bytes) => (unreported += bytes));
  const { layout } = request;
  const { convolutions, layerNames } = layout.kind === 'keras-h5' ? kerasH5Convolutions(h5) : { convolutions: keras3Convolutions(h5, layout.convolutions), layerNames: [] };
  opened = { h5, convolutions };
  return { result: { convolutions: convolutions.map(({ dataset: _, ...conv }) => conv), layerNames }, transfer: [] };
}

port.on('message', async (request: Hdf5Request) => {
  let reply: Hdf5Reply;
  let transfer: ArrayBuffer[] = [];
  try {
    const answered = await answer(request);
    reply = { id: request.id, bytes: unreported, result: answered.result };
    transfer = answered.transfer;
  } catch (error) {
    reply = { id: request.id, bytes: unreported, error: { ...toWire(error), fatal: error instanceof Hdf5Trap } };
  }
  unreported = 0;
  port.postMessage(reply, transfer);
});
