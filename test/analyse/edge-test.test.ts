/**
 * The edge test behind "filter 0 detects "\" edges": a filter that is a step across one diagonal
 * answers that diagonal's edge most and the other one least, whatever its sign or channel order.
 */
import { describe, expect, it } from 'vitest';
import { EDGE_ANGLES, edgeTest } from '../../src/lib/analyse/edge-test.ts';
import type { Kernel } from '../../src/lib/kernel.ts';
import { testKernel } from '../helpers/test-kernel.ts';

/** A 7×7×3 filter: +1 on one side of the "\" diagonal (y > x), −1 on the other, 0 on it. */
function backslashStep(sign: number, overrides: Partial<Kernel> = {}): Kernel {
  const data = new Float32Array(7 * 7 * 3);
  for (let y = 0; y < 7; y++) for (let x = 0; x < 7; x++) for (let c = 0; c < 3; c++) data[(y * 7 + x) * 3 + c] = sign * Math.sign(y - x);
  return testKernel(data, [7, 7, 3, 1], overrides);
}

describe('edgeTest', () => {
  it.each([1, -1])('finds a "\\" step filter (sign %d) most responsive at 135° and least at 45°', (sign) => {
    const result = edgeTest(backslashStep(sign, { channelOrder: 'bgr', inputMean: [103.939, 116.779, 123.68] }), 0);
    expect(result.sweep.map((point) => point.deg)).toEqual(EDGE_ANGLES);
    const best = result.sweep.reduce((a, b) => (b.peak > a.peak ? b : a));
    const worst = result.sweep.reduce((a, b) => (b.peak < a.peak ? b : a));
    expect([best.deg, worst.deg]).toEqual([135, 45]);
    // The "\" edge is drawn first and lights up (its strongest response is positive: brighter than mid-grey).
    const [back, slash] = result.shown;
    expect([back!.deg, slash!.deg]).toEqual([135, 45]);
    expect(Math.max(...back!.response.data)).toBe(255);
    expect(back!.peak).toBeGreaterThan(10 * slash!.peak);
    expect(back!.pattern).toMatchObject({ width: 48, height: 48 });
    expect(back!.response).toMatchObject({ width: 42, height: 42 });
  });
});
