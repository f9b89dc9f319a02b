import type { Kernel } from '../kernel.ts';

/**
 * mulberry32: a tiny 32-bit seeded generator, uniform in [0, 1). Good enough for controls and
 * reproducible noise, not for cryptography; src/ must not depend on test helpers, so it lives here.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Weights drawn like Keras' default Conv2D initialiser, glorot_uniform: uniform in [−limit, limit]
 * with limit = √(6 / (fan_in + fan_out)), fan_in = kh·kw·cin, fan_out = kh·kw·cout. Same distribution
 * as Keras, not the same numbers (Keras uses its own generator).
 */
export function glorotUniformWeights(shape: Kernel['shape'], seed: number): Float32Array {
  const [kh, kw, cin, cout] = shape;
  const limit = Math.sqrt(6 / (kh * kw * cin + kh * kw * cout));
  const random = mulberry32(seed);
  return Float32Array.from({ length: kh * kw * cin * cout }, () => (2 * random() - 1) * limit);
}

/** `like`, as it was before training: same shape and metadata, glorot-uniform weights. */
export function glorotUniformKernel(like: Kernel, seed: number): Kernel {
  return {
    ...like,
    shape: [...like.shape],
    data: glorotUniformWeights(like.shape, seed),
    source: `glorot-uniform initialisation (seed ${seed}) of ${like.source}`,
    bytesRead: 0,
  };
}

/** Standard normal deviates from the seeded generator (Box–Muller), so every run adds the same noise. */
function gaussians(count: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  return Float64Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/**
 * `kernel` with Gaussian noise added, `strength` in units of the kernel's own standard deviation: the
 * control that shows how the noise score and verdict respond as structure drowns.
 */
export function withGaussianNoise(kernel: Kernel, strength: number, seed: number): Kernel {
  const mean = kernel.data.reduce((a, b) => a + b, 0) / kernel.data.length;
  const sigma = Math.sqrt(kernel.data.reduce((sum, w) => sum + (w - mean) ** 2, 0) / kernel.data.length);
  const noise = gaussians(kernel.data.length, seed);
  return {
    ...kernel,
    shape: [...kernel.shape],
    data: kernel.data.map((w, i) => w + strength * sigma * noise[i]!),
    source: `${kernel.source} plus Gaussian noise (${strength} × its standard deviation, seed ${seed})`,
    bytesRead: 0,
  };
}

/** Noise strengths of the sweep shown on the site: from none to four times the weights' spread. */
export const NOISE_SWEEP: readonly number[] = [0, 0.25, 0.5, 1, 2, 4];
