/**
 * The pipeline runs in a pool of worker threads: what crosses the boundary must
 * arrive whole. Results and events in order; a Conv1Error with its file, reason and hint; a bug with
 * its name and stack; a thread that dies without answering is an error, never a hang.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conv1Error } from '../../src/lib/errors.ts';
import { runPipeline, type PipelineOptions } from '../../src/lib/pipeline.ts';
import { runPipelineInThread } from '../../src/lib/pipeline-in-thread.ts';
import { ThreadPool } from '../../src/lib/threads.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { writeSmallModel, writeTinyPhoto } from '../helpers/small-site.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const THREADS = new URL('../../src/lib/threads.ts', import.meta.url).href;
const ERRORS = new URL('../../src/lib/errors.ts', import.meta.url).href;

/** A worker module whose work is `body` (a function of `input` and `emit`). */
async function worker(body: string): Promise<URL> {
  const file = new URL('worker.ts', await dirs.make('conv1-thread-'));
  await writeFile(file, `import { answerInThread } from '${THREADS}';\nimport { Conv1Error } from '${ERRORS}';\nvoid Conv1Error;\nanswerInThread(async (input: any, emit: (event: unknown) => void) => {\n${body}\n});\n`);
  return file;
}

/** One request in a thread of its own, which ends once it has answered. */
function runInThread<I, O, E = never>(entry: URL, input: I, onEvent?: (event: E) => void): Promise<O> {
  return new ThreadPool<I, O, E>(entry, 1, false).run(input, onEvent);
}

describe('a thread pool', () => {
  it('returns the result and forwards the events before it, in order', async () => {
    const events: unknown[] = [];
    const entry = await worker('for (const n of input.values) emit({ n }); return { sum: input.values.reduce((a: number, b: number) => a + b, 0), data: new Float32Array(input.values) };');
    const result = await runInThread<{ values: number[] }, { sum: number; data: Float32Array }, { n: number }>(entry, { values: [1, 2, 3.5] }, (event) => events.push(event));
    expect(result.sum).toBe(6.5);
    expect(result.data).toEqual(new Float32Array([1, 2, 3.5]));
    expect(events).toEqual([{ n: 1 }, { n: 2 }, { n: 3.5 }]);
  });

  it('hands back a Conv1Error with its file, reason and hint', async () => {
    const entry = await worker("throw new Conv1Error('model.json', 'names no layer conv9', 'Pick one of: conv1.');");
    const error = await conv1Error(runInThread(entry, {}));
    expect([error.file, error.reason, error.hint]).toEqual(['model.json', 'names no layer conv9', 'Pick one of: conv1.']);
  });

  it('hands back any other error as what it was, with the stack of the thread', async () => {
    const entry = await worker('const broken = () => { throw new RangeError("index 9 out of range"); };\nbroken();');
    const error = (await runInThread(entry, {}).catch((e: unknown) => e)) as Error;
    expect(error).not.toBeInstanceOf(Conv1Error);
    expect([error.name, error.message]).toEqual(['RangeError', 'index 9 out of range']);
    expect(error.stack).toContain('broken');
  });

  it('fails, naming the worker and its exit code, when the thread ends without answering', async () => {
    const entry = await worker('process.exit(3);');
    await expect(runInThread(entry, {})).rejects.toThrow(/worker\.ts stopped \(exit code 3\) without an answer/);
  });

  it('fails when the thread throws outside the work it was given', async () => {
    const entry = await worker('setTimeout(() => { throw new Error("thrown from a timer"); }, 0);\nreturn new Promise(() => {});');
    await expect(runInThread(entry, {})).rejects.toThrow('thrown from a timer');
  });

  it('reuses its threads, runs no more at once than its size, and queues the rest', async () => {
    const entry = await worker('const { threadId } = await import("node:worker_threads"); await new Promise((resolve) => setTimeout(resolve, 50)); return threadId;');
    const pool = new ThreadPool<object, number>(entry, 2, false);
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: 6 }, () => pool.run({})));
    expect(new Set(ids).size).toBe(2);
    // Six requests of 50 ms on two threads: three rounds, not one.
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('replaces a thread that died, and answers the requests after it', async () => {
    const entry = await worker('if (input.die) process.exit(5); return input.n;');
    const pool = new ThreadPool<{ die?: boolean; n?: number }, number>(entry, 1, false);
    const [died, ...rest] = await Promise.allSettled([pool.run({ die: true }), pool.run({ n: 1 }), pool.run({ n: 2 })]);
    expect(died.status).toBe('rejected');
    expect(rest).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 2 },
    ]);
  });
});

describe('runPipelineInThread', () => {
  let options: PipelineOptions;
  beforeAll(async () => {
    const dir = await dirs.make();
    const photo = new URL('photo.png', dir);
    await writeTinyPhoto(photo);
    options = { model: await writeSmallModel(new URL('model/', dir)), photos: [{ src: fileURLToPath(photo), id: 'photo' }], photoWidth: 32, gridScale: 2, filterScale: 2, responses: [0, 1], compare: [{ id: 'glorot', label: 'glorot', model: 'control:glorot' }] };
  });

  it('gives the same data and the same bytes as runPipeline in this thread, and reports every phase', async () => {
    const here = await runPipeline(options);
    const phases: string[] = [];
    const there = await runPipelineInThread({ ...options, onPhase: (phase, doneInMs) => phases.push(`${phase} ${doneInMs === undefined ? 'started' : 'done'}`) });
    expect(there.data).toEqual(here.data);
    expect([...there.files.keys()].sort()).toEqual([...here.files.keys()].sort());
    for (const [name, bytes] of here.files) expect(Buffer.from(there.files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
    for (const phase of ['read', 'analyse', 'render', 'convolve']) expect(phases).toEqual(expect.arrayContaining([`${phase} started`, `${phase} done`]));
    expect(phases[0]).toBe('read started');
  });

  it('reports a missing model as the Conv1Error the pipeline would throw here', async () => {
    const missing = new URL('missing/model.json', await dirs.make());
    const here = await conv1Error(runPipeline({ ...options, model: missing }));
    const there = await conv1Error(runPipelineInThread({ ...options, model: missing }));
    expect([there.file, there.reason, there.hint]).toEqual([here.file, here.reason, here.hint]);
  });
});
