/**
 * Spectra of small filters. A 7×7 filter's own 7×7 DFT has bins 1/7 cycle/pixel apart, too coarse to
 * tell 30° from 45°; zero-padding to a larger grid samples the same continuous spectrum (the DTFT)
 * more finely. Parseval still holds on the padded grid, so energy shares taken from it are exact
 * shares of the filter's energy.
 *
 * A filter's measures need the spectra of several planes that are linear combinations of a few (the
 * filter and its mean-free part, its residual after a model). The DFT is linear, so the mean-free
 * planes are transformed once, and a mean or a model is added to them bin by bin (SharedTerm).
 */

import { mean, share, withoutMean } from './filter-planes.ts';

/** Smallest padded grid side: 1/32 cycle/pixel between bins. */
const MIN_SPECTRUM_GRID = 32;

/**
 * The DFT of one real plane on the padded M×M grid, rows v = 0…M/2 only: a real plane's spectrum is
 * conjugate-symmetric, F(−u, −v) = F(u, v)*, so the other rows add nothing. Index v·M + u, u along x.
 */
export interface ComplexSpectrum {
  size: number;
  re: Float64Array;
  im: Float64Array;
}

export interface PowerSpectrum {
  /** Side M of the padded M×M grid. */
  size: number;
  /**
   * |F|² summed over channels, rows v = 0…M/2 as in ComplexSpectrum (the power is symmetric,
   * P(−u, −v) = P(u, v)); index v·M + u, u along x. Bin u is frequency binFrequency(u, M).
   */
  power: Float64Array;
  /** Sum of the power over the whole grid: M² times the filter's energy (Parseval). */
  total: number;
}

/** The power at any bin (u, v) of the whole grid, indices taken modulo M. */
export function powerAt(spectrum: PowerSpectrum, u: number, v: number): number {
  const { size, power } = spectrum;
  const [mu, mv] = [u & (size - 1), v & (size - 1)];
  return mv <= size / 2 ? power[mv * size + mu]! : power[(size - mv) * size + ((size - mu) & (size - 1))]!;
}

/** A power of two at least twice the filter's side: bins at most half as far apart as in the filter's own DFT. */
export function spectrumSize(width: number, height: number): number {
  let size = MIN_SPECTRUM_GRID;
  while (size < 2 * Math.max(width, height)) size *= 2;
  return size;
}

/** Frequency of bin `index` on a grid of `size`, in cycles/pixel, in [−0.5, 0.5). */
export function binFrequency(index: number, size: number): number {
  return (index < size / 2 ? index : index - size) / size;
}

/**
 * What every spectrum on one grid size shares, computed once: the DFT's twiddle factors, and for each
 * stored bin (rows v ≤ M/2) what the sums over the whole grid need of it and of the mirror image it
 * stands for (mirrorCount).
 */
export interface SpectrumGrid {
  size: number;
  cos: Float64Array;
  sin: Float64Array;
  /** How many bins of the whole grid stored bin v·M + u stands for: 1 or 2. */
  count: Float64Array;
  /** √(fx² + fy²) of stored bin v·M + u, cycles/pixel; its mirror image's is the same. */
  radius: Float64Array;
  /**
   * cos 2φ and sin 2φ, for φ = atan2(fx, fy) the stripe direction of the bin's wave, summed over the
   * bin and its mirror image: the doubled angles agree except in column M/2, whose mirror image
   * has fx = −1/2 again rather than +1/2.
   */
  cos2: Float64Array;
  sin2: Float64Array;
}

const grids = new Map<number, SpectrumGrid>();

