import { constants, crc32, deflateSync } from 'node:zlib';
import type { RgbImage } from './image.ts';

/**
 * A lossless PNG writer for the figures of exact pixels: flat tiles and filters enlarged by whole
 * pixels. Most of their rows repeat the row above and most of their pixels the pixel to the left,
 * so each row is filtered with the cheapest of None, Sub and Up (a repeated row costs a comparison)
 * and deflated with run-length matching, which finds exactly those repeats. A gallery build writes
 * thousands of such figures, mostly 112 pixels square; this is several times faster per figure
 * than a call through sharp, whose per-call cost dominates at that size. Measured on the gallery's
 * 41 layers and ResNet50's (5,000 figures): 1.4 s of CPU against sharp's 4.6 s at compression
 * level 9, for files 14% larger (2.49 MB against 2.18 MB); zlib's default matching at level 9
 * matches sharp's sizes but takes twice as long as run-length matching.
 */
export function encodePng({ width, height, data }: RgbImage): Uint8Array {
  if (data.length !== width * height * 3) throw new RangeError(`an RGB image of ${width}×${height} has ${width * height * 3} bytes, not ${data.length}`);
  const stride = width * 3;
  const filtered = new Uint8Array((stride + 1) * height);
  const sub = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const above = y > 0 ? data.subarray((y - 1) * stride, y * stride) : undefined;
    const at = y * (stride + 1);
    if (above && sameBytes(row, above)) {
      // Up: a row of zeros.
      filtered[at] = FILTER_UP;
      continue;
    }
    let subCost = 0;
    let noneCost = 0;
    for (let i = 0; i < stride; i++) {
      const value = row[i]!;
      const delta = (value - (i >= 3 ? row[i - 3]! : 0)) & 255;
      sub[i] = delta;
      subCost += delta < 128 ? delta : 256 - delta;
      noneCost += value < 128 ? value : 256 - value;
    }
    const upCost = above ? upFilterCost(row, above) : Infinity;
    if (above && upCost < subCost && upCost < noneCost) {
      filtered[at] = FILTER_UP;
      for (let i = 0; i < stride; i++) filtered[at + 1 + i] = (row[i]! - above[i]!) & 255;
    } else if (subCost < noneCost) {
      filtered[at] = FILTER_SUB;
      filtered.set(sub, at + 1);
    } else {
      filtered[at] = FILTER_NONE;
      filtered.set(row, at + 1);
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bits per sample
  header[9] = 2; // truecolour; compression, filter method and interlace stay 0
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(filtered, { level: 9, strategy: constants.Z_RLE })), chunk('IEND', new Uint8Array())]);
}

const FILTER_NONE = 0;
const FILTER_SUB = 1;
const FILTER_UP = 2;
const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function upFilterCost(row: Uint8Array, above: Uint8Array): number {
  let cost = 0;
  for (let i = 0; i < row.length; i++) {
    const delta = (row[i]! - above[i]!) & 255;
    cost += delta < 128 ? delta : 256 - delta;
  }
  return cost;
}

/** Length, type, body and the CRC of type and body. */
function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}
