import { displayChannels, type Kernel } from '../kernel.ts';
import { blankImage, type RgbImage } from './image.ts';

/**
 * How weights become 0–255:
 * - filter: each filter on its own min and max (the reference recipe); every filter uses the full
 *   range, so weak filters look as strong as the rest.
 * - global: one min and max for the whole layer; weak or dead filters fade to flat grey.
 * - zero: one scale for the layer, centred on zero: mid-grey is 0, the sign of each weight shows.
 */
export type Normalization = 'filter' | 'global' | 'zero';
export const NORMALIZATIONS: readonly Normalization[] = ['filter', 'global', 'zero'];

/**
 * How a scaled weight becomes a grey level:
 * - truncate: the reference recipe's, `((f - f.min()) / (f.max() - f.min()) * 255).astype("uint8")`
 *   on a float32 array. NumPy does each step in float32 and astype drops the fraction, so the
 *   steps are repeated here with float32 rounding; the grid then equals the recipe's output byte
 *   for byte.
 * - nearest: rounds to the nearest level in double precision, which centres every level on the
 *   values it stands for; one level brighter than the recipe in about half the channels.
 */
export type PixelRounding = 'truncate' | 'nearest';
export const PIXEL_ROUNDINGS: readonly PixelRounding[] = ['truncate', 'nearest'];

export interface FilterRange {
  min: number;
  max: number;
}

export function filterRange(kernel: Kernel, f: number): FilterRange {
  const cout = kernel.shape[3];
  let min = Infinity;
  let max = -Infinity;
  for (let i = f; i < kernel.data.length; i += cout) {
    const v = kernel.data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** The value range behind the colours of filter `f` under `mode`: what 0 and 255 stand for. */
export function displayRange(kernel: Kernel, f: number, mode: Normalization): FilterRange {
  if (mode === 'filter') return filterRange(kernel, f);
  let min = Infinity;
  let max = -Infinity;
  for (let g = 0; g < kernel.shape[3]; g++) {
    const range = filterRange(kernel, g);
    min = Math.min(min, range.min);
    max = Math.max(max, range.max);
  }
  if (mode === 'global') return { min, max };
  const bound = Math.max(Math.abs(min), Math.abs(max));
  return { min: -bound, max: bound };
}

export interface FilterImageOptions {
  /** The range behind 0 and 255; by default the one `mode` gives. */
  range?: FilterRange | undefined;
  rounding?: PixelRounding | undefined;
}

/** Filter `f` as a kh×kw RGB image, display channels in RGB whatever the model's order. */
export function filterImage(kernel: Kernel, f: number, mode: Normalization, { range = displayRange(kernel, f, mode), rounding = 'truncate' }: FilterImageOptions = {}): RgbImage {
  const [kh, kw, cin, cout] = kernel.shape;
  const channels = displayChannels(kernel);
  const toLevel = rounding === 'truncate' ? truncatedLevels(range) : nearestLevels(range);
  const image = blankImage(kw, kh);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let d = 0; d < 3; d++) image.data[(y * kw + x) * 3 + d] = toLevel(kernel.data[((y * kw + x) * cin + channels[d]!) * cout + f]!);
  return image;
}

// A constant filter has no contrast to show: both draw it mid-grey rather than divide by zero.

function truncatedLevels({ min, max }: FilterRange): (v: number) => number {
  const f32 = Math.fround;
  const span = f32(max - min);
  if (!(span > 0)) return () => 127;
  return (v) => Math.min(255, Math.max(0, Math.trunc(f32(f32(f32(v - min) / span) * 255))));
}

function nearestLevels({ min, max }: FilterRange): (v: number) => number {
  const span = max - min;
  if (!(span > 0)) return () => 128;
  return (v) => Math.min(255, Math.max(0, Math.round(((v - min) / span) * 255)));
}
