/**
 * Power spectra of small filters. A 7×7 filter's own 7×7 DFT has bins 1/7 cycle/pixel apart, too
 * coarse to tell 30° from 45°; zero-padding to a larger grid samples the same continuous spectrum
 * (the DTFT) more finely. Parseval still holds on the padded grid, so energy shares taken from it are
 * exact shares of the filter's energy.
 */

import { share } from './filter-planes.ts';

/** Smallest padded grid side: 1/32 cycle/pixel between bins. */
const MIN_SPECTRUM_GRID = 32;

export interface PowerSpectrum {
  /** Side M of the padded M×M grid. */
  size: number;
  /** |F|² summed over channels; index v·M + u, u along x. Bin u is frequency binFrequency(u, M). */
  power: Float64Array;
  /** Sum of `power`: M² times the filter's energy (Parseval). */
  total: number;
}

/** A power of two at least twice the filter's side: bins at most half as far apart as in the filter's own DFT. */
function spectrumSize(width: number, height: number): number {
  let size = MIN_SPECTRUM_GRID;
  while (size < 2 * Math.max(width, height)) size *= 2;
  return size;
}

/** Frequency of bin `index` on a grid of `size`, in cycles/pixel, in [−0.5, 0.5). */
export function binFrequency(index: number, size: number): number {
  return (index < size / 2 ? index : index - size) / size;
}

/** Power spectrum summed over the channels: the same whatever colour basis the channels are in. */
export function powerSpectrum(planes: readonly Float64Array[], width: number, height: number): PowerSpectrum {
  const size = spectrumSize(width, height);
  const cos = new Float64Array(size);
  const sin = new Float64Array(size);
  for (let j = 0; j < size; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / size);
    sin[j] = Math.sin((2 * Math.PI * j) / size);
  }
  const power = new Float64Array(size * size);
  // Separable DFT: along x for each of the few filter rows, then along y; padding rows are zero.
  const rowRe = new Float64Array(height * size);
  const rowIm = new Float64Array(height * size);
  for (const plane of planes) {
    for (let y = 0; y < height; y++)
      for (let u = 0; u < size; u++) {
        let re = 0;
        let im = 0;
        // j = u·x mod size, the twiddle index, stepped instead of multiplied.
        for (let x = 0, j = 0; x < width; x++, j = (j + u) & (size - 1)) {
          const w = plane[y * width + x]!;
          re += w * cos[j]!;
          im -= w * sin[j]!;
        }
        rowRe[y * size + u] = re;
        rowIm[y * size + u] = im;
      }
    // A real filter's power is symmetric, P(−u, −v) = P(u, v): compute rows v ≤ size/2, mirror the rest.
    for (let v = 0; v <= size / 2; v++)
      for (let u = 0; u < size; u++) {
        let re = 0;
        let im = 0;
        for (let y = 0, j = 0; y < height; y++, j = (j + v) & (size - 1)) {
          const a = rowRe[y * size + u]!;
          const b = rowIm[y * size + u]!;
          re += a * cos[j]! + b * sin[j]!;
          im += b * cos[j]! - a * sin[j]!;
        }
        power[v * size + u]! += re * re + im * im;
      }
  }
  for (let v = size / 2 + 1; v < size; v++)
    for (let u = 0; u < size; u++) power[v * size + u] = power[(size - v) * size + ((size - u) & (size - 1))]!;
  let total = 0;
  for (const p of power) total += p;
  return { size, power, total };
}

/** Share of the spectrum's energy at radial frequencies in [from, to) cycles/pixel; 0 for an empty spectrum. */
export function radialShare(spectrum: PowerSpectrum, from: number, to: number): number {
  const { size, power } = spectrum;
  let sum = 0;
  for (let v = 0; v < size; v++)
    for (let u = 0; u < size; u++) {
      const fx = binFrequency(u, size);
      const fy = binFrequency(v, size);
      const r = Math.sqrt(fx * fx + fy * fy);
      if (r >= from && r < to) sum += power[v * size + u]!;
    }
  return share(sum, spectrum.total);
}
