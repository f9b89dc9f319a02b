import { energyCentroid, spread } from './filter-planes.ts';
import { nelderMead } from './nelder-mead.ts';
import { spectralOrientation, stripeOrientation } from './orientation.ts';

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

interface Candidate {
  /** [x0, y0, kx, ky, ln σ across, ln σ along] */
  params: readonly number[];
  residual: number;
  coefficients: [cos: number, sin: number, constant: number];
}

/** Fits a Gabor to one plane; null when the plane is constant (there is no variance to explain). */
export function fitGabor(plane: Float64Array, width: number, height: number): { fit: GaborFit; model: Float64Array } | null {
  const total = spread(plane);
  let squares = 0;
  for (const v of plane) squares += v * v;
  // Constant up to rounding: nothing for a Gabor to explain.
  if (!(total > 1e-12 * squares)) return null;

  const maxSigma = Math.max(width, height);
  const scratch = { cos: new Float64Array(plane.length), sin: new Float64Array(plane.length) };
  const evaluate = (params: readonly number[]): Candidate => {
    const [x0, y0, kx, ky, logAcross, logAlong] = params as [number, number, number, number, number, number];
    const violation =
      Math.max(0, -0.5 - x0, x0 - (width - 0.5)) +
      Math.max(0, -0.5 - y0, y0 - (height - 0.5)) +
      Math.max(0, Math.hypot(kx, ky) - 0.5) +
      Math.max(0, Math.log(MIN_SIGMA) - logAcross, logAcross - Math.log(maxSigma)) +
      Math.max(0, Math.log(MIN_SIGMA) - logAlong, logAlong - Math.log(maxSigma));
    // Anything outside the box scores worse than the constant-only model, which any inside point can match.
    if (violation > 0) return { params, residual: total * (1 + violation), coefficients: [0, 0, 0] };
    return solveLinear(plane, width, height, params, scratch);
  };

  const peak = spectralOrientation([plane], width, height);
  const [kx0, ky0] = peak.waveVector;
  const centroid = energyCentroid(plane, width, height);
  const starts: number[][] = [];
  for (const scale of [0.7, 1, 1.4])
    for (const sigma of [maxSigma / 8, maxSigma / 5, maxSigma / 3])
      for (const [x0, y0] of [[(width - 1) / 2, (height - 1) / 2], centroid] as const) {
        // Scaled up, a peak near Nyquist would leave the allowed box; keep it at 0.5 cycles/pixel at most.
        const k = Math.min(scale, 0.5 / Math.max(Math.hypot(kx0, ky0), 1e-12));
        const logSigma = Math.log(Math.max(MIN_SIGMA, sigma));
        starts.push([x0, y0, kx0 * k, ky0 * k, logSigma, logSigma]);
      }
  let best = starts.map(evaluate).reduce((a, b) => (b.residual < a.residual ? b : a));
  const options = { step: [0.5, 0.5, 0.03, 0.03, 0.3, 0.3], maxEvaluations: 600, valueTolerance: 1e-5 * total, pointTolerance: 3e-3 };
  // A second run from the first's answer re-inflates the simplex, which may have collapsed early.
  for (let run = 0; run < 2; run++) {
    const minimum = nelderMead((params) => evaluate(params).residual, best.params, options);
    if (minimum.value <= best.residual) best = evaluate(minimum.point);
  }
  return describe(best, plane, width, height, total);
}

