import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withGaussianNoise } from '../../src/lib/analyse/index.ts';
import { readModel, type Kernel } from '../../src/lib/index.ts';
import { resolveSeries, stepFromName } from '../../src/lib/timeline/series.ts';
import { measureSeries } from '../../src/lib/timeline/timeline.ts';
import { runCli } from '../helpers/cli.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';
import { hwioToOihw, writeSafetensors } from '../helpers/safetensors-fixture.ts';
import { conv2dLayer, inputLayer, randomValues, TempDirs, writeTfjsModel } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

let trained: Kernel;
beforeAll(async () => {
  trained = (await readModel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE })).kernel;
});

/** A checkpoint as PyTorch code would save it: conv1.weight in OIHW. */
function writeCheckpoint(url: URL, kernel: Pick<Kernel, 'data' | 'shape'>) {
  const [h, w, i, o] = kernel.shape;
  return writeSafetensors(url, [{ name: 'conv1.weight', shape: [o, i, h, w], values: hwioToOihw(kernel.data, kernel.shape) }]);
}

/** Expects a Conv1Error whose fields match. */
async function expectConv1Error(promise: Promise<unknown>, fields: { file?: RegExp; reason?: RegExp; hint?: RegExp }): Promise<void> {
  const error = await conv1Error(promise);
  for (const [key, pattern] of Object.entries(fields)) expect(error[key as keyof typeof fields], key).toMatch(pattern);
}

const smallKernel = (seed: number): Pick<Kernel, 'data' | 'shape'> => ({ data: randomValues(5 * 5 * 3 * 8, seed), shape: [5, 5, 3, 8] });

describe('steps from names', () => {
  it.each([
    ['ckpt-9.safetensors', 9],
    ['ckpt-10.safetensors', 10],
    ['epoch=3-step=1200.ckpt', 1200],
    ['model_global_step_500.pt', 500],
    ['epoch_010.onnx', 10],
    ['iter2000.h5', 2000],
  ])('%s is step %i', (name, step) => expect(stepFromName(name)).toBe(step));

  it('finds none in a name without digits', () => expect(stepFromName('final.safetensors')).toBeUndefined());
});

describe('a series named as a folder, a glob or a list', () => {
  it('orders a folder naturally, mixes formats, reads model.json subfolders and skips notes', async () => {
    const run = await dirs.make('conv1-series-');
    for (const step of [100, 9, 10]) await writeCheckpoint(new URL(`ckpt-${step}.safetensors`, run), smallKernel(step));
    await writeFile(new URL('run.json', run), JSON.stringify({ seed: 1 }));
    await mkdir(new URL('step-5/', run));
    await writeTfjsModel(new URL('step-5/', run), {
      layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [5, 5], 8)],
      inputLayers: ['input_1'],
      weights: [{ name: 'conv1/kernel', shape: [5, 5, 3, 8], values: smallKernel(5).data }],
      shardBytes: 4096,
    });
    const series = await resolveSeries('./', run);
    expect(series.map(({ step }) => step)).toEqual([5, 9, 10, 100]);
    expect(series[0]!.model).toMatch(/step-5\/model\.json$/);

    const formats: string[] = [];
    for await (const point of measureSeries(series)) formats.push(point.format);
    expect(formats).toEqual(['tfjs-layers', 'safetensors', 'safetensors', 'safetensors']);
  });

  it('lists a glob, and takes explicit steps from a list', async () => {
    const run = await dirs.make('conv1-series-');
    await mkdir(new URL('a/', run));
    for (const epoch of [2, 1, 11]) await writeCheckpoint(new URL(`a/epoch-${epoch}.safetensors`, run), smallKernel(epoch));
    await writeCheckpoint(new URL('a/other-3.safetensors', run), smallKernel(3));
    expect((await resolveSeries('a/epoch-*.safetensors', run)).map(({ step }) => step)).toEqual([1, 2, 11]);

    const listed = await resolveSeries([{ step: 300, model: 'a/epoch-1.safetensors' }, 'a/other-3.safetensors', { step: 0, model: 'a/epoch-11.safetensors' }], run);
    expect(listed).toEqual([
      { step: 0, model: 'a/epoch-11.safetensors' },
      { step: 3, model: 'a/other-3.safetensors' },
      { step: 300, model: 'a/epoch-1.safetensors' },
    ]);
  });

  it('refuses what it cannot order, naming the file', async () => {
    const run = await dirs.make('conv1-series-');
    await writeCheckpoint(new URL('final.safetensors', run), smallKernel(1));
    await expectConv1Error(resolveSeries('./', run), { file: /final\.safetensors/, reason: /no step number/, hint: /\{ step, model \}/ });
    await expectConv1Error(resolveSeries(['ckpt-1.pt', 'run-a/step_1.pt'], run), { file: /step_1\.pt|ckpt-1\.pt/, reason: /same step \(1\)/ });
    await expectConv1Error(resolveSeries('missing/', run), { reason: /does not exist/ });
    await expectConv1Error(resolveSeries('*.onnx', run), { reason: /matches no file/ });
    await expectConv1Error(resolveSeries([{ step: -1, model: 'x.pt' }], run), { reason: /whole number/ });
    await expectConv1Error(resolveSeries('https://example.org/runs/', run), { reason: /cannot be listed/ });
  });

  it('names a broken checkpoint in the error, and a checkpoint of another shape', async () => {
    const run = await dirs.make('conv1-series-');
    await writeCheckpoint(new URL('ckpt-1.safetensors', run), smallKernel(1));
    await writeFile(new URL('ckpt-2.safetensors', run), new Uint8Array([1, 2, 3]));
    const read = async () => {
      for await (const _ of measureSeries(await resolveSeries('./', run)));
    };
    await expectConv1Error(read(), { file: /ckpt-2\.safetensors/ });

    await writeCheckpoint(new URL('ckpt-2.safetensors', run), { data: randomValues(3 * 3 * 3 * 8, 2), shape: [3, 3, 3, 8] });
    await expectConv1Error(read(), { file: /ckpt-2\.safetensors/, reason: /3×3×3×8 kernel .* 5×5×3×8/ });
  });
});

