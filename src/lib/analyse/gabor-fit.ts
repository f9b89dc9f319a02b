import { energyCentroid, spread } from './filter-planes.ts';
import { nelderMead } from './nelder-mead.ts';
import { stripeOrientation } from './orientation.ts';

/**
 * A 2-D Gabor: a Gaussian envelope (centre, width across and along the stripes) times a plane wave
 * (wave vector, phase), plus a constant. Amplitude, phase and constant enter linearly, so they are
 * solved exactly by least squares for every candidate envelope and wave vector (variable projection);
 * the optimiser searches only the six non-linear parameters. Deterministic: fixed starts from the
 * spectral peak, then Nelder–Mead.
 */
export interface GaborFit {
  /** Stripe orientation, degrees, same convention as stripeOrientation. */
  orientationDeg: number;
  /** Cycles/pixel. */
  frequency: number;
  /**
   * Phase of the wave at the centre, degrees in (−180, 180], with the wave vector pointing along
   * (sin θ, cos θ) for stripe orientation θ: 0 = a positive line through the centre, ±180 = a
   * negative line, ±90 = an edge.
   */
  phaseDeg: number;
  /** Envelope standard deviation across the stripes (along the wave vector), pixels. */
  sigmaAcross: number;
  /** Envelope standard deviation along the stripes, pixels. */
  sigmaAlong: number;
  /** Envelope centre [x, y], pixels from the top-left pixel's centre. */
  centre: [number, number];
  /** Fraction of the plane's variance (about its mean) the Gabor explains, 0–1. */
  r2: number;
}

/** Narrowest envelope the fit may use: half a pixel, so it cannot "explain" a single noisy pixel with a spike. */
const MIN_SIGMA = 0.5;
const LOG_MIN_SIGMA = Math.log(MIN_SIGMA);

/** Simplex steps, one per parameter of Params. */
const STEP = [0.5, 0.5, 0.03, 0.03, 0.3, 0.3];
const MAX_EVALUATIONS = 600;

/** The six non-linear parameters, [x0, y0, kx, ky, ln σ across, ln σ along]. */
export type Params = ArrayLike<number>;

interface Candidate {
  params: number[];
  residual: number;
}

/**
 * Fits a Gabor to one plane, starting from `waveVector` (cycles/pixel), the peak of the plane's
 * spectrum; null when the plane is constant (there is no variance to explain).
 */
export function fitGabor(plane: Float64Array, width: number, height: number, waveVector: readonly [number, number]): { fit: GaborFit; model: Float64Array } | null {
  const total = spread(plane);
  // Constant up to rounding: nothing for a Gabor to explain.
  if (!(total > 1e-12 * planeSums(plane).squares)) return null;

  const residual = objective(plane, width, height, total);
  let best: Candidate = { params: [], residual: Infinity };
  for (const params of starts(plane, width, height, waveVector)) {
    const value = residual(params);
    if (value < best.residual) best = { params, residual: value };
  }
  const options = { step: STEP, maxEvaluations: MAX_EVALUATIONS, valueTolerance: 1e-5 * total, pointTolerance: 3e-3 };
  // A second run from the first's answer re-inflates the simplex, which may have collapsed early.
  for (let run = 0; run < 2; run++) {
    const minimum = nelderMead(residual, best.params, options);
    if (minimum.value <= best.residual) best = { params: minimum.point, residual: minimum.value };
  }
  return describe(best.params, plane, width, height, total);
}

/** Fixed starts from the spectral peak: three frequencies × three envelope widths × two centres. */
function starts(plane: Float64Array, width: number, height: number, [kx0, ky0]: readonly [number, number]): number[][] {
  const maxSigma = Math.max(width, height);
  const centroid = energyCentroid(plane, width, height);
  const list: number[][] = [];
  for (const scale of [0.7, 1, 1.4])
    for (const sigma of [maxSigma / 8, maxSigma / 5, maxSigma / 3])
      for (const [x0, y0] of [[(width - 1) / 2, (height - 1) / 2], centroid] as const) {
        // Scaled up, a peak near Nyquist would leave the allowed box; keep it at 0.5 cycles/pixel at most.
        const k = Math.min(scale, 0.5 / Math.max(Math.hypot(kx0, ky0), 1e-12));
        const logSigma = Math.log(Math.max(MIN_SIGMA, sigma));
        list.push([x0, y0, kx0 * k, ky0 * k, logSigma, logSigma]);
      }
  return list;
}

