import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModel } from '../../src/lib/read-kernel.ts';
import { loadEngine, type Tf } from '../../src/train/engine.ts';
import { convInputGradient, convWeightGradient, initialParameters, lossAndGradients, padSame, PARAMETER_NAMES } from '../../src/train/network.ts';
import { checkpointSteps, train, type RunRecord, type TrainConfig } from '../../src/train/train.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';

const ROOT = new URL('../../', import.meta.url);
const SCRIPT = { package: 'astro-conv1 test', sourceSha256: 'test', engines: {} };
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** The real pipeline at toy sizes: a few seconds a run. */
const TINY: TrainConfig = {
  seed: 7,
  labels: 'real',
  steps: 40,
  batchSize: 16,
  learningRate: 0.05,
  momentum: 0.9,
  weightDecay: 5e-3,
  network: { conv1Filters: 8, conv2Filters: 8, grid: 2 },
  crops: { size: 32, trainCrops: 144, heldOutCrops: 36, widths: [256], heldOutShare: 0.25 },
  evaluateEvery: 20,
  backend: 'wasm',
};

async function run(config: TrainConfig): Promise<{ out: URL; record: RunRecord }> {
  const out = await dirs.make('conv1-train-');
  return { out, record: await train(config, out, ROOT, SCRIPT) };
}

async function checkpointBytes(out: URL): Promise<Map<string, Buffer>> {
  const names = (await readdir(out)).filter((name) => name.endsWith('.safetensors')).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(new URL(name, out))] as const)));
}

/** A safetensors file's data section, without the header that names the run. */
const tensorData = (bytes: Buffer): Buffer => bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const largest = (tf: Tf, t: Tensor): number => tf.max(tf.abs(t)).dataSync()[0]!;

describe('gradients written out by hand', () => {
  let tf: Tf;
  beforeAll(async () => {
    tf = await loadEngine('wasm');
  });
  afterAll(() => tf.setBackend('wasm'));

  /** Our wasm result against the cpu backend's own gradient kernel, which wasm lacks. */
  async function againstCpu(ours: () => Tensor, kernel: string, inputs: () => Record<string, Tensor>, attributes: object): Promise<number> {
    await tf.setBackend('wasm');
    const mine = ours().dataSync();
    await tf.setBackend('cpu');
    const reference = tf.engine().runKernel(kernel, inputs(), attributes as never) as Tensor;
    const error = largest(tf, tf.sub(tf.tensor(mine, reference.shape), reference)) / largest(tf, reference);
    await tf.setBackend('wasm');
    return error;
  }

  it.each([
    [64, 7, 2],
    [15, 7, 2],
    [16, 3, 1],
  ])('input %i pixels, kernel %i pixels, stride %i: the weight gradient equals Conv2DBackpropFilter', async (size, kernel, stride) => {
    const input = padSame(tf, tf.randomUniform([3, size, size, 4], -1, 1, 'float32', 1) as Tensor4D, kernel, stride);
    const outSize = (input.shape[1] - kernel) / stride + 1;
    const dOut = tf.randomUniform([3, Math.floor(outSize), Math.floor(outSize), 5], -1, 1, 'float32', 2) as Tensor4D;
    const error = await againstCpu(
      () => convWeightGradient(tf, input, dOut, stride, kernel),
      'Conv2DBackpropFilter',
      () => ({ x: input, dy: dOut }),
      { strides: stride, pad: 'valid', dataFormat: 'NHWC', filterShape: [kernel, kernel, 4, 5] },
    );
    expect(error).toBeLessThan(1e-5);
  });

  it('the input gradient of a 3×3 same convolution equals Conv2DBackpropInput', async () => {
    const weights = tf.randomUniform([3, 3, 4, 5], -1, 1, 'float32', 3) as Tensor4D;
    const dOut = tf.randomUniform([2, 11, 11, 5], -1, 1, 'float32', 4) as Tensor4D;
    const error = await againstCpu(
      () => convInputGradient(tf, dOut, weights),
      'Conv2DBackpropInput',
      () => ({ dy: dOut, filter: weights }),
      { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 11, 11, 4] },
    );
    expect(error).toBeLessThan(1e-5);
  });

  it('every parameter gradient agrees with central differences of the loss', () => {
    const parameters = initialParameters(tf, { conv1Filters: 4, conv2Filters: 5, grid: 3, classes: 3 }, 11);
    try {
      // Non-zero biases, so that a gradient routed to the wrong place cannot hide behind zeros.
      for (const name of ['conv1.bias', 'conv2.bias', 'fc.bias'] as const) parameters[name].assign(tf.randomUniform(parameters[name].shape, -0.1, 0.1, 'float32', 5));
      const input = tf.randomUniform([2, 24, 24, 3], -1, 1, 'float32', 6) as Tensor4D;
      const labels = tf.tensor1d([0, 2], 'int32') as Tensor1D;
      const loss = () => lossAndGradients(tf, parameters, input, labels, 3).loss.dataSync()[0]!;
      const { gradients } = lossAndGradients(tf, parameters, input, labels, 3);
      const step = 1e-3;
      for (const name of PARAMETER_NAMES) {
        const analytic = gradients[name].dataSync();
        const values = parameters[name].dataSync().slice();
        const at = (i: number, delta: number) => {
          const moved = values.slice();
          moved[i]! += delta;
          parameters[name].assign(tf.tensor(moved, parameters[name].shape));
          return loss();
        };
        const probes = Array.from({ length: Math.min(values.length, 12) }, (_, k) => (k * 7919) % values.length);
        const worst = Math.max(...probes.map((i) => Math.abs((at(i, step) - at(i, -step)) / (2 * step) - analytic[i]!)));
        parameters[name].assign(tf.tensor(values, parameters[name].shape));
        // ReLU and max-pool kinks within ±step blur a few probes slightly; a wrong gradient is off by its own size.
        expect(worst, name).toBeLessThan(0.05 * largest(tf, gradients[name]) + 1e-4);
      }
    } finally {
      tf.disposeVariables();
    }
  });
});