describe('astro-conv1 timeline', () => {
  /** The trained ResNet50 kernel under noise that fades step by step: a run whose noise is known. */
  async function fadingNoiseRun(strengths: readonly number[]): Promise<URL> {
    const run = await dirs.make('conv1-timeline-');
    for (const [i, strength] of strengths.entries()) await writeCheckpoint(new URL(`step-${i * 100}.safetensors`, run), withGaussianNoise(trained, strength, 11));
    return run;
  }

  it('reports falling noise and the verdict flipping, and exits 0 when the last checkpoint looks trained', async () => {
    const run = await fadingNoiseRun([2, 1, 0.5, 0.2, 0.05, 0]);
    const result = await runCli(['timeline', fileURLToPath(run), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { checkpoints } = JSON.parse(result.stdout) as { checkpoints: { file: string; step: number; noise: { median: number }; edgeShare: number; verdict: { kind: string } }[] };
    expect(checkpoints.map(({ step }) => step)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(checkpoints[0]!.file).toMatch(/step-0\.safetensors$/);
    const medians = checkpoints.map(({ noise }) => noise.median);
    for (let i = 1; i < medians.length; i++) expect(medians[i]).toBeLessThan(medians[i - 1]!);
    expect(checkpoints[0]!.verdict.kind).toBe('noisy');
    expect(checkpoints.at(-1)!.verdict.kind).toBe('trained-looking');
    expect(checkpoints.at(-1)!.edgeShare).toBeGreaterThan(checkpoints[0]!.edgeShare);

    const text = await runCli(['timeline', fileURLToPath(run)]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/step\s+median noise\s+edge share\s+verdict/);
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(/^\s*0\s+\d\.\d{3}\s+\d+%\s+noisy$/);
  });

  it('exits 1 when the last checkpoint does not look trained, whatever came before', async () => {
    const run = await fadingNoiseRun([0, 0.05, 2]);
    const files = ['step-0', 'step-100', 'step-200'].map((name) => fileURLToPath(new URL(`${name}.safetensors`, run)));
    const result = await runCli(['timeline', ...files]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout.trim().split('\n').at(-1)).toMatch(/noisy$/);
  });
});
