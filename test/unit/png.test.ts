/**
 * The PNG writer of the figures of exact pixels: every file decodes, in sharp (libvips and libspng,
 * a decoder that shares no code with the writer), to exactly the pixels written, whichever row
 * filter each row took, and a figure enlarged by whole pixels stays small.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { blankImage, enlarge, type RgbImage } from '../../src/lib/render/image.ts';
import { encodePng } from '../../src/lib/render/png.ts';
import { mulberry32 } from '../helpers/tfjs-fixture.ts';

function randomImage(width: number, height: number, seed: number): RgbImage {
  const next = mulberry32(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(next() * 256)) };
}

async function decode(png: Uint8Array): Promise<{ width: number; height: number; channels: number; data: Buffer }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/**
 * Rows that repeat, rows of gradients, a row of small alternating levels, a row of noise and a row
 * one level above it: each of None, Sub and Up (on equal rows and on unequal ones) wins somewhere.
 */
function mixedImage(): RgbImage {
  const image = blankImage(40, 12);
  const noise = randomImage(40, 12, 3).data;
  for (let y = 0; y < 12; y++)
    for (let x = 0; x < 40; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * 40 + x) * 3 + c;
        image.data[i] = y < 3 ? 200 : y < 6 ? (x * 6 + c * 40) & 255 : y < 9 ? (y * 20 + x + c) & 255 : y === 9 ? (x % 2) * 12 : y === 11 ? (noise[i - 40 * 3]! + 1) & 255 : noise[i]!;
      }
  return image;
}

describe('encodePng', () => {
  it.each([
    ['noise', randomImage(17, 9, 1)],
    ['a filter enlarged 16×', enlarge(randomImage(7, 7, 2), 16)],
    ['a grid enlarged 8×', enlarge(randomImage(63, 63, 4), 8)],
    ['flat, gradient and noisy rows', mixedImage()],
    ['one pixel', randomImage(1, 1, 5)],
    ['one row', randomImage(31, 1, 6)],
    ['one column', randomImage(1, 23, 7)],
    ['black', blankImage(12, 5)],
  ])('%s: decodes to the very pixels it was given', async (_, image) => {
    const decoded = await decode(encodePng(image));
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([image.width, image.height, 3]);
    expect(decoded.data.equals(Buffer.from(image.data))).toBe(true);
  });

  it('writes an enlarged filter in a small fraction of its raw size', () => {
    const image = enlarge(randomImage(7, 7, 8), 16);
    // 147 bytes of weights; the 37,632 raw bytes repeat them.
    expect(encodePng(image).byteLength).toBeLessThan(800);
  });

  it('writes the same bytes for the same pixels', () => {
    const image = enlarge(randomImage(9, 9, 9), 4);
    expect(Buffer.from(encodePng(image)).equals(Buffer.from(encodePng({ ...image, data: image.data.slice() })))).toBe(true);
  });

  it('refuses pixels that do not fill the image', () => {
    expect(() => encodePng({ width: 4, height: 4, data: new Uint8Array(47) })).toThrow(/4×4 has 48 bytes, not 47/);
  });
});