function describe(best: Candidate, plane: Float64Array, width: number, height: number, total: number): { fit: GaborFit; model: Float64Array } {
  const [x0, y0, kx, ky, logAcross, logAlong] = best.params as [number, number, number, number, number, number];
  const model = gaborPlane(width, height, best.params, best.coefficients);
  let residual = 0;
  for (let p = 0; p < plane.length; p++) residual += (plane[p]! - model[p]!) ** 2;
  const orientationDeg = stripeOrientation(kx, ky);
  // The wave vectors k and −k describe the same Gabor with opposite phase; report the one along (sin θ, cos θ).
  const theta = (orientationDeg * Math.PI) / 180;
  const flip = kx * Math.sin(theta) + ky * Math.cos(theta) < 0 ? -1 : 1;
  const [a, b] = best.coefficients;
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

/** The model's value at each pixel for fixed parameters and coefficients. */
function gaborPlane(width: number, height: number, params: readonly number[], [a, b, c]: readonly number[]): Float64Array {
  const { cos, sin } = gaborColumns(width, height, params, { cos: new Float64Array(width * height), sin: new Float64Array(width * height) });
  return cos.map((v, p) => a! * v + b! * sin[p]! + c!);
}

interface Columns {
  cos: Float64Array;
  sin: Float64Array;
}

/** Fills `into` with the envelope times the cosine and the sine of the wave at each pixel. */
function gaborColumns(width: number, height: number, params: readonly number[], into: Columns): Columns {
  const [x0, y0, kx, ky, logAcross, logAlong] = params as [number, number, number, number, number, number];
  const f = Math.hypot(kx, ky);
  // At f = 0 the stripes have no direction; any envelope axes will do.
  const [ux, uy] = f > 1e-12 ? [kx / f, ky / f] : [0, 1];
  const across = 1 / (2 * Math.exp(2 * logAcross));
  const along = 1 / (2 * Math.exp(2 * logAlong));
  // The wave's phase grows by the same angle at every step along x, so cos and sin advance by a rotation.
  const stepCos = Math.cos(2 * Math.PI * kx);
  const stepSin = Math.sin(2 * Math.PI * kx);
  for (let y = 0; y < height; y++) {
    const dy = y - y0;
    let c = Math.cos(2 * Math.PI * (ky * dy - kx * x0));
    let s = Math.sin(2 * Math.PI * (ky * dy - kx * x0));
    for (let x = 0; x < width; x++) {
      const dx = x - x0;
      const u = dx * ux + dy * uy;
      const v = dy * ux - dx * uy;
      const envelope = Math.exp(-u * u * across - v * v * along);
      into.cos[y * width + x] = envelope * c;
      into.sin[y * width + x] = envelope * s;
      const next = c * stepCos - s * stepSin;
      s = s * stepCos + c * stepSin;
      c = next;
    }
  }
  return into;
}

/**
 * Best amplitudes of the cosine and sine parts and the constant for fixed non-linear parameters,
 * and the residual they leave. `scratch` is reused across the many calls of one fit.
 */
function solveLinear(plane: Float64Array, width: number, height: number, params: readonly number[], scratch: Columns): Candidate {
  const { cos, sin } = gaborColumns(width, height, params, scratch);
  const n = plane.length;
  let cc = 0;
  let cs = 0;
  let c1 = 0;
  let ss = 0;
  let s1 = 0;
  let cp = 0;
  let sp = 0;
  let p1 = 0;
  for (let p = 0; p < n; p++) {
    const c = cos[p]!;
    const s = sin[p]!;
    const v = plane[p]!;
    cc += c * c;
    cs += c * s;
    c1 += c;
    ss += s * s;
    s1 += s;
    cp += c * v;
    sp += s * v;
    p1 += v;
  }
  // Normal equations [cc cs c1; cs ss s1; c1 s1 n]·x = [cp sp p1], solved by Cholesky; a whisker of
  // ridge keeps them positive definite when the envelope makes the columns nearly parallel.
  const ridge = 1e-10 * (cc + ss + n);
  const l11 = Math.sqrt(cc + ridge);
  const l21 = cs / l11;
  const l31 = c1 / l11;
  const l22 = Math.sqrt(Math.max(ss + ridge - l21 * l21, ridge));
  const l32 = (s1 - l31 * l21) / l22;
  const l33 = Math.sqrt(Math.max(n + ridge - l31 * l31 - l32 * l32, ridge));
  const z1 = cp / l11;
  const z2 = (sp - l21 * z1) / l22;
  const z3 = (p1 - l31 * z1 - l32 * z2) / l33;
  const constant = z3 / l33;
  const b = (z2 - l32 * constant) / l22;
  const a = (z1 - l21 * b - l31 * constant) / l11;
  // Summed directly rather than from the normal equations, which lose precision when nearly singular.
  let residual = 0;
  for (let p = 0; p < n; p++) residual += (plane[p]! - a * cos[p]! - b * sin[p]! - constant) ** 2;
  return { params, residual, coefficients: [a, b, constant] };
}
