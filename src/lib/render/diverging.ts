import type { Kernel } from '../kernel.ts';
import { blankImage, type RgbImage } from './image.ts';

/**
 * A diverging colour map centred on zero: blue for negative weights, near-white for zero, red for
 * positive. The anchors are ColorBrewer's RdBu, whose two arms are perceptually balanced, so equal
 * magnitudes of opposite sign look equally strong.
 */
const ANCHORS: readonly [number, number, number][] = [
  [33, 102, 172],
  [103, 169, 207],
  [247, 247, 247],
  [239, 138, 98],
  [178, 24, 43],
];

/** Colour of `t` in [-1, 1] (clamped). */
export function divergingColour(t: number): [number, number, number] {
  const x = ((Math.max(-1, Math.min(1, t)) + 1) / 2) * (ANCHORS.length - 1);
  const i = Math.min(ANCHORS.length - 2, Math.floor(x));
  const u = x - i;
  const a = ANCHORS[i]!;
  const b = ANCHORS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * u)) as [number, number, number];
}

/**
 * The input channels of filter `f` side by side, each on the diverging map, with 1-pixel dark
 * gaps. One symmetric scale for the filter (its largest |weight|), so channels compare fairly.
 * Channels appear in display order R, G, B whatever the model's order.
 */
export function channelsImage(kernel: Kernel, f: number, channels: readonly number[]): RgbImage {
  const [kh, kw, cin, cout] = kernel.shape;
  let bound = 0;
  for (let i = f; i < kernel.data.length; i += cout) bound = Math.max(bound, Math.abs(kernel.data[i]!));
  const image = blankImage(channels.length * (kw + 1) - 1, kh);
  image.data.fill(40);
  channels.forEach((c, panel) => {
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) {
        const v = kernel.data[((y * kw + x) * cin + c) * cout + f]!;
        image.data.set(divergingColour(bound > 0 ? v / bound : 0), (y * image.width + panel * (kw + 1) + x) * 3);
      }
  });
  return image;
}
