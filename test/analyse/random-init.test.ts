import { describe, expect, it } from 'vitest';
import { glorotUniformKernel, glorotUniformWeights, mulberry32 } from '../../src/lib/analyse/index.ts';
import type { Kernel } from '../../src/lib/index.ts';
import { testKernel } from '../helpers/test-kernel.ts';

describe('mulberry32', () => {
  it('gives the reference sequence of the published algorithm for seed 1', () => {
    const random = mulberry32(1);
    expect([random(), random(), random()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('is uniform in [0, 1)', () => {
    const random = mulberry32(12345);
    const draws = Array.from({ length: 20_000 }, random);
    expect(draws.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeCloseTo(0.5, 2);
    // Each tenth of the interval gets a tenth of the draws, within 5 standard errors.
    const counts = new Array<number>(10).fill(0);
    for (const v of draws) counts[Math.floor(v * 10)]!++;
    for (const count of counts) expect(Math.abs(count - 2000)).toBeLessThan(5 * Math.sqrt(2000 * 0.9));
  });
});

describe('glorot-uniform initialisation', () => {
  const shape: Kernel['shape'] = [7, 7, 3, 64];
  // Keras: fan_in = 7·7·3 = 147, fan_out = 7·7·64 = 3136.
  const limit = Math.sqrt(6 / (147 + 3136));

  it('draws within ±√(6 / (fan_in + fan_out)), filling the range, with variance 2 / (fan_in + fan_out)', () => {
    const weights = glorotUniformWeights(shape, 3);
    expect(weights.length).toBe(7 * 7 * 3 * 64);
    const max = weights.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    expect(max).toBeLessThanOrEqual(Math.fround(limit));
    expect(max).toBeGreaterThan(0.99 * limit);
    const variance = weights.reduce((sum, w) => sum + w * w, 0) / weights.length;
    expect(variance / (2 / (147 + 3136))).toBeCloseTo(1, 1);
  });

  it('is reproducible by seed', () => {
    expect(glorotUniformWeights(shape, 3)).toEqual(glorotUniformWeights(shape, 3));
    expect(glorotUniformWeights(shape, 3)).not.toEqual(glorotUniformWeights(shape, 4));
  });

  it('makes a kernel like the trained one, with new weights and a source that says so', () => {
    const trained = testKernel(new Float32Array(7 * 7 * 3 * 64).fill(1), shape, {
      layer: 'conv1',
      strides: [2, 2],
      channelOrder: 'bgr',
      channelOrderSource: 'preset',
      inputMean: [103.939, 116.779, 123.68],
      format: 'tfjs-layers',
      source: 'resnet',
      bytesRead: 1234,
    });
    const random = glorotUniformKernel(trained, 9);
    expect(random).toMatchObject({ shape, layer: 'conv1', strides: [2, 2], channelOrder: 'bgr', bytesRead: 0 });
    expect(random.source).toMatch(/glorot-uniform.*seed 9.*resnet/);
    expect(random.data).toEqual(glorotUniformWeights(shape, 9));
  });
});
