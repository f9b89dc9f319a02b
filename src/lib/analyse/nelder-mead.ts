/**
 * Derivative-free minimisation (Nelder–Mead simplex, standard coefficients: reflect 1, expand 2,
 * contract ½, shrink ½). Deterministic: the same start and steps always give the same answer, which
 * keeps filter reports reproducible.
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

export function nelderMead(objective: (point: readonly number[]) => number, start: readonly number[], options: MinimiseOptions): Minimum {
  const n = start.length;
  let evaluations = 0;
  const evaluate = (point: number[]): { point: number[]; value: number } => {
    evaluations++;
    return { point, value: objective(point) };
  };
  const simplex = [evaluate([...start])];
  for (let i = 0; i < n; i++) {
    const vertex = [...start];
    vertex[i]! += options.step[i]!;
    simplex.push(evaluate(vertex));
  }
  // along(t): the point centroid + t·(centroid − worst); t = 1 reflects, 2 expands, ±½ contracts.
  const along = (centroid: number[], worst: number[], t: number): number[] => centroid.map((c, i) => c + t * (c - worst[i]!));

  while (evaluations < options.maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const converged =
      worst.value - best.value <= options.valueTolerance &&
      simplex.every((vertex) => vertex.point.every((x, i) => Math.abs(x - best.point[i]!) <= options.pointTolerance));
    if (converged) break;

    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i]! += simplex[k]!.point[i]! / n;

    const reflected = evaluate(along(centroid, worst.point, 1));
    if (reflected.value < best.value) {
      const expanded = evaluate(along(centroid, worst.point, 2));
      simplex[n] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < simplex[n - 1]!.value) {
      simplex[n] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = evaluate(along(centroid, worst.point, outside ? 0.5 : -0.5));
      if (contracted.value < (outside ? reflected.value : worst.value)) simplex[n] = contracted;
      else for (let k = 1; k <= n; k++) simplex[k] = evaluate(simplex[k]!.point.map((x, i) => best.point[i]! + 0.5 * (x - best.point[i]!)));
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return { point: simplex[0]!.point, value: simplex[0]!.value };
}