export function spectrumGrid(size: number): SpectrumGrid {
  let grid = grids.get(size);
  if (grid) return grid;
  const cos = new Float64Array(size);
  const sin = new Float64Array(size);
  for (let j = 0; j < size; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / size);
    sin[j] = Math.sin((2 * Math.PI * j) / size);
  }
  const stored = (size / 2 + 1) * size;
  grid = { size, cos, sin, count: new Float64Array(stored), radius: new Float64Array(stored), cos2: new Float64Array(stored), sin2: new Float64Array(stored) };
  for (let v = 0, i = 0; v <= size / 2; v++)
    for (let u = 0; u < size; u++, i++) {
      const images = v === 0 || v === size / 2 ? [[u, v]] : [[u, v], [(size - u) & (size - 1), size - v]];
      const [fx, fy] = [binFrequency(u, size), binFrequency(v, size)];
      grid.count[i] = images.length;
      grid.radius[i] = Math.sqrt(fx * fx + fy * fy);
      for (const [iu, iv] of images) {
        const angle = Math.atan2(binFrequency(iu!, size), binFrequency(iv!, size));
        grid.cos2[i]! += Math.cos(2 * angle);
        grid.sin2[i]! += Math.sin(2 * angle);
      }
    }
  grids.set(size, grid);
  return grid;
}

/** The row spectra of complexSpectrum, kept between calls: every filter of a layer needs the same size. */
let rows = { rowRe: new Float64Array(0), rowIm: new Float64Array(0) };
function rowScratch(length: number): typeof rows {
  if (rows.rowRe.length !== length) rows = { rowRe: new Float64Array(length), rowIm: new Float64Array(length) };
  return rows;
}

/** cos and sin of 2π·u·x/M at x·M + u, for the row DFTs of planes `width` wide: one contiguous run of twiddles per pixel column. */
const rowTwiddleTables = new Map<string, { cos: Float64Array; sin: Float64Array }>();
function rowTwiddles(size: number, width: number): { cos: Float64Array; sin: Float64Array } {
  const key = `${size}×${width}`;
  let table = rowTwiddleTables.get(key);
  if (!table) {
    const { cos, sin } = spectrumGrid(size);
    table = { cos: new Float64Array(width * size), sin: new Float64Array(width * size) };
    for (let x = 0; x < width; x++)
      for (let u = 0; u < size; u++) {
        table.cos[x * size + u] = cos[(u * x) & (size - 1)]!;
        table.sin[x * size + u] = sin[(u * x) & (size - 1)]!;
      }
    rowTwiddleTables.set(key, table);
  }
  return table;
}

/**
 * Separable DFT of one plane: along x for each of the few filter rows, then along y; padding rows
 * are zero. Each bin is summed over x, then over y, in order: symmetric filters have spectral peaks
 * of equal height, and which one is found first must not change with the order of the arithmetic.
 * The loops run over frequency innermost, the long dimension, a pixel or filter row at a time.
 */
export function complexSpectrum(plane: Float64Array, width: number, height: number): ComplexSpectrum {
  const size = spectrumSize(width, height);
  const { cos, sin } = spectrumGrid(size);
  const { rowRe, rowIm } = rowScratch(height * size);
  const twiddles = rowTwiddles(size, width);
  rowRe.fill(0);
  rowIm.fill(0);
  // Along x: each pixel adds its weight times the twiddles of its column to its row's spectrum.
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const w = plane[y * width + x]!;
      for (let u = 0, out = y * size, t = x * size; u < size; u++, out++, t++) {
        rowRe[out]! += w * twiddles.cos[t]!;
        rowIm[out]! -= w * twiddles.sin[t]!;
      }
    }
  // Along y: each filter row adds its row spectrum, turned by the twiddle of (v·y), to output row v.
  const half = (size / 2 + 1) * size;
  const re = new Float64Array(half);
  const im = new Float64Array(half);
  for (let v = 0; v <= size / 2; v++)
    for (let y = 0, j = 0; y < height; y++, j = (j + v) & (size - 1)) {
      const [c, s] = [cos[j]!, sin[j]!];
      for (let u = 0, out = v * size, row = y * size; u < size; u++, out++, row++) {
        const a = rowRe[row]!;
        const b = rowIm[row]!;
        re[out]! += a * c + b * s;
        im[out]! += b * c - a * s;
      }
    }
  return { size, re, im };
}

/** Power spectrum summed over the channels: the same whatever colour basis the channels are in. */
export function powerOf(spectra: readonly ComplexSpectrum[]): PowerSpectrum {
  const { size } = spectra[0]!;
  const power = new Float64Array((size / 2 + 1) * size);
  for (const { re, im } of spectra) for (let i = 0; i < power.length; i++) power[i]! += re[i]! * re[i]! + im[i]! * im[i]!;
  const { count } = spectrumGrid(size);
  let total = 0;
  for (let i = 0; i < power.length; i++) total += count[i]! * power[i]!;
  return { size, power, total };
}