/** How far `params` lie outside the allowed box, summed over the parameters; 0 inside. `logMaxSigma`: ln of the widest envelope. */
function violation(params: Params, width: number, height: number, logMaxSigma: number): number {
  const x0 = params[0]!;
  const y0 = params[1]!;
  const kx = params[2]!;
  const ky = params[3]!;
  const logAcross = params[4]!;
  const logAlong = params[5]!;
  return (
    Math.max(0, -0.5 - x0, x0 - (width - 0.5)) +
    Math.max(0, -0.5 - y0, y0 - (height - 0.5)) +
    Math.max(0, Math.sqrt(kx * kx + ky * ky) - 0.5) +
    Math.max(0, LOG_MIN_SIGMA - logAcross, logAcross - logMaxSigma) +
    Math.max(0, LOG_MIN_SIGMA - logAlong, logAlong - logMaxSigma)
  );
}

/**
 * The residual sum of squares the best linear coefficients leave for `params`: what the optimiser
 * minimises, several hundred times per filter, so it allocates nothing. Anything outside the box
 * scores worse than the constant-only model, which any inside point can match.
 */
function objective(plane: Float64Array, width: number, height: number, total: number): (params: Params) => number {
  const { sum, squares } = planeSums(plane);
  const logMaxSigma = Math.log(Math.max(width, height));
  const sums = new Float64Array(SUMS);
  const factors = columnFactors(width);
  const columns = { cos: new Float64Array(plane.length), sin: new Float64Array(plane.length) };
  return (params) => {
    const outside = violation(params, width, height, logMaxSigma);
    if (outside > 0) return total * (1 + outside);
    if (!steppedSums(plane, width, height, params, factors, sums)) directSums(plane, width, height, params, columns, sums);
    return solveNormal(sums, plane.length, sum, squares, null);
  };
}

function describe(params: readonly number[], plane: Float64Array, width: number, height: number, total: number): { fit: GaborFit; model: Float64Array } {
  const [x0, y0, kx, ky, logAcross, logAlong] = params as [number, number, number, number, number, number];
  const { model, coefficients } = fittedModel(plane, width, height, params);
  let residual = 0;
  for (let p = 0; p < plane.length; p++) residual += (plane[p]! - model[p]!) ** 2;
  const orientationDeg = stripeOrientation(kx, ky);
  // The wave vectors k and −k describe the same Gabor with opposite phase; report the one along (sin θ, cos θ).
  const theta = (orientationDeg * Math.PI) / 180;
  const flip = kx * Math.sin(theta) + ky * Math.cos(theta) < 0 ? -1 : 1;
  const [a, b] = coefficients;
  const phase = (Math.atan2(-b * flip, a) * 180) / Math.PI;
  return {
    fit: {
      orientationDeg,
      frequency: Math.hypot(kx, ky),
      phaseDeg: phase === -180 ? 180 : phase,
      sigmaAcross: Math.exp(logAcross),
      sigmaAlong: Math.exp(logAlong),
      centre: [x0, y0],
      r2: Math.min(1, Math.max(0, 1 - residual / total)),
    },
    model,
  };
}

/** Σ v and Σ v² over the plane. */
function planeSums(plane: Float64Array): { sum: number; squares: number } {
  let sum = 0;
  let squares = 0;
  for (const v of plane) {
    sum += v;
    squares += v * v;
  }
  return { sum, squares };
}

/**
 * The model for `params` at each pixel, with its best cosine, sine and constant coefficients, from
 * the columns computed pixel by pixel; outside the box, where the objective has none, all zero.
 */
function fittedModel(plane: Float64Array, width: number, height: number, params: Params): { model: Float64Array; coefficients: [number, number, number] } {
  const columns = gaborColumns(width, height, params, { cos: new Float64Array(plane.length), sin: new Float64Array(plane.length) });
  const coefficients: [number, number, number] = [0, 0, 0];
  if (violation(params, width, height, Math.log(Math.max(width, height))) === 0) {
    const { sum, squares } = planeSums(plane);
    solveNormal(columnSums(plane, columns, new Float64Array(SUMS)), plane.length, sum, squares, coefficients);
  }
  const [a, b, c] = coefficients;
  return { model: columns.cos.map((v, p) => a * v + b * columns.sin[p]! + c), coefficients };
}

export interface Columns {
  cos: Float64Array;
  sin: Float64Array;
}

/**
 * The envelope times the cosine and the sine of the wave at each pixel, one pixel at a time: the
 * definition of the model, used for the fitted model itself and where steppedSums cannot step.
 */
function gaborColumns(width: number, height: number, params: Params, into: Columns): Columns {
  const { x0, y0, kx, ky, across, along, ux, uy } = envelope(params);
  for (let y = 0, p = 0; y < height; y++)
    for (let x = 0; x < width; x++, p++) {
      const [dx, dy] = [x - x0, y - y0];
      const u = dx * ux + dy * uy;
      const v = dy * ux - dx * uy;
      const e = Math.exp(-u * u * across - v * v * along);
      const phase = 2 * Math.PI * (kx * dx + ky * dy);
      into.cos[p] = e * Math.cos(phase);
      into.sin[p] = e * Math.sin(phase);
    }
  return into;
}

