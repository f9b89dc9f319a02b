/**
 * Drawing responses: the grey mapping centred on zero with its clip level, and the half-size
 * renditions the explorer shows, checked against plain per-pixel definitions on generated maps.
 */
import { describe, expect, it } from 'vitest';
import { channelPlane, clipLevel, halveImage, halvePlanes, responseImage, RESPONSE_CLIP_QUANTILE, type FeatureMap } from '../../src/lib/convolve/response.ts';
import { mulberry32 } from '../helpers/tfjs-fixture.ts';

function randomMap(width: number, height: number, channels: number, seed: number): FeatureMap {
  const next = mulberry32(seed);
  return { width, height, channels, data: Float32Array.from({ length: width * height * channels }, () => (next() * 2 - 1) * 3) };
}

describe('halvePlanes', () => {
  it('averages every 2×2 block of every channel into a plane per channel, dropping a last odd row and column', () => {
    const map = randomMap(7, 5, 2, 1);
    const planes = halvePlanes(map);
    expect(planes.map((plane) => [plane.width, plane.height, plane.channels])).toEqual([
      [3, 2, 1],
      [3, 2, 1],
    ]);
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 3; x++)
        for (let c = 0; c < 2; c++) {
          const at = (yy: number, xx: number) => map.data[(yy * 7 + xx) * 2 + c]!;
          const mean = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
          expect(planes[c]!.data[y * 3 + x]).toBeCloseTo(mean, 5);
        }
  });
});

describe('channelPlane', () => {
  it('copies one channel of an HWC map', () => {
    const map = randomMap(4, 3, 5, 2);
    const plane = channelPlane(map, 3);
    expect([plane.width, plane.height, plane.channels]).toEqual([4, 3, 1]);
    expect([...plane.data]).toEqual(Array.from({ length: 12 }, (_, p) => map.data[p * 5 + 3]));
  });
});

describe('halveImage', () => {
  it('averages 2×2 blocks of RGB pixels, rounded to the nearest level', () => {
    const data = Uint8Array.from([0, 10, 255, 1, 11, 255, 9, 9, 9, /* row 2 */ 0, 12, 254, 2, 13, 254, 9, 9, 9]);
    const half = halveImage({ width: 3, height: 2, data });
    expect([half.width, half.height]).toEqual([1, 1]);
    // (0+1+0+2)/4 = 0.75 → 1; (10+11+12+13)/4 = 11.5 → 12; (255+255+254+254)/4 = 254.5 → 255
    expect([...half.data]).toEqual([1, 12, 255]);
  });
});

describe('responseImage', () => {
  it('maps 0 to mid-grey and ± the clip level to white and black, the same channel by stride or alone', () => {
    const map = randomMap(40, 30, 3, 2);
    const clip = clipLevel(map, 1);
    const magnitudes = Array.from({ length: 40 * 30 }, (_, p) => Math.abs(map.data[p * 3 + 1]!)).sort((a, b) => a - b);
    // A histogram of 4096 bins of the largest magnitude: within one bin of the exact quantile.
    expect(Math.abs(clip - magnitudes[Math.ceil(RESPONSE_CLIP_QUANTILE * magnitudes.length) - 1]!)).toBeLessThanOrEqual(magnitudes.at(-1)! / 4096 + 1e-6);
    const image = responseImage(map, 1);
    for (let p = 0; p < 40 * 30; p++) {
      const v = map.data[p * 3 + 1]!;
      const expected = Math.min(255, Math.max(0, Math.floor(128 + (v * 127.5) / clip)));
      expect(Math.abs(image.data[p * 3]! - expected), `pixel ${p}`).toBeLessThanOrEqual(1);
      expect(image.data[p * 3 + 1]).toBe(image.data[p * 3]);
    }
    const alone: FeatureMap = { width: 40, height: 30, channels: 1, data: Float32Array.from({ length: 1200 }, (_, p) => map.data[p * 3 + 1]!) };
    expect(Buffer.from(responseImage(alone).data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('draws an all-zero response as flat mid-grey', () => {
    const image = responseImage({ width: 4, height: 4, channels: 1, data: new Float32Array(16) });
    expect(new Set(image.data)).toEqual(new Set([128]));
  });
});
