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
 * The library never opens the model from disk. Its file system object (Emscripten's FS, in
 * h5wasm/node the host's files) is given one file of our own, at a path no disk has, whose reads
 * the main thread answers from the model's ModelFiles: a local file, an HTTP server's ranges, or a
 * member of a .keras zip. h5wasm is synchronous and the sources are not, so a read posts the range
 * to the main thread and sleeps on a shared flag (Atomics.wait) until the bytes are posted back,
 * then takes them off its port at once (receiveMessageOnPort). HDF5 thus fetches only what it
 * parses (superblock, object headers, B-tree and heap nodes, the one kernel's data), and the
 * main side's ModelFiles counts every byte.
 *
 * Any attempt to open another file is refused. That rule is what stops external links, external
 * storage and virtual datasets from reading arbitrary files even where h5wasm offers no way to see
 * them (it does not expose external storage at all).
 */
import { resolve, sep } from 'node:path';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Metadata } from 'h5wasm/node';
import { Conv1Error } from '../errors.ts';
import { fromWire, toWire, type WireError } from '../threads.ts';
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

/** `name`: the file's own name (no folder), which HDF5 reports in its messages; `size`: its bytes. */
export type Hdf5Query = { op: 'open'; name: string; size: number; label: string; layout: Hdf5Layout } | { op: 'read'; index: number };
export type Hdf5Request = Hdf5Query & { id: number };

export interface Hdf5Contents {
  convolutions: ConvLayer[];
  layerNames: string[];
}

/**
 * A failure, as it crosses the thread boundary. `fatal`: the library must not be used again, as it
 * trapped, or a read failed under it (HDF5 may keep what it was reading into, e.g. a sieve buffer,
 * and answer the next request from it).
 */
export type Hdf5WireError = WireError & { fatal: boolean };

export type Hdf5Reply = { id: number } & ({ result: Hdf5Contents | Float32Array } | { error: Hdf5WireError });

/**
 * The thread's line for file bytes, given as workerData: it posts an Hdf5ByteRequest on `port`,
 * then waits until the main side has posted the Hdf5ByteReply and set `signal` (an Int32Array's
 * one element) to non-zero.
 */
export interface Hdf5ByteChannel {
  port: MessagePort;
  signal: SharedArrayBuffer;
}
export interface Hdf5ByteRequest {
  offset: number;
  length: number;
}
/** Exactly the bytes asked for, or why they could not be read (a Conv1Error naming the source). */
export type Hdf5ByteReply = { bytes: Uint8Array } | { error: WireError };

// ---------------------------------------------------------------------------------------------
// The library

type H5wasm = typeof import('h5wasm/node').default;
type H5Module = Awaited<H5wasm['ready']>;

/** The part of Emscripten's FS object (NODERAWFS in h5wasm/node) that the model file is mounted through. */
interface EmscriptenStream {
  path?: string;
  position: number;
}
interface EmscriptenStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
}
interface StreamOps {
  read(stream: EmscriptenStream, buffer: Int8Array, offset: number, length: number, position: number): number;
  llseek(stream: EmscriptenStream, offset: number, whence: number): number;
}
interface EmscriptenFs {
  read(stream: EmscriptenStream, buffer: Int8Array, offset: number, length: number, position?: number): number;
  open(path: string, flags: number, mode?: number): EmscriptenStream;
  close(stream: EmscriptenStream): void;
  isClosed(stream: EmscriptenStream): boolean;
  stat(path: string, dontFollow?: boolean): EmscriptenStat;
  lstat(path: string): EmscriptenStat;
  fstat(fd: number): EmscriptenStat;
  getStream(fd: number): EmscriptenStream | null;
  createStream(stream: { path: string; flags: number; position: number; seekable: boolean; node: { id: number; mode: number }; stream_ops: StreamOps }): EmscriptenStream;
  ErrnoError: new (errno: number) => Error;
}

interface Hdf5Library {
  h5wasm: H5wasm;
  module: H5Module;
  fs: EmscriptenFs;
  /** Folders HDF5 searches for filter and VOL plugins (compiled-in paths of h5wasm's build). */
  pluginFolders: string[];
}

/** Emscripten's Linux-compatible open(2) flags, errno values, lseek whence and file mode bits. */
const O_ACCMODE = 0o3;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const EACCES = 2;
const EINVAL = 28;
const EIO = 29;
const ENOENT = 44;
const SEEK_CUR = 1;
const SEEK_END = 2;
const S_IFREG_READ_ONLY = 0o100444;
const H5T_FLOAT = 1;
/** The folder of the model file's path in the library's view: it exists nowhere else. */
const MODEL_FOLDER = '/conv1-model/';
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

const channel = workerData as Hdf5ByteChannel;
const signal = new Int32Array(channel.signal);

/** Why the main thread could not deliver bytes of the model file. */
class SourceFailure extends Error {
  readonly error: Error;
  constructor(error: Error) {
    super(error.message);
    this.error = error;
  }
}