/** The parameters unpacked: envelope exp(−across·u² − along·v²), u along the unit wave vector (ux, uy), v along the stripes. */
function envelope(params: Params) {
  const [x0, y0, kx, ky] = [params[0]!, params[1]!, params[2]!, params[3]!];
  const f = Math.sqrt(kx * kx + ky * ky);
  // At f = 0 the stripes have no direction; any envelope axes will do.
  const [ux, uy] = f > 1e-12 ? [kx / f, ky / f] : [0, 1];
  return { x0, y0, kx, ky, ux, uy, across: 1 / (2 * Math.exp(2 * params[4]!)), along: 1 / (2 * Math.exp(2 * params[5]!)) };
}

/** Sums over the pixels that the normal equations need, in this order: C·C, C·S, C, S·S, S, C·v, S·v (C, S the columns, v the plane). */
export const SUMS = 7;

/** The sums from the columns computed pixel by pixel: their definition, which steppedSums must match. */
export function directSums(plane: Float64Array, width: number, height: number, params: Params, columns: Columns, sums: Float64Array): Float64Array {
  return columnSums(plane, gaborColumns(width, height, params, columns), sums);
}

function columnSums(plane: Float64Array, { cos, sin }: Columns, sums: Float64Array): Float64Array {
  sums.fill(0);
  for (let p = 0; p < plane.length; p++) {
    const [c, s, v] = [cos[p]!, sin[p]!, plane[p]!];
    sums[0]! += c * c;
    sums[1]! += c * s;
    sums[2]! += c;
    sums[3]! += s * s;
    sums[4]! += s;
    sums[5]! += c * v;
    sums[6]! += s * v;
  }
  return sums;
}

/**
 * Envelope exponents up to this keep every factor steppedSums multiplies by, e^±600 ≈ 1e±261, well
 * inside the doubles: while the envelope cannot fall below e^−600 anywhere on the plane, the sums may
 * step from pixel to pixel.
 */
const MAX_STEPPED_EXPONENT = 600;

/** Per-column factors of steppedSums, one per pixel of a row: allocated once per fit. */
export interface ColumnFactors {
  re: Float64Array;
  im: Float64Array;
  perRow: Float64Array;
}

export const columnFactors = (width: number): ColumnFactors => ({ re: new Float64Array(width), im: new Float64Array(width), perRow: new Float64Array(width) });

/**
 * columnSums without the columns: the columns are the real and imaginary parts of exp(P) for the
 * complex quadratic
 *   P(x, y) = −(a·dx² + b·dy² + c·dx·dy) + 2πi·(kx·dx + ky·dy),   dx = x − x0, dy = y − y0,
 * where a, b, c are the envelope's Gaussian in pixel axes. A quadratic's second differences are
 * constant, so exp(P) follows from a dozen exponentials and sines per plane by multiplications, where
 * the definition takes an exponential and two sines per pixel; and nothing is stored per pixel.
 *   exp(P(x, y)) = exp(P(0, y)) · W(x) · q(x)^y,   W(x) = exp(P(x, 0) − P(0, 0)),   q(x) = e^(−c·x):
 * the row starts step down the first column, W and q step along the first row, and within a row the
 * pixels do not depend on each other, so the processor can overlap them. This is the fit's
 * innermost loop. False, with nothing summed, when the envelope is too narrow for the plane to step safely.
 */
