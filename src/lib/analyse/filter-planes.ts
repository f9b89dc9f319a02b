import { displayChannels, type Kernel } from '../kernel.ts';

/**
 * One filter pulled out of the HWIO kernel as one row-major plane per input channel, in float64
 * because the measures sum many small products. For three-channel kernels the planes are in display
 * order R, G, B whatever the model's channel order, so "red" means red to every measure.
 */
export interface FilterPlanes {
  width: number;
  height: number;
  planes: Float64Array[];
}

export function filterPlanes(kernel: Kernel, f: number): FilterPlanes {
  const [kh, kw, cin, cout] = kernel.shape;
  const order = cin === 3 ? displayChannels(kernel) : Array.from({ length: cin }, (_, c) => c);
  const planes = order.map((c) => {
    const plane = new Float64Array(kh * kw);
    for (let p = 0; p < kh * kw; p++) plane[p] = kernel.data[(p * cin + c) * cout + f]!;
    return plane;
  });
  return { width: kw, height: kh, planes };
}

/** part / whole as a share in [0, 1], rounding errors clipped; 0 when there is no whole. */
export function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, Math.max(0, part / whole)) : 0;
}

export function energy(planes: readonly Float64Array[]): number {
  let sum = 0;
  for (const plane of planes) for (const v of plane) sum += v * v;
  return sum;
}

export function mean(plane: Float64Array): number {
  let sum = 0;
  for (const v of plane) sum += v;
  return sum / plane.length;
}

export function withoutMean(plane: Float64Array): Float64Array {
  const m = mean(plane);
  return plane.map((v) => v - m);
}

/** Sum of squared deviations from the plane's mean: the "total" in R² = 1 − residual / total. */
export function spread(plane: Float64Array): number {
  const m = mean(plane);
  let sum = 0;
  for (const v of plane) sum += (v - m) * (v - m);
  return sum;
}

/** Centre of mass of the plane's squared deviations from its mean: where its structure is. */
export function energyCentroid(plane: Float64Array, width: number, height: number): [number, number] {
  const m = mean(plane);
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const e = (plane[y * width + x]! - m) ** 2;
      sum += e;
      sx += e * x;
      sy += e * y;
    }
  return sum > 0 ? [sx / sum, sy / sum] : [(width - 1) / 2, (height - 1) / 2];
}