/** Bytes [offset, offset + length) of the model file, from the main thread; blocks this thread until they come. */
function fetchBytes(offset: number, length: number): Uint8Array {
  Atomics.store(signal, 0, 0);
  channel.port.postMessage({ offset, length } satisfies Hdf5ByteRequest);
  Atomics.wait(signal, 0, 0);
  // The reply was posted before the flag was set, so it is already on the port.
  const reply = receiveMessageOnPort(channel.port)?.message as Hdf5ByteReply | undefined;
  if (!reply) throw new Error('bug: woken without an answer on the byte channel');
  if ('error' in reply) throw new SourceFailure(fromWire(reply.error));
  return reply.bytes;
}

/**
 * HDF5 reads metadata in pieces of tens to hundreds of bytes (object headers speculatively, 512
 * at a time), near one another and often more than once; it allocates metadata in blocks of 2 KiB.
 * Small reads are rounded out to whole blocks of that size, which are kept: on ResNet50-sized
 * files this turns 190 to 720 reads into 90 to 150, for 1.0 to 1.6 times the bytes (measured for
 * a full-model .h5, a weights-only .h5 and a .keras). Reads larger than a few blocks are a
 * kernel's data and are fetched exactly.
 */
const BLOCK_BYTES = 2048;
const MAX_BLOCK_READ = 4 * BLOCK_BYTES;
/** Blocks kept at most (8 MiB); past that the cache starts over. */
const MAX_BLOCKS = 4096;

function cachedReader(size: number): (offset: number, length: number) => Uint8Array {
  const blocks = new Map<number, Uint8Array>();
  return (offset, length) => {
    if (length > MAX_BLOCK_READ) return fetchBytes(offset, length);
    if (blocks.size > MAX_BLOCKS) blocks.clear();
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
    // Each run of missing blocks is one fetch.
    for (let block = first; block <= last; block++) {
      if (blocks.has(block)) continue;
      let end = block;
      while (end < last && !blocks.has(end + 1)) end++;
      const start = block * BLOCK_BYTES;
      const bytes = fetchBytes(start, Math.min(size, (end + 1) * BLOCK_BYTES) - start);
      for (let k = block; k <= end; k++) blocks.set(k, bytes.subarray((k - block) * BLOCK_BYTES, (k - block + 1) * BLOCK_BYTES));
      block = end;
    }
    const out = new Uint8Array(length);
    for (let block = first; block <= last; block++) {
      const start = block * BLOCK_BYTES;
      const from = Math.max(offset, start);
      const to = Math.min(offset + length, start + BLOCK_BYTES);
      out.set(blocks.get(block)!.subarray(from - start, to - start), from - offset);
    }
    return out;
  };
}

/** Set when a read of the model file failed: see Hdf5WireError. */
let readFailed = false;

/** What the library did during one of our calls (see Hdf5File.run). */
interface CallWatch {
  /** Bytes of the model file it read. */
  bytes: number;
  /** The first other file it tried to open. */
  foreign: string | undefined;
  /** Why the model's bytes could not be had (network, truncation): said instead of HDF5's read error. */
  sourceError: Error | undefined;
  /** Files it created to print its error stack into, closed after the call. */
  scratch: EmscriptenStream[];
}

/**
 * Gives the library's file system the model file at `path`, `size` bytes read through
 * fetchBytes, and refuses every other file but the error handler's scratch files. The thread
 * serves one file, so this is done once, before the library opens it.
 */
