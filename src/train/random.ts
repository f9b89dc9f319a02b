import { mulberry32 } from '../lib/analyse/random-init.ts';

/**
 * Every random choice of a training run draws from a stream derived from the run's seed and the
 * stream's name, so that changing how one part uses randomness (more crops, say) leaves the others'
 * numbers as they were, and one seed gives the same run, bit for bit, on every call.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** A whole number in [0, count). */
  below(count: number): number;
}

export function randomStream(seed: number, name: string): Random {
  const next = mulberry32(streamSeed(seed, name));
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    below: (count) => Math.floor(next() * count),
  };
}

/** 0, …, count − 1 in an order drawn from `random` (Fisher–Yates). */
export function permutation(count: number, random: Random): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The 32-bit seed of stream `name` (for code that takes a seed rather than a stream): FNV-1a over the
 * name, started from the run's seed, so distinct names and distinct seeds give unrelated streams.
 */
export function streamSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193);
  return hash >>> 0;
}
