import type { ColourMeasures } from './colour.ts';
import type { RadialStructure } from './centre-surround.ts';
import type { GaborFit } from './gabor-fit.ts';
import {
  BLOB_LOW_FREQUENCY_SHARE,
  COLOUR_OPPONENCY_MIN,
  COLOUR_SHARE_MIN,
  DEAD_NORM_RATIO,
  GABOR_R2_MIN,
  NOISY_FILTER_SCORE,
  RADIAL_R2_MIN,
  SELECTIVITY_MIN,
  SURROUND_BALANCE_MIN,
} from './thresholds.ts';

/**
 * Families after Distill's hand sorting of InceptionV1's first layer (Gabor, colour contrast, other),
 * with the low-frequency and centre-surround kinds split out of "other", and dead filters apart.
 */
export type Family = 'edge' | 'colour-contrast' | 'colour-blob' | 'grey-blob' | 'centre-surround' | 'other' | 'dead';
export const FAMILIES: readonly Family[] = ['edge', 'colour-contrast', 'colour-blob', 'grey-blob', 'centre-surround', 'other', 'dead'];

export interface FamilyEvidence {
  dead: boolean;
  /** L2 norm over the layer's median L2 norm. */
  relativeToMedian: number;
  /** Null when the filter is too small to tell (STRUCTURE_MIN_PIXELS). */
  noiseScore: number | null;
  selectivity: number;
  lowFrequencyShare: number;
  gabor: Pick<GaborFit, 'r2'> | null;
  radial: RadialStructure;
  colour: ColourMeasures;
}

/**
 * The first rule that matches decides, in this order:
 * 1. dead: L2 norm below DEAD_NORM_RATIO of the layer's median.
 * 2. other: noisy (noise score ≥ NOISY_FILTER_SCORE); noise has no family, and random filters would
 *    otherwise pass as colourful and opponent. Skipped for filters too small to have a noise score.
 * 3. colour-contrast: colourful (colour share ≥ COLOUR_SHARE_MIN) and the colour changes sign across
 *    the filter (chromatic opponency ≥ COLOUR_OPPONENCY_MIN), oriented or not.
 * 4. edge: oriented (selectivity ≥ SELECTIVITY_MIN) and Gabor-like (Gabor R² ≥ GABOR_R2_MIN; filters too
 *    small to fit are judged on selectivity alone). Edges and lines of any phase, coloured or grey.
 * 5. centre-surround: round (ring-profile R² ≥ RADIAL_R2_MIN) with an opposite surround (balance ≥
 *    SURROUND_BALANCE_MIN).
 * 6. colour-blob / grey-blob: mostly below one cycle per filter width (≥ BLOB_LOW_FREQUENCY_SHARE), or
 *    round without a surround; colour or grey by the colour share.
 * 7. other.
 */
export function classifyFilter(e: FamilyEvidence): { family: Family; why: string } {
  const n = (v: number): string => v.toFixed(2);
  if (e.dead) return { family: 'dead', why: `L2 norm ${n(e.relativeToMedian)} × the layer median, under ${DEAD_NORM_RATIO}` };
  if (e.noiseScore !== null && e.noiseScore >= NOISY_FILTER_SCORE) return { family: 'other', why: `noisy: noise score ${n(e.noiseScore)} ≥ ${NOISY_FILTER_SCORE}` };
  const colourful = e.colour.colourShare >= COLOUR_SHARE_MIN;
  if (colourful && e.colour.chromaticOpponency >= COLOUR_OPPONENCY_MIN)
    return {
      family: 'colour-contrast',
      why: `colour share ${n(e.colour.colourShare)} ≥ ${COLOUR_SHARE_MIN}, chromatic opponency ${n(e.colour.chromaticOpponency)} ≥ ${COLOUR_OPPONENCY_MIN}`,
    };
  if (e.selectivity >= SELECTIVITY_MIN && (e.gabor === null || e.gabor.r2 >= GABOR_R2_MIN))
    return {
      family: 'edge',
      why: `orientation selectivity ${n(e.selectivity)} ≥ ${SELECTIVITY_MIN}` + (e.gabor ? `, Gabor R² ${n(e.gabor.r2)} ≥ ${GABOR_R2_MIN}` : ''),
    };
  const round = e.radial.radialR2 >= RADIAL_R2_MIN;
  if (round && e.radial.surroundBalance >= SURROUND_BALANCE_MIN)
    return {
      family: 'centre-surround',
      why: `ring profile R² ${n(e.radial.radialR2)} ≥ ${RADIAL_R2_MIN}, surround balance ${n(e.radial.surroundBalance)} ≥ ${SURROUND_BALANCE_MIN}`,
    };
  if (e.lowFrequencyShare >= BLOB_LOW_FREQUENCY_SHARE || round)
    return {
      family: colourful ? 'colour-blob' : 'grey-blob',
      why:
        (e.lowFrequencyShare >= BLOB_LOW_FREQUENCY_SHARE
          ? `low-frequency share ${n(e.lowFrequencyShare)} ≥ ${BLOB_LOW_FREQUENCY_SHARE}`
          : `ring profile R² ${n(e.radial.radialR2)} ≥ ${RADIAL_R2_MIN} without a surround`) +
        `, colour share ${n(e.colour.colourShare)} ${colourful ? '≥' : '<'} ${COLOUR_SHARE_MIN}`,
    };
  return { family: 'other', why: 'smooth, but neither oriented, round nor mostly low-frequency' };
}