describe('npm run train, at toy sizes', () => {
  let first: { out: URL; record: RunRecord };
  beforeAll(async () => {
    first = await run(TINY);
  });

  it('writes a checkpoint at 0, 1, 2, 5, 10, 20 and the last step, and run.json beside them', async () => {
    expect(checkpointSteps(TINY.steps)).toEqual([0, 1, 2, 5, 10, 20, 40]);
    expect(checkpointSteps(1000)).toEqual([0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect([...(await checkpointBytes(first.out)).keys()]).toEqual(first.record.checkpoints.map((c) => c.file));
    const saved = JSON.parse(await readFile(new URL('run.json', first.out), 'utf8')) as RunRecord;
    expect(saved.checkpoints.map((c) => c.step)).toEqual([0, 1, 2, 5, 10, 20, 40]);
    expect(saved.loss).toHaveLength(TINY.steps);
    expect(saved.seed).toBe(TINY.seed);
    expect(saved.wallSeconds).toBeGreaterThan(0);
    expect(saved.cpuSeconds).toBeGreaterThan(0);
  });

  it('lowers the loss and changes conv1, as the project reads it back', async () => {
    const { loss } = first.record;
    expect(mean(loss.slice(-10))).toBeLessThan(mean(loss.slice(0, 10)) - 0.05);
    const kernelAt = async (step: number) => (await readModel(fileURLToPath(new URL(`step-${String(step).padStart(5, '0')}.safetensors`, first.out)))).kernel;
    const [before, after] = [await kernelAt(0), await kernelAt(TINY.steps)];
    expect(after.layer).toBe('conv1');
    expect(after.shape).toEqual([7, 7, 3, 8]);
    const change = mean(Array.from(after.data, (w, i) => Math.abs(w - before.data[i]!)));
    expect(change).toBeGreaterThan(0.1 * mean(Array.from(before.data, Math.abs)));
  });

  it('writes byte-identical checkpoints from the same seed, and different ones from another seed', async () => {
    const [again, other] = [await run(TINY), await run({ ...TINY, seed: TINY.seed + 1 })];
    const [a, b, c] = [await checkpointBytes(first.out), await checkpointBytes(again.out), await checkpointBytes(other.out)];
    for (const [name, bytes] of a) {
      expect(b.get(name)?.equals(bytes), name).toBe(true);
      expect(c.get(name)?.equals(bytes), name).toBe(false);
    }
  });

  it('trains the same network on the same crops with shuffled labels', async () => {
    const shuffled = await run({ ...TINY, labels: 'shuffled', steps: 2 });
    const [real, random] = [await checkpointBytes(first.out), await checkpointBytes(shuffled.out)];
    const same = (name: string) => tensorData(random.get(name)!).equals(tensorData(real.get(name)!));
    // The same seed gives the same initial weights: the runs differ in their labels alone.
    expect(same('step-00000.safetensors')).toBe(true);
    expect(same('step-00002.safetensors')).toBe(false);
  });
});
