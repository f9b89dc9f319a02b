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
