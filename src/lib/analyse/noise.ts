import { share } from './filter-planes.ts';
import { bandEnergies, complexSpectrum, type FilterSpectra } from './spectrum.ts';
import { NOISE_CUTOFF } from './thresholds.ts';

/**
 * The noise score: the share of a filter's energy that is both above NOISE_CUTOFF and left
 * unexplained by the filter's structural model (Gabor or ring profile), 0–1. A sharp, well-fitted
 * Gabor scores low although it is high-frequency; white noise scores about its high-frequency share
 * (≈ 0.8) less the little a model fits by chance.
 *
 * The model is one plane along the colour direction `axis`: the residual's channel c is
 * planes[c] − axis[c]·model, whose spectrum is the filter's (`spectra`) less axis[c] times the
 * model's. `filterEnergy`: the filter's energy, Σ w² (M² times its spectrum's, by Parseval).
 */
export function noiseScore(spectra: FilterSpectra, filterEnergy: number, axis: readonly number[], model: Float64Array, width: number, height: number): number {
  const withoutModel = { spectrum: complexSpectrum(model, width, height), weights: axis.map((a) => -a) };
  const { size } = withoutModel.spectrum;
  const [unexplained] = bandEnergies(spectra.centred, [spectra.withMeans, withoutModel], [{ from: NOISE_CUTOFF, to: Infinity }]).energies as [number];
  return share(unexplained / (size * size), filterEnergy);
}
