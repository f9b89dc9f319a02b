import type { Kernel } from '../kernel.ts';
import { radialStructure, type RadialStructure } from './centre-surround.ts';
import { colourMeasures, principalComponent, type ColourMeasures } from './colour.ts';
import { classifyFilter, type Family } from './family.ts';
import { energy, filterPlanes, withoutMean } from './filter-planes.ts';
import { fitGabor, type GaborFit } from './gabor-fit.ts';
import { noiseScore } from './noise.ts';
import { spectralOrientation, spectralPeak } from './orientation.ts';
import { bandShares, complexSpectrum, filterSpectra, powerOf, type FilterSpectra } from './spectrum.ts';
import { DEAD_NORM_RATIO, STRUCTURE_MIN_PIXELS, NOISE_CUTOFF, NOISY_FILTER_SCORE } from './thresholds.ts';

/** Everything measured about one filter. Plain numbers, strings, booleans and nulls: JSON-safe. */
export interface FilterReport {
  index: number;
  family: Family;
  /** The rule that decided the family, with its numbers. */
  why: string;
  strength: {
    l2: number;
    /** L2 norm over the layer's median L2 norm. */
    relativeToMedian: number;
    /** relativeToMedian below DEAD_NORM_RATIO. */
    dead: boolean;
  };
  spectrum: {
    /** Stripe orientation of the spectral peak, degrees in [0, 180): 0° horizontal stripes, 45° "/", 90° vertical, 135° "\". Null for a constant filter. */
    orientationDeg: number | null;
    /** Radial frequency of the spectral peak, cycles/pixel. */
    frequency: number;
    /** Concentration of spectral energy around orientationDeg, 0–1. */
    selectivity: number;
    /** Share of energy below one cycle per filter width, mean included. */
    lowFrequencyShare: number;
    /** Share of energy above NOISE_CUTOFF. */
    highFrequencyShare: number;
  };
  /**
   * Gabor fitted to the filter's strongest colour component (for a grey filter: brightness; the
   * component's sign makes its colour axis sum ≥ 0). Null for a constant filter or one under
   * STRUCTURE_MIN_PIXELS.
   */
  gabor: GaborFit | null;
  /** Ring profile of the same component. */
  radial: RadialStructure;
  colour: ColourMeasures;
  noise: {
    /** Share of energy that is high-frequency and unexplained by the Gabor or ring model, 0–1; null under STRUCTURE_MIN_PIXELS. */
    score: number | null;
    /** score ≥ NOISY_FILTER_SCORE. */
    noisy: boolean;
  };
}

/** The filter's spectral peak and orientation selectivity, and the shares of its energy at low and high frequencies. */
function spectralMeasures(planes: readonly Float64Array[], spectra: FilterSpectra, width: number, height: number) {
  const orientation = spectralOrientation(powerOf(spectra.centred), energy(planes));
  const bands = [
    { from: 0, to: 1 / Math.max(width, height) },
    { from: NOISE_CUTOFF, to: Infinity },
  ];
  const [lowFrequencyShare, highFrequencyShare] = bandShares(spectra.centred, [spectra.withMeans], bands) as [number, number];
  return { orientation, lowFrequencyShare, highFrequencyShare };
}

/**
 * Wave vector of the spectral peak of the filter's strongest colour, where its Gabor fit starts.
 * Transformed on its own rather than combined from the channels' spectra: the fit is sensitive to
 * its start in the last bit, and this keeps its answers those the analysis has always given.
 */
function principalPeak(plane: Float64Array, width: number, height: number): [number, number] {
  return spectralPeak(powerOf([complexSpectrum(withoutMean(plane), width, height)]), energy([plane])).waveVector;
}

/** L2 norm of filter `f`, summed in storage order so that a filter and the layer's median agree to the last bit. */
function filterNorm(kernel: Kernel, f: number): number {
  let sum = 0;
  for (let i = f; i < kernel.data.length; i += kernel.shape[3]) sum += kernel.data[i]! ** 2;
  return Math.sqrt(sum);
}

/** L2 norm of every filter, by index. */
export function filterNorms(kernel: Kernel): number[] {
  return Array.from({ length: kernel.shape[3] }, (_, f) => filterNorm(kernel, f));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Analyses filter `f`, judging its strength against the median of the kernel's filters. */
export function analyseFilter(kernel: Kernel, f: number): FilterReport {
  return analyseFilterAgainst(kernel, f, median(filterNorms(kernel)));
}

/** analyseFilter with the layer's median norm already known, so a layer pass computes it once. */
export function analyseFilterAgainst(kernel: Kernel, f: number, medianNorm: number): FilterReport {
  const cout = kernel.shape[3];
  if (!Number.isInteger(f) || f < 0 || f >= cout) throw new RangeError(`filter ${f} does not exist: ${kernel.layer} has filters 0–${cout - 1}`);
  const { planes, width, height } = filterPlanes(kernel, f);
  const l2 = filterNorm(kernel, f);
  const relativeToMedian = medianNorm > 0 ? l2 / medianNorm : 0;
  const dead = l2 === 0 || relativeToMedian < DEAD_NORM_RATIO;

  const spectra = filterSpectra(planes, width, height);
  const { orientation, lowFrequencyShare, highFrequencyShare } = spectralMeasures(planes, spectra, width, height);
  const principal = principalComponent(planes);
  const measurable = width * height >= STRUCTURE_MIN_PIXELS;
  const gabor = measurable ? fitGabor(principal.plane, width, height, principalPeak(principal.plane, width, height)) : null;
  const radial = radialStructure(principal.plane, width, height);
  const colour = colourMeasures(planes, principal);
  // Structure is whatever the better of the two models explains; the rest is candidate noise.
  const model = gabor && gabor.fit.r2 >= radial.structure.radialR2 ? gabor.model : radial.model;
  const noise = measurable ? noiseScore(spectra, energy(planes), principal.axis, model, width, height) : null;

  const { family, why } = classifyFilter({
    dead,
    relativeToMedian,
    noiseScore: noise,
    selectivity: orientation.selectivity,
    lowFrequencyShare,
    gabor: gabor?.fit ?? null,
    radial: radial.structure,
    colour,
  });
  return {
    index: f,
    family,
    why,
    strength: { l2, relativeToMedian, dead },
    spectrum: {
      orientationDeg: orientation.orientationDeg,
      frequency: orientation.frequency,
      selectivity: orientation.selectivity,
      lowFrequencyShare,
      highFrequencyShare,
    },
    gabor: gabor?.fit ?? null,
    radial: radial.structure,
    colour,
    noise: { score: noise, noisy: noise !== null && noise >= NOISY_FILTER_SCORE },
  };
}
