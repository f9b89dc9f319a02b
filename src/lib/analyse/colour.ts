/**
 * Colour versus grey. Per pixel, a filter's weights over the input channels form a vector; its
 * component along the grey axis (1, 1, 1)/√3 responds to brightness, the rest to colour. Channels
 * are in display order R, G, B (see filterPlanes). Kernels with other channel counts use the
 * all-channels-equal axis as "grey"; they have no red–green or blue–yellow axes.
 */

import { share } from './filter-planes.ts';

export interface ColourMeasures {
  /** Share of the filter's energy orthogonal to the grey axis, 0–1 (0 for one input channel). */
  colourShare: number;
  /** Share of the energy in the filter's strongest colour direction (1 = one colour pattern only). */
  principalShare: number;
  /**
   * How the colour energy splits between the red–green axis (R − G)/√2 and the blue–yellow axis
   * (R + G − 2B)/√6, each 0–1, summing to 1; null when the kernel does not have exactly three
   * channels, or the filter has no colour energy.
   */
  opponentAxes: { redGreen: number; blueYellow: number } | null;
  /**
   * Whether the colour itself changes sign across the filter, 0–1: along the strongest colour
   * direction c(x, y), 1 − |Σ c| / Σ |c|. 0 = one tint everywhere (a colour blob); near 1 = one colour
   * on one side and its opposite on the other (colour contrast).
   */
  chromaticOpponency: number;
}

export interface PrincipalComponent {
  /** Unit vector over the channels; sign chosen so its components sum to ≥ 0. */
  axis: number[];
  /** Share of the energy along `axis`. */
  share: number;
  /** The filter projected on `axis`: one plane that carries as much of the filter as any single colour can. */
  plane: Float64Array;
}

/** Strongest channel direction of a set of planes (top eigenvector of their uncentred second moments). */
export function principalComponent(planes: readonly Float64Array[]): PrincipalComponent {
  const n = planes.length;
  const moments = planes.map((a) =>
    planes.map((b) => {
      let sum = 0;
      for (let p = 0; p < a.length; p++) sum += a[p]! * b[p]!;
      return sum;
    }),
  );
  const { values, vectors } = symmetricEigen(moments);
  let top = 0;
  for (let k = 1; k < n; k++) if (values[k]! > values[top]!) top = k;
  const axis = vectors[top]!;
  if (axis.reduce((a, b) => a + b, 0) < 0) for (let c = 0; c < n; c++) axis[c] = -axis[c]!;
  const trace = moments.reduce((sum, row, c) => sum + row[c]!, 0);
  const plane = new Float64Array(planes[0]!.length);
  for (let c = 0; c < n; c++) for (let p = 0; p < plane.length; p++) plane[p]! += axis[c]! * planes[c]![p]!;
  return { axis, share: share(values[top]!, trace), plane };
}

/** `principal`: principalComponent(planes), which the caller needs too. */
export function colourMeasures(planes: readonly Float64Array[], principal: PrincipalComponent): ColourMeasures {
  const n = planes.length;
  const pixels = planes[0]!.length;
  const principalShare = principal.share;
  const chroma = planes.map((plane) => new Float64Array(plane));
  let total = 0;
  let colour = 0;
  for (let p = 0; p < pixels; p++) {
    let sum = 0;
    for (const plane of planes) sum += plane[p]!;
    for (let c = 0; c < n; c++) {
      chroma[c]![p] = planes[c]![p]! - sum / n;
      total += planes[c]![p]! ** 2;
      colour += chroma[c]![p]! ** 2;
    }
  }
  if (n === 1 || !(colour > 1e-12 * total)) return { colourShare: 0, principalShare, opponentAxes: null, chromaticOpponency: 0 };

  let opponentAxes: ColourMeasures['opponentAxes'] = null;
  if (n === 3) {
    let redGreen = 0;
    let blueYellow = 0;
    for (let p = 0; p < pixels; p++) {
      const [r, g, b] = [planes[0]![p]!, planes[1]![p]!, planes[2]![p]!];
      redGreen += (r - g) ** 2 / 2;
      blueYellow += (r + g - 2 * b) ** 2 / 6;
    }
    opponentAxes = { redGreen: share(redGreen, redGreen + blueYellow), blueYellow: share(blueYellow, redGreen + blueYellow) };
  }
  const strongestColour = principalComponent(chroma).plane;
  let signed = 0;
  let absolute = 0;
  for (const v of strongestColour) {
    signed += v;
    absolute += Math.abs(v);
  }
  return { colourShare: share(colour, total), principalShare, opponentAxes, chromaticOpponency: 1 - share(Math.abs(signed), absolute) };
}

/**
 * Eigenvalues and unit eigenvectors (vectors[k] belongs to values[k]) of a small symmetric matrix, by
 * cyclic Jacobi rotations: exact and robust for any spectrum, and cheap for the few channels of a
 * first layer (cost grows as channels³).
 */
function symmetricEigen(matrix: readonly number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = Float64Array.from(matrix.flat());
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let offDiagonal = 0;
    let diagonal = 0;
    for (let i = 0; i < n; i++) {
      diagonal += a[i * n + i]! ** 2;
      for (let j = i + 1; j < n; j++) offDiagonal += a[i * n + j]! ** 2;
    }
    if (!(offDiagonal > 1e-30 * diagonal)) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        // Rotation angle that zeroes a[p][q]: tan 2φ = 2 a_pq / (a_qq − a_pp).
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const indices = Array.from({ length: n }, (_, k) => k);
  return { values: indices.map((i) => a[i * n + i]!), vectors: indices.map((k) => indices.map((i) => v[i * n + k]!)) };
}
