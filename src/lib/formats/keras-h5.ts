import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import { fromWire, toWire, workerBeside } from '../threads.ts';
import type { ConvLayer, FormatReader, OpenedModel } from './format.ts';
import type { Hdf5ByteChannel, Hdf5ByteReply, Hdf5ByteRequest, Hdf5Contents, Hdf5Layout, Hdf5Query, Hdf5Reply, Hdf5Request } from './keras-h5-worker.ts';
import type { KerasLayer } from './tfjs-layers.ts';

/**
 * Keras HDF5 files (.h5), read with h5wasm: the HDF5 C library compiled to WebAssembly. Two
 * layouts exist (keras legacy_h5_format.py):
 *
 * - full model: root attribute `model_config` (the Keras topology as JSON) and the weights under
 *   `model_weights/<layer>/<weight name>`, the layers listed by `model_weights`' `layer_names`;
 * - weights only (`save_weights`, e.g. the official ResNet50 weights): `layer_names` at the root
 *   and the weights at `<layer>/<weight name>`, with no topology at all.
 *
 * h5wasm never runs in this thread. HDF5 can loop forever on a damaged file (inside one
 * synchronous call, which nothing in the thread can interrupt) or trap and leave its memory in any
 * state, so each opened model gets a worker thread of its own (keras-h5-worker.ts, which holds
 * the layouts' code), with a deadline on every request: a hang or a trap costs that thread, never
 * the build, and the next model starts with a fresh library.
 *
 * The library reads the file through this thread: each read it makes is one ModelFiles.read of
 * the range it asked for, so a local file, a remote one (HTTP ranges) and a member of a .keras
 * archive cost the same bytes, counted where every other format's are.
 */

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * How long one request to the worker (opening a model with the worker's start, or reading one
 * kernel of at most 256 MB) may compute. Healthy files take well under a second, so this much
 * means HDF5 is looping on a damaged file. Time spent fetching the file's bytes does not count:
 * a slow network is not a damaged file. ASTRO_CONV1_HDF5_DEADLINE_MS overrides it (tests lower
 * it to catch hangs quickly).
 */
export const HDF5_DEADLINE_MS = 20_000;

/**
 * How many times its own size HDF5 may read of a file. A healthy read takes its metadata and one
 * kernel, a small part of the file, each about once; a damaged file can make HDF5 read on in a
 * loop, and since fetching does not count against the deadline, a loop that mostly fetches is
 * stopped here instead.
 */
const MAX_READ_FACTOR = 4;
/** …plus this much, for small files. */
const READ_ALLOWANCE_BYTES = 1024 * 1024;

const WORKER = workerBeside(import.meta.url, 'keras-h5-worker');
const DAMAGED_HINT = 'Check the file (a complete download, the file you meant), or export it again from Keras (model.save("model.h5") or model.save("model.keras")).';

function deadline(): number {
  return Number(process.env.ASTRO_CONV1_HDF5_DEADLINE_MS) || HDF5_DEADLINE_MS;
}

/** The bytes of one HDF5 file, wherever they lie: `size` bytes, read by range. */
export interface Hdf5Bytes {
  /** The file's own name, for HDF5's messages. */
  name: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** An HDF5 file opened in a worker thread of its own, with its Keras layout read. */
export interface Hdf5Model extends Hdf5Contents {
  readKernel(conv: ConvLayer): Promise<Float32Array>;
  /** Ends the thread and closes the file; safe to call after any failure. */
  close(): Promise<void>;
}

interface Pending {
  resolve(result: Hdf5Contents | Float32Array): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** Compute time left before the deadline, as of `since`. */
  remaining: number;
  since: number;
  expire(): Error;
}

class Hdf5Worker {
  private readonly label: string;
  private readonly bytes: Hdf5Bytes;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  /** Bytes the thread has asked for so far. */
  private served = 0;
  /** Set once the thread is ended (or ending): every later request fails with it. */
  private failure: Error | undefined;
  private stopped: Promise<void> | undefined;

  constructor(label: string, bytes: Hdf5Bytes) {
    this.label = label;
    this.bytes = bytes;
    const { port1, port2 } = new MessageChannel();
    this.port = port2;
    this.worker = new Worker(WORKER, { workerData: { port: port1, signal: this.signal.buffer as SharedArrayBuffer } satisfies Hdf5ByteChannel, transferList: [port1] });
    // A model someone forgets to close must not keep the process alive; a pending request's timer does.
    this.worker.unref();
    this.port.unref();
    this.port.on('message', (request: Hdf5ByteRequest) => void this.serve(request));
    this.worker.on('message', (reply: Hdf5Reply) => this.settle(reply));
    this.worker.on('error', (error) =>
      this.fail(new Conv1Error(this.label, `made the HDF5 reader's thread fail (${error.message})`, `The file is damaged or crafted; ${DAMAGED_HINT}`, { cause: error })),
    );
    this.worker.on('exit', (code) => this.fail(new Conv1Error(this.label, `made the HDF5 reader's thread stop (exit code ${code})`, `The file is damaged or crafted; ${DAMAGED_HINT}`)));
  }

  /** `doing` completes "HDF5 did not finish …" if the deadline passes. */
  request(query: Hdf5Query, doing: string): Promise<Hdf5Contents | Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const ms = deadline();
    return new Promise((resolve, reject) => {
      const expire = () => new Conv1Error(this.label, `could not be read: HDF5 did not finish ${doing} within ${ms / 1000} s, so the file is probably damaged`, DAMAGED_HINT);
      const pending: Pending = { resolve, reject, timer: undefined, remaining: ms, since: 0, expire };
      this.pending.set(id, pending);
      this.startClock(pending);
      this.worker.postMessage({ ...query, id } satisfies Hdf5Request);
    });
  }

