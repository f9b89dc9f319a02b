import { energyCentroid, spread } from './filter-planes.ts';

/**
 * Radial structure: how well a plane is described by a profile that depends only on the distance
 * from one centre, and whether that profile changes sign (centre against surround, as in a
 * difference of Gaussians) or not (a blob).
 */
export interface RadialStructure {
  /** Fraction of the plane's variance explained by its mean over rings 1 pixel wide around `centre`, 0–1. */
  radialR2: number;
  /**
   * Weight of the part of the ring profile opposite in sign to the centre, relative to the part of
   * the same sign (smaller over larger, 0–1): 0 = no surround (a blob), 1 = surround as strong as centre.
   */
  surroundBalance: number;
  /** [x, y] in pixels: the centroid of the plane's variance. */
  centre: [number, number];
}

export function radialStructure(plane: Float64Array, width: number, height: number): { structure: RadialStructure; model: Float64Array } {
  const centre = energyCentroid(plane, width, height);
  const ring = new Int32Array(plane.length);
  const rings = Math.ceil(Math.hypot(width, height)) + 1;
  const sums = new Float64Array(rings);
  const counts = new Float64Array(rings);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      ring[p] = Math.round(Math.hypot(x - centre[0], y - centre[1]));
      sums[ring[p]!]! += plane[p]!;
      counts[ring[p]!]!++;
    }
  const model = plane.map((_, p) => sums[ring[p]!]! / counts[ring[p]!]!);

  const total = spread(plane);
  let residual = 0;
  for (let p = 0; p < plane.length; p++) residual += (plane[p]! - model[p]!) ** 2;
  // A constant plane is perfectly radial.
  const radialR2 = total > 0 ? Math.min(1, Math.max(0, 1 - residual / total)) : 1;

  // Judge signs on the ring profile, not on single pixels, so noise does not fake a surround.
  const innermost = counts.findIndex((n) => n > 0);
  const centreSign = Math.sign(sums[innermost]!);
  let same = 0;
  let opposite = 0;
  for (const v of model) {
    if (Math.sign(v) === centreSign) same += Math.abs(v);
    else opposite += Math.abs(v);
  }
  const surroundBalance = centreSign === 0 || same === 0 ? 0 : Math.min(same, opposite) / Math.max(same, opposite);
  return { structure: { radialR2, surroundBalance, centre }, model };
}
