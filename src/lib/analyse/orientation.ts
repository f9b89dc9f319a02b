import { share } from './filter-planes.ts';
import { binFrequency, powerAt, spectrumGrid, type PowerSpectrum } from './spectrum.ts';

/**
 * Orientation convention, used by every measure and report: the orientation of the STRIPES (the
 * edge or line a filter detects) as seen on screen, in degrees in [0, 180), counted counter-clockwise
 * from horizontal like a protractor laid on the screen. 0° = horizontal stripes (an edge between top
 * and bottom), 45° = stripes from bottom-left to top-right ("/"), 90° = vertical stripes, 135° = "\".
 * In image coordinates (x right, y down) a wave vector (kx, ky), which points across the stripes,
 * has stripe orientation atan2(kx, ky).
 */
export function stripeOrientation(kx: number, ky: number): number {
  const degrees = (Math.atan2(kx, ky) * 180) / Math.PI;
  const wrapped = ((degrees % 180) + 180) % 180;
  return wrapped >= 180 ? 0 : wrapped;
}

/** Smallest angle between two orientations, in degrees (0–90): 179° and 1° are 2° apart. */
export function orientationDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 180;
  return Math.min(d, 180 - d);
}

export interface SpectralOrientation {
  /** Stripe orientation of the spectral peak (see stripeOrientation); null for a flat (constant) filter. */
  orientationDeg: number | null;
  /** Radius of the spectral peak, cycles/pixel (0–0.71; 0.5 is Nyquist along an axis). */
  frequency: number;
  /** Wave vector of the peak, cycles/pixel, for fits that start from it. */
  waveVector: [number, number];
  /**
   * Concentration of spectral energy around the dominant orientation, 0–1: the power-weighted mean of
   * cos 2(θ − θ_dominant) over all bins (the doubled-angle "1 − circular variance" of orientation
   * tuning), clamped at 0. 1 = all energy at one orientation; ≈ 0 for an isotropic blob or white noise.
   */
  selectivity: number;
}

/**
 * Sub-bin position of a spectral peak, in bins: the vertex of the quadratic through the log-power
 * of the 3×3 bins around it. Exact for a Gaussian lobe, which is what a Gabor's envelope makes, and
 * the same computation in every direction, so turning the filter turns the answer with it.
 */
function peakOffset(spectrum: PowerSpectrum, u: number, v: number): [number, number] {
  // Relative to the peak, so that scaling the filter by a power of two changes nothing, not even rounding.
  const peak = powerAt(spectrum, u, v);
  const at = (du: number, dv: number) => Math.log(powerAt(spectrum, u + du, v + dv) / peak);
  const gu = (at(1, 0) - at(-1, 0)) / 2;
  const gv = (at(0, 1) - at(0, -1)) / 2;
  const huu = at(1, 0) - 2 * at(0, 0) + at(-1, 0);
  const hvv = at(0, 1) - 2 * at(0, 0) + at(0, -1);
  const huv = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4;
  const determinant = huu * hvv - huv * huv;
  // Only a proper maximum (negative definite) has a vertex to move to; zeros around give −∞ and NaN.
  if (!(huu < 0 && determinant > 0)) return [0, 0];
  const du = (-hvv * gu + huv * gv) / determinant;
  const dv = (huv * gu - huu * gv) / determinant;
  const clamp = (d: number) => Math.max(-1, Math.min(1, d));
  return [clamp(du), clamp(dv)];
}

/**
 * Orientation and frequency from the peak of a power spectrum of mean-free planes (a mean has no
 * orientation, and its sinc would otherwise hide the peak). The grid peak is refined between bins,
 * as the grid alone is ~9° coarse at 0.2 cycles/pixel. `energy`: the planes' energy with their means,
 * the scale below which the spectrum is rounding noise.
 */
export function spectralPeak(spectrum: PowerSpectrum, energy: number): Omit<SpectralOrientation, 'selectivity'> {
  const { size, power } = spectrum;
  // Below this the filter is constant up to rounding, and any "peak" would be noise of the arithmetic.
  if (!(spectrum.total > 1e-20 * size * size * energy)) return { orientationDeg: null, frequency: 0, waveVector: [0, 0] };

  // The first of equal peaks in row order, as on the whole grid: the rows not stored mirror earlier ones.
  let peak = 0;
  for (let i = 1; i < power.length; i++) if (power[i]! > power[peak]!) peak = i;
  const [du, dv] = peakOffset(spectrum, peak % size, Math.floor(peak / size));
  const kx = binFrequency(peak % size, size) + du / size;
  const ky = binFrequency(Math.floor(peak / size), size) + dv / size;
  return { orientationDeg: stripeOrientation(kx, ky), frequency: Math.hypot(kx, ky), waveVector: [kx, ky] };
}

/** spectralPeak, and how much of the spectrum's energy lies along the peak's orientation. */
export function spectralOrientation(spectrum: PowerSpectrum, energy: number): SpectralOrientation {
  const peak = spectralPeak(spectrum, energy);
  if (peak.orientationDeg === null) return { ...peak, selectivity: 0 };
  const dominant = (2 * peak.orientationDeg * Math.PI) / 180;
  const { power } = spectrum;
  const { count, cos2, sin2 } = spectrumGrid(spectrum.size);
  // Σ p·cos 2(φ − θ) = cos 2θ · Σ p·cos 2φ + sin 2θ · Σ p·sin 2φ over the whole grid. Bin 0, the
  // zero frequency, has no direction.
  let alignedCos = 0;
  let alignedSin = 0;
  let total = 0;
  for (let i = 1; i < power.length; i++) {
    alignedCos += power[i]! * cos2[i]!;
    alignedSin += power[i]! * sin2[i]!;
    total += count[i]! * power[i]!;
  }
  const aligned = Math.cos(dominant) * alignedCos + Math.sin(dominant) * alignedSin;
  return { ...peak, selectivity: share(Math.max(0, aligned), total) };
}
