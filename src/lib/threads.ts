/**
 * One request, one reply, in a worker thread of its own: how the pipeline keeps its heavy work off
 * the thread that called it (an Astro build's, whose bundling then goes on in parallel) and runs its
 * analysis beside its rendering.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
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
 * Runs the worker module `entry` (which calls `answerInThread`) on `input`. `onEvent` receives what
 * the worker emits while it works, e.g. progress.
 */
export function runInThread<I, O, E = never>(entry: URL, input: I, onEvent?: (event: E) => void): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const worker = new Worker(entry, { workerData: input });
    let settled = false;
    worker.on('message', (message: Message<O, E>) => {
      if ('event' in message) return onEvent?.(message.event);
      settled = true;
      // Answered: a thread that stays (see pipeline-worker.ts) must not keep the process alive.
      worker.unref();
      if ('result' in message) resolve(message.result);
      else reject(fromWire(message.error));
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the worker thread ${entry.pathname.split('/').pop()} stopped (exit code ${code}) without an answer`));
    });
  });
}

/** The worker's side of runInThread: answers the thread's one request with `work`'s result or failure. */
export function answerInThread<I, O, E = never>(work: (input: I, emit: (event: E) => void) => Promise<O> | O): void {
  const port = parentPort;
  if (!port) throw new Error('answerInThread runs in a worker thread started by runInThread');
  const post = (message: Message<O, E>) => port.postMessage(message);
  Promise.resolve()
    .then(() => work(workerData as I, (event) => post({ event })))
    .then(
      (result) => post({ result }),
      (error: unknown) => post({ error: toWire(error) }),
    );
}
