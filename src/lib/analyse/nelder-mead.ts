/**
 * Derivative-free minimisation (Nelder–Mead simplex, standard coefficients: reflect 1, expand 2,
 * contract ½, shrink ½). Deterministic: the same start and steps always give the same answer, which
 * keeps filter reports reproducible.
 *
 * A Gabor fit calls this hundreds of times per layer with a cheap objective, so the vertices are
 * Float64Arrays allocated once per call and ranked through an index array: nothing is allocated per step.
 */
export interface MinimiseOptions {
  /** Initial simplex: vertex i is the start moved by step[i] along axis i. */
  step: readonly number[];
  maxEvaluations: number;
  /** Stop when the simplex's values differ by less than this (absolute). */
  valueTolerance: number;
  /** …and its vertices lie within this of the best one along every axis. */
  pointTolerance: number;
}

export interface Minimum {
  point: number[];
  value: number;
}

/** `objective` may read its argument only during the call: the array is reused. */
export type Objective = (point: Float64Array) => number;

/** Stable insertion sort of vertex slots by value: a stable sort of a simplex has one answer, whichever algorithm sorts it. */
function rank(order: Int32Array, values: Float64Array): void {
  for (let i = 1; i < order.length; i++) {
    const slot = order[i]!;
    let j = i - 1;
    while (j >= 0 && values[order[j]!]! > values[slot]!) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = slot;
  }
}

export function nelderMead(objective: Objective, start: ArrayLike<number>, options: MinimiseOptions): Minimum {
  const n = start.length;
  // n + 1 vertex slots, then four scratch points: centroid, reflected, expanded, contracted.
  const points = Array.from({ length: n + 5 }, () => new Float64Array(n));
  const values = new Float64Array(n + 1);
  const order = Int32Array.from({ length: n + 1 }, (_, k) => k);
  const point = (slot: number) => points[slot]!;
  const centroid = point(n + 1);
  const trial = [point(n + 2), point(n + 3), point(n + 4)] as const;
  let evaluations = 0;
  const evaluate = (p: Float64Array): number => {
    evaluations++;
    return objective(p);
  };

  for (let k = 0; k <= n; k++) {
    const vertex = point(k);
    for (let i = 0; i < n; i++) vertex[i] = start[i]!;
    if (k > 0) vertex[k - 1]! += options.step[k - 1]!;
    values[k] = evaluate(vertex);
  }
  // trial[which] = centroid + t·(centroid − worst); t = 1 reflects, 2 expands, ±½ contracts.
  const along = (worst: Float64Array, t: number, into: Float64Array): Float64Array => {
    for (let i = 0; i < n; i++) into[i] = centroid[i]! + t * (centroid[i]! - worst[i]!);
    return into;
  };
  // The worst vertex's slot takes the accepted trial point.
  const accept = (from: Float64Array, value: number): void => {
    const worst = point(order[n]!);
    for (let i = 0; i < n; i++) worst[i] = from[i]!;
    values[order[n]!] = value;
  };

  while (evaluations < options.maxEvaluations) {
    rank(order, values);
    const best = point(order[0]!);
    const bestValue = values[order[0]!]!;
    const worst = point(order[n]!);
    const worstValue = values[order[n]!]!;
    if (worstValue - bestValue <= options.valueTolerance && converged(points, order, options.pointTolerance)) break;

    centroid.fill(0);
    for (let k = 0; k < n; k++) {
      const vertex = point(order[k]!);
      for (let i = 0; i < n; i++) centroid[i]! += vertex[i]! / n;
    }

    const reflected = along(worst, 1, trial[0]);
    const reflectedValue = evaluate(reflected);
    if (reflectedValue < bestValue) {
      const expanded = along(worst, 2, trial[1]);
      const expandedValue = evaluate(expanded);
      if (expandedValue < reflectedValue) accept(expanded, expandedValue);
      else accept(reflected, reflectedValue);
    } else if (reflectedValue < values[order[n - 1]!]!) {
      accept(reflected, reflectedValue);
    } else {
      const outside = reflectedValue < worstValue;
      const contracted = along(worst, outside ? 0.5 : -0.5, trial[2]);
      const contractedValue = evaluate(contracted);
      if (contractedValue < (outside ? reflectedValue : worstValue)) accept(contracted, contractedValue);
      else
        for (let k = 1; k <= n; k++) {
          const vertex = point(order[k]!);
          for (let i = 0; i < n; i++) vertex[i] = best[i]! + 0.5 * (vertex[i]! - best[i]!);
          values[order[k]!] = evaluate(vertex);
        }
    }
  }
  rank(order, values);
  return { point: Array.from(point(order[0]!)), value: values[order[0]!]! };
}

/** Every vertex within `tolerance` of the best one along every axis. */
function converged(points: readonly Float64Array[], order: Int32Array, tolerance: number): boolean {
  const best = points[order[0]!]!;
  for (const slot of order) {
    const vertex = points[slot]!;
    for (let i = 0; i < best.length; i++) if (!(Math.abs(vertex[i]! - best[i]!) <= tolerance)) return false;
  }
  return true;
}