export function steppedSums(plane: Float64Array, width: number, height: number, params: Params, columns: ColumnFactors, sums: Float64Array): boolean {
  const x0 = params[0]!;
  const y0 = params[1]!;
  const kx = params[2]!;
  const ky = params[3]!;
  const f = Math.sqrt(kx * kx + ky * ky);
  // As in envelope(), inlined: this runs for every evaluation.
  const ux = f > 1e-12 ? kx / f : 0;
  const uy = f > 1e-12 ? ky / f : 1;
  const across = 1 / (2 * Math.exp(2 * params[4]!));
  const along = 1 / (2 * Math.exp(2 * params[5]!));
  const farX = Math.max(x0, width - 1 - x0);
  const farY = Math.max(y0, height - 1 - y0);
  if (Math.max(across, along) * (farX * farX + farY * farY) > MAX_STEPPED_EXPONENT) return false;
  const a = across * ux * ux + along * uy * uy;
  const b = across * uy * uy + along * ux * ux;
  const c = 2 * ux * uy * (across - along);
  const w = 2 * Math.PI;

  // Along the first row: W(x + 1) = W(x) · exp(P(x + 1, 0) − P(x, 0)), a step that itself changes by
  // e^−2a per pixel; q(x + 1) = q(x) · e^−c.
  const right = Math.exp(-(a * (1 - 2 * x0) - c * y0));
  let stepRe = right * Math.cos(w * kx);
  let stepIm = right * Math.sin(w * kx);
  const rightDecay = Math.exp(-2 * a);
  const perRow = Math.exp(-c);
  const { re: wRe, im: wIm, perRow: q } = columns;
  wRe[0] = 1;
  wIm[0] = 0;
  q[0] = 1;
  for (let x = 1; x < width; x++) {
    wRe[x] = wRe[x - 1]! * stepRe - wIm[x - 1]! * stepIm;
    wIm[x] = wRe[x - 1]! * stepIm + wIm[x - 1]! * stepRe;
    q[x] = q[x - 1]! * perRow;
    stepRe *= rightDecay;
    stepIm *= rightDecay;
  }
  // Down the first column, from pixel (0, 0) where dx = −x0 and dy = −y0: the same with b.
  const start = Math.exp(-(a * x0 * x0 + b * y0 * y0 + c * x0 * y0));
  let rowRe = start * Math.cos(-w * (kx * x0 + ky * y0));
  let rowIm = start * Math.sin(-w * (kx * x0 + ky * y0));
  const down = Math.exp(-(b * (1 - 2 * y0) - c * x0));
  let downRe = down * Math.cos(w * ky);
  let downIm = down * Math.sin(w * ky);
  const downDecay = Math.exp(-2 * b);

  let cc = 0;
  let cs = 0;
  let c1 = 0;
  let ss = 0;
  let s1 = 0;
  let cv = 0;
  let sv = 0;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const zRe = rowRe * wRe[x]! - rowIm * wIm[x]!;
      const zIm = rowRe * wIm[x]! + rowIm * wRe[x]!;
      const v = plane[p]!;
      cc += zRe * zRe;
      cs += zRe * zIm;
      c1 += zRe;
      ss += zIm * zIm;
      s1 += zIm;
      cv += zRe * v;
      sv += zIm * v;
      wRe[x]! *= q[x]!;
      wIm[x]! *= q[x]!;
    }
    const re = rowRe * downRe - rowIm * downIm;
    rowIm = rowRe * downIm + rowIm * downRe;
    rowRe = re;
    downRe *= downDecay;
    downIm *= downDecay;
  }
  sums[0] = cc;
  sums[1] = cs;
  sums[2] = c1;
  sums[3] = ss;
  sums[4] = s1;
  sums[5] = cv;
  sums[6] = sv;
  return true;
}

/**
 * The residual the best amplitudes of the cosine and sine parts and the constant leave, from the sums
 * (SUMS) over the `n` pixels, the plane's sum and its sum of squares; the amplitudes themselves go to
 * `coefficients` when given.
 */
function solveNormal(sums: Float64Array, n: number, sum: number, squares: number, coefficients: [number, number, number] | null): number {
  const cc = sums[0]!;
  const cs = sums[1]!;
  const c1 = sums[2]!;
  const ss = sums[3]!;
  const s1 = sums[4]!;
  // Normal equations [cc cs c1; cs ss s1; c1 s1 n]·x = [cv sv sum], solved by Cholesky L·Lᵀ; a
  // whisker of ridge keeps them positive definite when the envelope makes the columns nearly parallel.
  const ridge = 1e-10 * (cc + ss + n);
  const l11 = Math.sqrt(cc + ridge);
  const l21 = cs / l11;
  const l31 = c1 / l11;
  const l22 = Math.sqrt(Math.max(ss + ridge - l21 * l21, ridge));
  const l32 = (s1 - l31 * l21) / l22;
  const l33 = Math.sqrt(Math.max(n + ridge - l31 * l31 - l32 * l32, ridge));
  const z1 = sums[5]! / l11;
  const z2 = (sums[6]! - l21 * z1) / l22;
  const z3 = (sum - l31 * z1 - l32 * z2) / l33;
  const constant = z3 / l33;
  const b = (z2 - l32 * constant) / l22;
  const a = (z1 - l21 * b - l31 * constant) / l11;
  if (coefficients) {
    coefficients[0] = a;
    coefficients[1] = b;
    coefficients[2] = constant;
  }
  // |v − model|² = |v|² − |z|² − ridge·|x|² for z = L⁻¹·[cv sv sum]: the fitted part's energy, taken
  // off without a second pass over the pixels.
  return Math.max(0, squares - (z1 * z1 + z2 * z2 + z3 * z3) - ridge * (a * a + b * b + constant * constant));
}