function mountModelFile(lib: Hdf5Library, path: string, size: number, watch: CallWatch): void {
  const fs = lib.fs;
  const { open, stat, lstat, fstat } = fs;
  const readRange = cachedReader(size);
  const ops: StreamOps = {
    read(_stream, buffer, offset, length, position) {
      const end = Math.min(size, position + length);
      if (end <= position) return 0;
      let bytes: Uint8Array;
      try {
        bytes = readRange(position, end - position);
      } catch (error) {
        if (!(error instanceof SourceFailure)) throw error;
        readFailed = true;
        watch.sourceError ??= error.error;
        throw new fs.ErrnoError(EIO);
      }
      new Uint8Array(buffer.buffer, buffer.byteOffset + offset, bytes.length).set(bytes);
      watch.bytes += bytes.length;
      return bytes.length;
    },
    llseek(stream, offset, whence) {
      const position = offset + (whence === SEEK_CUR ? stream.position : whence === SEEK_END ? size : 0);
      if (position < 0) throw new fs.ErrnoError(EINVAL);
      stream.position = position;
      return position;
    },
  };
  // Only what HDF5's file driver looks at (type, size, identity) is meaningful.
  const epoch = new Date(0);
  const info = (): EmscriptenStat => ({ dev: 1, ino: 1, mode: S_IFREG_READ_ONLY, nlink: 1, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: Math.ceil(size / 512), atime: epoch, mtime: epoch, ctime: epoch });
  fs.stat = (target, dontFollow) => (target === path ? info() : stat(target, dontFollow));
  fs.lstat = (target) => (target === path ? info() : lstat(target));
  fs.fstat = (fd) => (fs.getStream(fd)?.path === path ? info() : fstat(fd));
  fs.open = (target, flags, mode) => {
    if (target === path) {
      if ((flags & O_ACCMODE) !== 0) throw new fs.ErrnoError(EACCES);
      return fs.createStream({ path, flags, position: 0, seekable: true, node: { id: 1, mode: S_IFREG_READ_ONLY }, stream_ops: ops });
    }
    // A file created exclusively is new and empty, so it cannot leak anything: it is the
    // tmpfile() h5wasm's error handler prints HDF5's error stack into.
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) {
      const stream = open(target, flags, mode);
      watch.scratch.push(stream);
      return stream;
    }
    // HDF5 looks through its plugin folders for a filter or VOL connector it lacks (when a
    // file will not open, it tries every connector). Plugins are code, never loaded here: the
    // search finds nothing, and the file's own error is the one reported.
    const resolved = resolve(target);
    if (lib.pluginFolders.some((folder) => resolved === folder || resolved.startsWith(`${folder}${sep}`))) throw new fs.ErrnoError(ENOENT);
    watch.foreign ??= target.startsWith(MODEL_FOLDER) ? target.slice(MODEL_FOLDER.length) : target;
    throw new fs.ErrnoError(EACCES);
  };
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
 * One HDF5 file opened read-only by h5wasm. Every library call runs inside `run`, which sees the
 * bytes read from this file, refuses to let the library open any other file, and turns any
 * failure (an HDF5 error, a wasm trap, a JS error from h5wasm, a source that cannot deliver) into
 * a Conv1Error naming the file.
 */
class Hdf5File {
  readonly label: string;
  private readonly lib: Hdf5Library;
  private readonly size: number;
  private readonly watch: CallWatch = { bytes: 0, foreign: undefined, sourceError: undefined, scratch: [] };
  private fileId: bigint | undefined;
  /** Paths already checked to be hard links, and the member names of groups already listed. */
  private readonly hardLinks = new Set<string>(['']);
  private readonly members = new Map<string, Set<string>>();

  private constructor(lib: Hdf5Library, size: number, label: string) {
    this.lib = lib;
    this.size = size;
    this.label = label;
  }

  /** Opens the model file, `size` bytes called `name`, whose bytes the main thread serves. */
  static open(lib: Hdf5Library, name: string, size: number, label: string): Hdf5File {
    const file = new Hdf5File(lib, size, label);
    // The name is only for HDF5's messages; a "/" in it would make folders the mount has not.
    const path = `${MODEL_FOLDER}${name.replaceAll('/', '_') || 'model.h5'}`;
    mountModelFile(lib, path, size, file.watch);
    file.fileId = file.run('opening it', () => {
      const id = new lib.h5wasm.File(path, 'r').file_id;
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
   * Runs library calls and looks at what they did to the file system. h5wasm is synchronous, so
   * while `body` runs no other code can touch it: the watch sees exactly this call's I/O. `action`
   * says what was being done, for messages; `onRaw` receives the bytes this one call read.
   */
  private run<T>(action: string, body: (fileId: bigint) => T, onRaw?: (bytes: number) => void): T {
    const watch = this.watch;
    const fs = this.lib.fs;
    Object.assign(watch, { bytes: 0, foreign: undefined, sourceError: undefined });
    try {
      const result = body(this.fileId ?? -1n);
      if (watch.sourceError) throw watch.sourceError;
      if (watch.foreign !== undefined) throw foreignFile(this.label, watch.foreign, action);
      return result;
    } catch (error) {
      if (error instanceof Conv1Error) throw error;
      if (watch.foreign !== undefined) throw foreignFile(this.label, watch.foreign, action, error);
      const failure = this.libraryFailure(action, error);
      // HDF5 reports a failed read as its own error; the source's says what happened (a server
      // error, a truncated file). A trap still ends the thread, whatever set it off.
      if (watch.sourceError && !(failure instanceof Hdf5Trap)) throw watch.sourceError;
      throw failure;
    } finally {
      // The handler throws before it closes its tmpfile(); without this every HDF5 error would
      // leak a file descriptor.
      for (const stream of watch.scratch.splice(0)) if (!fs.isClosed(stream)) fs.close(stream);
      onRaw?.(watch.bytes);
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
  const h5 = Hdf5File.open(lib, request.name, request.size, request.label);
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
    reply = { id: request.id, result: answered.result };
    transfer = answered.transfer;
  } catch (error) {
    reply = { id: request.id, error: { ...toWire(error), fatal: error instanceof Hdf5Trap || readFailed } };
  }
  port.postMessage(reply, transfer);
});
