import type { ChannelOrder, Kernel } from '../kernel.ts';
import { analyseFilterAgainst, filterNorms, median, type FilterReport } from './analyse-filter.ts';
import { FAMILIES, type Family } from './family.ts';
import { similarPairs, type FilterPair } from './pairs.ts';
import { DEAD_NORM_RATIO, DUPLICATE_COSINE, EDGE_SHARE_MIN, NOISY_FILTER_SCORE, STRUCTURE_MIN_PIXELS, TRAINED_MEDIAN_NOISE } from './thresholds.ts';

/**
 * The first that applies:
 * - dead: at least half the filters are dead (or all weights are zero).
 * - too-small: filters under STRUCTURE_MIN_PIXELS; noise cannot be told from structure.
 * - noisy: median noise score ≥ NOISY_FILTER_SCORE, i.e. at least half the live filters are noisy.
 * - partly-noisy: median noise score ≥ TRAINED_MEDIAN_NOISE.
 * - few-edges: smooth, but under EDGE_SHARE_MIN of the live filters are edge or colour-contrast.
 * - trained-looking: smooth and holding edge detectors; both rules of thumb pass.
 */
export type VerdictKind = 'dead' | 'too-small' | 'noisy' | 'partly-noisy' | 'few-edges' | 'trained-looking';

export interface NoiseSummary {
  /** Over the live filters' noise scores: the layer's noise score. */
  median: number;
  mean: number;
  min: number;
  max: number;
  /** Live filters with noise score ≥ NOISY_FILTER_SCORE. */
  noisyFilters: number[];
}

export interface LayerReport {
  layer: string;
  shape: [kh: number, kw: number, cin: number, cout: number];
  channelOrder: ChannelOrder;
  families: Record<Family, number>;
  /** Null when the filters are too small for noise scores, or all dead. */
  noise: NoiseSummary | null;
  strength: { medianL2: number; deadBelowL2: number; deadFilters: number[] };
  /** (edge + colour-contrast) / live filters, 0–1. */
  edgeShare: number;
  duplicates: FilterPair[];
  negatedPairs: FilterPair[];
  verdict: {
    kind: VerdictKind;
    /** One sentence with the numbers behind it. */
    summary: string;
    /** Further observations: dead filters, duplicates, negated pairs. */
    notes: string[];
  };
  filters: FilterReport[];
}

export function analyseLayer(kernel: Kernel): LayerReport {
  const medianL2 = median(filterNorms(kernel));
  const filters = Array.from({ length: kernel.shape[3] }, (_, f) => analyseFilterAgainst(kernel, f, medianL2));
  const live = filters.filter((filter) => !filter.strength.dead);
  const deadFilters = filters.filter((filter) => filter.strength.dead).map((filter) => filter.index);

  const families = Object.fromEntries(FAMILIES.map((family) => [family, 0])) as Record<Family, number>;
  for (const filter of filters) families[filter.family]++;
  const edgeShare = live.length ? (families.edge + families['colour-contrast']) / live.length : 0;
  const { duplicates, negatedPairs } = similarPairs(kernel, new Set(deadFilters));
  const noise = noiseSummary(live);

  return {
    layer: kernel.layer,
    shape: [...kernel.shape],
    channelOrder: kernel.channelOrder,
    families,
    noise,
    strength: { medianL2, deadBelowL2: DEAD_NORM_RATIO * medianL2, deadFilters },
    edgeShare,
    duplicates,
    negatedPairs,
    verdict: verdict({ kernel, count: filters.length, live: live.length, noise, edgeShare, deadFilters, duplicates, negatedPairs }),
    filters,
  };
}

function noiseSummary(live: readonly FilterReport[]): NoiseSummary | null {
  const scores = live.flatMap((filter) => (filter.noise.score === null ? [] : [filter.noise.score]));
  if (scores.length === 0) return null;
  return {
    median: median(scores),
    mean: scores.reduce((a, b) => a + b, 0) / scores.length,
    min: Math.min(...scores),
    max: Math.max(...scores),
    noisyFilters: live.filter((filter) => filter.noise.noisy).map((filter) => filter.index),
  };
}

interface VerdictFacts {
  kernel: Kernel;
  count: number;
  live: number;
  noise: NoiseSummary | null;
  edgeShare: number;
  deadFilters: readonly number[];
  duplicates: readonly FilterPair[];
  negatedPairs: readonly FilterPair[];
}

function verdict(facts: VerdictFacts): LayerReport['verdict'] {
  const { count, live, noise, edgeShare, deadFilters, duplicates, negatedPairs } = facts;
  const n = (v: number): string => v.toFixed(2);
  const percent = (v: number): string => `${Math.round(v * 100)}%`;
  const plural = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;
  const notes: string[] = [];
  if (deadFilters.length) notes.push(`${deadFilters.length} of ${count} filters dead (L2 under ${DEAD_NORM_RATIO} × the median): ${deadFilters.join(', ')}.`);
  if (duplicates.length) notes.push(`${plural(duplicates.length, 'near-duplicate pair')} (cosine ≥ ${DUPLICATE_COSINE}): redundant capacity.`);
  if (negatedPairs.length)
    notes.push(`${plural(negatedPairs.length, 'negated pair')} (cosine ≤ −${DUPLICATE_COSINE}): expected, not a fault; ReLU networks learn a feature and its opposite.`);
  const edges = `${percent(edgeShare)} of live filters are edge or colour-contrast`;
  const [kh, kw] = facts.kernel.shape;

  if (live === 0 || deadFilters.length * 2 >= count) return { kind: 'dead', summary: `Dead: ${deadFilters.length} of ${count} filters have (almost) no weight.`, notes };
  if (noise === null)
    return {
      kind: 'too-small',
      summary: `Too small to judge noise: ${kh}×${kw} filters have under ${STRUCTURE_MIN_PIXELS} pixels, too few to tell structure from noise; ${edges}.`,
      notes,
    };
  const noiseFacts = `median noise score ${n(noise.median)}, ${noise.noisyFilters.length} of ${live} live filters noisy`;
  if (noise.median >= NOISY_FILTER_SCORE)
    return { kind: 'noisy', summary: `Noisy: looks untrained or under-regularised — ${noiseFacts} (median at or above ${NOISY_FILTER_SCORE}).`, notes };
  if (noise.median >= TRAINED_MEDIAN_NOISE)
    return {
      kind: 'partly-noisy',
      summary: `Partly noisy: ${noiseFacts} (median from ${TRAINED_MEDIAN_NOISE} up to ${NOISY_FILTER_SCORE}); may need more training or regularisation.`,
      notes,
    };
  if (edgeShare < EDGE_SHARE_MIN) return { kind: 'few-edges', summary: `Smooth but few edge detectors: ${noiseFacts}, but only ${edges} (under ${percent(EDGE_SHARE_MIN)}).`, notes };
  return { kind: 'trained-looking', summary: `Trained-looking: ${noiseFacts} (median under ${TRAINED_MEDIAN_NOISE}), and ${edges} (at least ${percent(EDGE_SHARE_MIN)}).`, notes };
}
