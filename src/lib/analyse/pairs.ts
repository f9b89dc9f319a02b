import type { Kernel } from '../kernel.ts';
import { DUPLICATE_COSINE } from './thresholds.ts';

export interface FilterPair {
  a: number;
  b: number;
  /** Cosine similarity of the two filters' weights, −1–1. */
  cosine: number;
}

/**
 * Pairs of filters whose weights point (nearly) the same way — near-duplicates, redundant capacity —
 * or opposite ways — negated pairs, which ReLU networks learn on purpose: one filter per sign of the
 * same feature. `skip`: filters to leave out (dead ones, whose direction is noise).
 */
export function similarPairs(kernel: Kernel, skip: ReadonlySet<number> = new Set()): { duplicates: FilterPair[]; negatedPairs: FilterPair[] } {
  const cout = kernel.shape[3];
  const length = kernel.data.length / cout;
  const vectors = Array.from({ length: cout }, () => new Float64Array(length));
  for (let i = 0; i < length; i++) for (let f = 0; f < cout; f++) vectors[f]![i] = kernel.data[i * cout + f]!;
  const norms = vectors.map((v) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0)));
  const duplicates: FilterPair[] = [];
  const negatedPairs: FilterPair[] = [];
  for (let a = 0; a < cout; a++) {
    if (skip.has(a) || norms[a] === 0) continue;
    for (let b = a + 1; b < cout; b++) {
      if (skip.has(b) || norms[b] === 0) continue;
      const [va, vb] = [vectors[a]!, vectors[b]!];
      let dot = 0;
      for (let i = 0; i < length; i++) dot += va[i]! * vb[i]!;
      const cosine = dot / (norms[a]! * norms[b]!);
      if (cosine >= DUPLICATE_COSINE) duplicates.push({ a, b, cosine });
      else if (cosine <= -DUPLICATE_COSINE) negatedPairs.push({ a, b, cosine });
    }
  }
  return { duplicates, negatedPairs };
}
