/**
 * A worker thread that reads models on request, so that a test can put a time limit on a read and
 * survive whatever a hostile file does to the reader: a hang (the thread is terminated), an exit
 * from inside a library, or an exception of the wrong kind (reported, with its stack).
 *
 * Request: { id, model } (a file URL). Reply: { id, outcome } where outcome is
 * { kind: 'read', shape, values, finite } | { kind: 'refused', file, reason, hint } |
 * { kind: 'failed', name, message, stack }.
 */
import { parentPort } from 'node:worker_threads';
import { Conv1Error } from '../../src/lib/errors.ts';
import { readKernel } from '../../src/lib/read-kernel.ts';

export type ReadOutcome =
  | { kind: 'read'; shape: number[]; values: number; finite: boolean }
  | { kind: 'refused'; file: string; reason: string; hint: string }
  | { kind: 'failed'; name: string; message: string; stack: string };

async function read(model: string): Promise<ReadOutcome> {
  try {
    const kernel = await readKernel(new URL(model));
    return { kind: 'read', shape: [...kernel.shape], values: kernel.data.length, finite: kernel.data.every(Number.isFinite) };
  } catch (error) {
    if (error instanceof Conv1Error) return { kind: 'refused', file: error.file, reason: error.reason, hint: error.hint };
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    return { kind: 'failed', name, message, stack: stack ?? '' };
  }
}

parentPort!.on('message', async ({ id, model }: { id: number; model: string }) => {
  parentPort!.postMessage({ id, outcome: await read(model) });
});