  /** Reads the range the thread asked for and wakes it with the bytes, or with why they could not be had. */
  private async serve({ offset, length }: Hdf5ByteRequest): Promise<void> {
    this.served += length;
    if (this.served > MAX_READ_FACTOR * this.bytes.size + READ_ALLOWANCE_BYTES)
      return this.fail(
        new Conv1Error(this.label, `could not be read: HDF5 asked for ${this.served} bytes of the ${this.bytes.size}-byte file, so it is probably reading it in a loop because the file is damaged`, DAMAGED_HINT),
      );
    const paused = [...this.pending.values()];
    paused.forEach((pending) => this.stopClock(pending));
    let reply: Hdf5ByteReply;
    try {
      const bytes = await this.bytes.read(offset, length);
      // Posting a view copies its whole buffer: a range cut from a larger one is copied out first
      // (new Uint8Array, as a Buffer's slice() would not copy).
      reply = { bytes: bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes) };
    } catch (error) {
      reply = { error: toWire(error) };
    }
    if (this.failure) return;
    paused.forEach((pending) => this.startClock(pending));
    this.port.postMessage(reply);
    Atomics.store(this.signal, 0, 1);
    Atomics.notify(this.signal, 0);
  }

  private startClock(pending: Pending): void {
    pending.since = performance.now();
    pending.timer = setTimeout(() => this.fail(pending.expire()), pending.remaining);
  }

  private stopClock(pending: Pending): void {
    clearTimeout(pending.timer);
    pending.remaining -= performance.now() - pending.since;
  }

  private settle(reply: Hdf5Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if ('result' in reply) return pending.resolve(reply.result);
    const error = fromWire(reply.error);
    pending.reject(error);
    // The library trapped, or a read failed under it: its state may be inconsistent, so the thread is not asked again.
    if (reply.error.fatal) this.fail(error);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(this.failure);
    }
    this.pending.clear();
    void this.stop();
  }

  private stop(): Promise<void> {
    this.stopped ??= this.worker.terminate().then(() => this.port.close());
    return this.stopped;
  }

  close(): Promise<void> {
    this.fail(new Error(`${this.label} was read after it was closed`));
    return this.stop();
  }
}

/** Opens the HDF5 file `bytes` in a worker thread of its own and reads its `layout` there. */
export async function openHdf5Model(bytes: Hdf5Bytes, label: string, layout: Hdf5Layout): Promise<Hdf5Model> {
  const worker = new Hdf5Worker(label, bytes);
  let contents: Hdf5Contents;
  try {
    contents = (await worker.request({ op: 'open', name: bytes.name, size: bytes.size, label, layout }, 'opening it and reading its list of layers')) as Hdf5Contents;
  } catch (error) {
    await worker.close();
    throw error;
  }
  return {
    ...contents,
    readKernel: async (conv) => {
      const index = contents.convolutions.indexOf(conv);
      if (index < 0) throw new Error(`bug: the convolution "${conv.name}" is not one of ${label}'s`);
      return (await worker.request({ op: 'read', index }, `reading the kernel of "${conv.name}"`)) as Float32Array;
    },
    close: () => worker.close(),
  };
}

export function parseStrides(config: Record<string, unknown>): [number, number] {
  const strides = config.strides;
  if (typeof strides === 'number') return [strides, strides];
  if (Array.isArray(strides) && typeof strides[0] === 'number') return [strides[0], typeof strides[1] === 'number' ? strides[1] : strides[0]];
  return [1, 1];
}

/**
 * A model used as a layer (a pretrained backbone inside a Sequential, say) keeps its own layers in
 * its config. Readers here handle the layers of the saved model itself; when its convolutions are
 * all one level down, this says so instead of "no convolution".
 */
export function nestedModelError(label: string, layers: readonly KerasLayer[]): Conv1Error | undefined {
  const nested = layers.find((layer) => Array.isArray(layer.config.layers));
  if (!nested) return undefined;
  return new Conv1Error(
    label,
    `has no convolution of its own; its layers include the nested model "${nested.name}" (${nested.class_name}), whose layers this reader does not open`,
    `Save the nested model by itself (e.g. model.get_layer("${nested.name}").save(...)) and point \`model\` at that file.`,
  );
}

/** Opens a Keras .h5 file, local or remote, reading it by range. */
export async function openKerasH5(files: ModelFiles): Promise<OpenedModel> {
  const bytes: Hdf5Bytes = { name: files.main.split('/').pop()!, size: await files.size(files.main), read: (offset, length) => files.read(files.main, offset, length) };
  const model = await openHdf5Model(bytes, files.label, { kind: 'keras-h5' });
  return { format: 'keras-h5', convolutions: model.convolutions, layerNames: new Set(model.layerNames), readKernel: model.readKernel, close: model.close };
}

export const kerasH5Reader: FormatReader = {
  format: 'keras-h5',
  extensions: ['.h5', '.hdf5'],
  // HDF5 also allows a user block before the signature (at 512, 1024, 2048, … bytes), but only
  // the first 64 bytes are offered here; Keras never writes a user block, so offset 0 suffices.
  detect: (head) => HDF5_SIGNATURE.every((byte, i) => head[i] === byte),
  open: openKerasH5,
};
