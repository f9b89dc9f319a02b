import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnFactors, directSums, fitGabor, steppedSums, SUMS } from '../../src/lib/analyse/gabor-fit.ts';
import { orientationDistance } from '../../src/lib/analyse/index.ts';

/**
 * The Gabor fit's objective sums the model's columns over the pixels several hundred times per
 * filter. It steps from pixel to pixel by complex multiplications (steppedSums) rather than taking
 * an exponential and two sines per pixel (directSums, the definition); these tests hold the one to
 * the other, and check that the fit falls back on the definition where stepping would underflow.
 */

const MIN_SIGMA = 0.5;

/** Uniform in [min, max]: fc.double favours extremes and tiny magnitudes, which would leave most of the box untried. */
const uniform = (min: number, max: number) => fc.integer({ min: 0, max: 1 << 30 }).map((i) => min + ((max - min) * i) / (1 << 30));

/** A plane of any size the fit meets, weights in [−1, 1], and parameters anywhere in the fit's box. */
const planeAndParams = fc
  .record({ width: fc.constantFrom(5, 7, 9, 11, 15, 31), height: fc.constantFrom(5, 7, 11, 31) })
  .chain(({ width, height }) =>
    fc.record({
      width: fc.constant(width),
      height: fc.constant(height),
      plane: fc.array(uniform(-1, 1), { minLength: width * height, maxLength: width * height }).map((v) => Float64Array.from(v)),
      x0: uniform(-0.5, width - 0.5),
      y0: uniform(-0.5, height - 0.5),
      frequency: uniform(0, 0.5),
      direction: uniform(0, 2 * Math.PI),
      logAcross: uniform(Math.log(MIN_SIGMA), Math.log(Math.max(width, height))),
      logAlong: uniform(Math.log(MIN_SIGMA), Math.log(Math.max(width, height))),
    }),
  );

describe('the Gabor objective', () => {
  it('steps to the same sums as the definition, pixel by pixel, wherever it steps', () => {
    let stepped = 0;
    fc.assert(
      fc.property(planeAndParams, ({ width, height, plane, x0, y0, frequency, direction, logAcross, logAlong }) => {
        const params = [x0, y0, frequency * Math.cos(direction), frequency * Math.sin(direction), logAcross, logAlong];
        const fast = new Float64Array(SUMS);
        if (!steppedSums(plane, width, height, params, columnFactors(width), fast)) return;
        stepped++;
        const columns = { cos: new Float64Array(plane.length), sin: new Float64Array(plane.length) };
        const exact = directSums(plane, width, height, params, columns, new Float64Array(SUMS));
        // Each sum has at most width·height terms of magnitude ≤ 1: rounding, not a different model.
        fast.forEach((sum, i) => expect(Math.abs(sum - exact[i]!), `sum ${i}`).toBeLessThan(1e-11 * plane.length));
      }),
      { numRuns: 300, seed: 15 },
    );
    // Most of the box steps; the rest (narrow envelopes far from large planes' corners) is the next test's.
    expect(stepped).toBeGreaterThan(200);
  });

  it('declines to step where the envelope would underflow, and the fit then sums pixel by pixel', () => {
    // A half-pixel envelope at a corner of a 31×31 plane: e^−(2·30²) at the far corner.
    const [width, height] = [31, 31];
    const params = [0, 0, 0.2, 0.1, Math.log(MIN_SIGMA), Math.log(MIN_SIGMA)];
    const plane = new Float64Array(width * height).fill(1);
    expect(steppedSums(plane, width, height, params, columnFactors(width), new Float64Array(SUMS))).toBe(false);

    // A narrow Gabor near a corner of a 31×31 plane: the fit's best envelopes are all of that kind.
    const [sigma, frequency, theta] = [0.7, 0.3, 60];
    const t = (theta * Math.PI) / 180;
    const gabor = new Float64Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const [dx, dy] = [x - 3, y - 4];
        gabor[y * width + x] = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) * Math.cos(2 * Math.PI * frequency * (dx * Math.sin(t) + dy * Math.cos(t)));
      }
    const fit = fitGabor(gabor, width, height, [frequency * Math.sin(t), frequency * Math.cos(t)])!.fit;
    expect(fit.r2).toBeGreaterThan(0.99);
    expect(orientationDistance(fit.orientationDeg, theta)).toBeLessThan(3);
    expect(fit.centre[0]).toBeCloseTo(3, 1);
    expect(fit.centre[1]).toBeCloseTo(4, 1);
  });
});
