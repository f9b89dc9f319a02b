import { energy, share } from './filter-planes.ts';
import { powerSpectrum, radialShare } from './spectrum.ts';
import { NOISE_CUTOFF } from './thresholds.ts';

/**
 * The noise score: the share of a filter's energy that is both above NOISE_CUTOFF and left
 * unexplained by the filter's structural model (Gabor or ring profile), 0–1. A sharp, well-fitted
 * Gabor scores low although it is high-frequency; white noise scores about its high-frequency share
 * (≈ 0.8) less the little a model fits by chance. `residual`: the filter minus its model, per channel.
 */
export function noiseScore(planes: readonly Float64Array[], residual: readonly Float64Array[], width: number, height: number): number {
  const unexplained = radialShare(powerSpectrum(residual, width, height), NOISE_CUTOFF, Infinity) * energy(residual);
  return share(unexplained, energy(planes));
}