const boxes = new Map<string, ComplexSpectrum>();

/** Spectrum of a plane of ones: a plane's mean m adds m times this to its spectrum. */
export function boxSpectrum(width: number, height: number): ComplexSpectrum {
  const key = `${width}×${height}`;
  let box = boxes.get(key);
  if (!box) boxes.set(key, (box = complexSpectrum(new Float64Array(width * height).fill(1), width, height)));
  return box;
}

/** One spectrum added to every channel, scaled per channel: channel c gains weights[c] · spectrum. */
export interface SharedTerm {
  spectrum: ComplexSpectrum;
  weights: readonly number[];
}

/**
 * A filter's channels as spectra: each channel's mean-free part transformed, and its mean as a
 * shared term (the spectrum of a plane of ones, weighted by the channel means).
 */
export interface FilterSpectra {
  centred: ComplexSpectrum[];
  withMeans: SharedTerm;
}

export function filterSpectra(planes: readonly Float64Array[], width: number, height: number): FilterSpectra {
  return {
    centred: planes.map((plane) => complexSpectrum(withoutMean(plane), width, height)),
    withMeans: { spectrum: boxSpectrum(width, height), weights: planes.map(mean) },
  };
}

/** Radial frequencies in [from, to), cycles/pixel. */
export interface Band {
  from: number;
  to: number;
}

/**
 * Energy in radial bands, and in all, of the planes whose spectra are channel c: spectra[c] +
 * Σ terms' weights[c] · spectrum; M² times the planes' energy there (Parseval). Summed over the
 * stored bins, each counted for the bins of the whole grid it stands for.
 */
export function bandEnergies(spectra: readonly ComplexSpectrum[], terms: readonly SharedTerm[], bands: readonly Band[]): { energies: number[]; total: number } {
  const { size } = spectra[0]!;
  const { count, radius } = spectrumGrid(size);
  const power = channelPower(spectra, terms);
  const energies = bands.map(() => 0);
  let total = 0;
  for (let i = 0; i < power.length; i++) {
    const p = count[i]! * power[i]!;
    total += p;
    for (let b = 0; b < bands.length; b++) if (radius[i]! >= bands[b]!.from && radius[i]! < bands[b]!.to) energies[b]! += p;
  }
  return { energies, total };
}

/** bandEnergies as shares of the total, 0–1 each (0 for no energy). */
export function bandShares(spectra: readonly ComplexSpectrum[], terms: readonly SharedTerm[], bands: readonly Band[]): number[] {
  const { energies, total } = bandEnergies(spectra, terms, bands);
  return energies.map((energy) => share(energy, total));
}

/** Σ_c |spectra[c] + Σ_t terms[t].weights[c] · terms[t].spectrum|² at each stored bin, a channel at a time. */
function channelPower(spectra: readonly ComplexSpectrum[], terms: readonly SharedTerm[]): Float64Array {
  const bins = spectra[0]!.re.length;
  const { power, re, im } = powerScratch(bins);
  power.fill(0);
  spectra.forEach((spectrum, c) => {
    re.set(spectrum.re);
    im.set(spectrum.im);
    for (const { spectrum: term, weights } of terms) {
      const weight = weights[c]!;
      for (let i = 0; i < bins; i++) {
        re[i]! += weight * term.re[i]!;
        im[i]! += weight * term.im[i]!;
      }
    }
    for (let i = 0; i < bins; i++) power[i]! += re[i]! * re[i]! + im[i]! * im[i]!;
  });
  return power;
}

/** channelPower's arrays, kept between calls: its callers are done with its result before they call it again. */
let powers = { power: new Float64Array(0), re: new Float64Array(0), im: new Float64Array(0) };
function powerScratch(bins: number): typeof powers {
  if (powers.power.length !== bins) powers = { power: new Float64Array(bins), re: new Float64Array(bins), im: new Float64Array(bins) };
  return powers;
}
