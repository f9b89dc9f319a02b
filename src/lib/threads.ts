/**
 * Requests answered in worker threads: how the pipeline keeps its heavy work off the thread that
 * called it (an Astro build's, whose bundling then goes on in parallel), several models at a time.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { Conv1Error } from './errors.ts';

/** A failure as it crosses the thread boundary: a Conv1Error keeps its file, reason and hint. */
export type WireError = { conv1: { file: string; reason: string; hint: string } } | { name: string; message: string; stack: string };

export function toWire(error: unknown): WireError {
  if (error instanceof Conv1Error) return { conv1: { file: error.file, reason: error.reason, hint: error.hint } };
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
  return { name, message, stack: stack ?? '' };
}

export function fromWire(error: WireError): Error {
  if ('conv1' in error) return new Conv1Error(error.conv1.file, error.conv1.reason, error.conv1.hint);
  // Not a verdict on the input but a bug: it stays what it was, stack included.
  return Object.assign(new Error(error.message), { name: error.name, stack: error.stack });
}

type Message<O, E> = { event: E } | { result: O } | { error: WireError };

/**
 * The worker module `name` in the folder of `caller` (its import.meta.url), with the caller's own
 * extension: .ts when the library runs from its sources (tests, this repository), .js once compiled
 * into the package, where Node does not strip types.
 */
export function workerBeside(caller: string, name: string): URL {
  return new URL(`./${name}${/\.[cm]?[jt]s$/.exec(new URL(caller).pathname)?.[0] ?? '.js'}`, caller);
}

/**
 * Heap limits for every pool thread. Without them a worker's V8 heap grows far past what it holds
 * alive before collecting, and the pool keeps its threads: 41 gallery models drawn through one
 * thread peaked at 368 MB of resident memory with Node's defaults, and at 201 MB, a little faster,
 * with these. Images and kernels live in typed arrays outside the heap, so the limits bound garbage,
 * not the size of a model a thread can draw.
 */
const HEAP_LIMITS = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 8 };

interface Job<I, O, E> {
  input: I;
  onEvent: ((event: E) => void) | undefined;
  resolve(result: O): void;
  reject(error: Error): void;
}

interface Slot<I, O, E> {
  worker: Worker;
  job: Job<I, O, E> | undefined;
}

/**
 * Up to `size` threads of the worker module `entry` (which calls `answerInThread`), each answering
 * one request at a time; requests beyond that wait their turn. Threads are reused, since starting one
 * and loading its modules costs more than a small model's whole pipeline. With `keepAlive` an idle
 * thread stays, without keeping the process alive (see pipeline-in-thread.ts for why a thread that
 * loaded sharp must); otherwise the threads end once no request is left.
 */
export class ThreadPool<I, O, E = never> {
  private readonly slots: Slot<I, O, E>[] = [];
  private readonly queue: Job<I, O, E>[] = [];
  private readonly entry: URL;
  private readonly size: number;
  private readonly keepAlive: boolean;

  constructor(entry: URL, size: number, keepAlive: boolean) {
    this.entry = entry;
    this.size = size;
    this.keepAlive = keepAlive;
  }

  /** `onEvent` receives what the worker emits while it works on this request, e.g. progress. */
  run(input: I, onEvent?: (event: E) => void): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, onEvent, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((candidate) => !candidate.job) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.input);
    }
    if (!this.keepAlive && this.slots.every((slot) => !slot.job)) for (const { worker } of this.slots.splice(0)) void worker.terminate();
  }

  private spawn(): Slot<I, O, E> {
    const slot: Slot<I, O, E> = { worker: new Worker(this.entry, { resourceLimits: HEAP_LIMITS }), job: undefined };
    const finish = (settle: (job: Job<I, O, E>) => void) => {
      const job = slot.job;
      slot.job = undefined;
      if (job) settle(job);
    };
    const drop = () => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
    };
    slot.worker.on('message', (message: Message<O, E>) => {
      if ('event' in message) return slot.job?.onEvent?.(message.event);
      // Answered: an idle thread must not keep the process alive.
      slot.worker.unref();
      finish((job) => ('result' in message ? job.resolve(message.result) : job.reject(fromWire(message.error))));
      this.dispatch();
    });
    slot.worker.on('error', (error) => {
      drop();
      finish((job) => job.reject(error));
      this.dispatch();
    });
    slot.worker.on('exit', (code) => {
      drop();
      finish((job) => job.reject(new Error(`the worker thread ${this.entry.pathname.split('/').pop()} stopped (exit code ${code}) without an answer`)));
      this.dispatch();
    });
    this.slots.push(slot);
    return slot;
  }
}

/** The worker's side: answers each request with `work`'s result or failure, one at a time as the pool sends them. */
export function answerInThread<I, O, E = never>(work: (input: I, emit: (event: E) => void) => Promise<O> | O): void {
  const port = parentPort;
  if (!port) throw new Error('answerInThread runs in a worker thread started by a ThreadPool');
  const post = (message: Message<O, E>) => port.postMessage(message);
  port.on('message', (input: I) => {
    Promise.resolve()
      .then(() => work(input, (event) => post({ event })))
      .then(
        (result) => post({ result }),
        (error: unknown) => post({ error: toWire(error) }),
      );
  });
}
