/**
 * The parts of "apply a filter to a photo" that must give the same numbers at build time and in the
 * reader's browser: preprocessing, the convolution of one filter, and the mapping of a response to
 * grey levels. No Node or tfjs imports here, so the page's script can import this file as is.
 */
import type { RgbImage } from '../render/image.ts';

export interface KernelLike {
  data: Float32Array;
  shape: readonly [number, number, number, number];
  channelOrder: 'rgb' | 'bgr';
  inputMean: readonly [number, number, number];
}

/** A float feature map, HWC. */
export interface FeatureMap {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** 0–255 RGB → the model's channel order minus its mean, as the network's first layer sees it. */
export function preprocess(photo: RgbImage, kernel: KernelLike): FeatureMap {
  const cin = kernel.shape[2];
  const pixels = photo.width * photo.height;
  const data = new Float32Array(pixels * cin);
  const swap = kernel.channelOrder === 'bgr';
  for (let p = 0; p < pixels; p++) {
    const r = photo.data[p * 3]!;
    const g = photo.data[p * 3 + 1]!;
    const b = photo.data[p * 3 + 2]!;
    if (cin === 1) {
      data[p] = 0.299 * r + 0.587 * g + 0.114 * b - (kernel.inputMean[0] + kernel.inputMean[1] + kernel.inputMean[2]) / 3;
    } else {
      data[p * cin] = (swap ? b : r) - kernel.inputMean[0];
      data[p * cin + 1] = g - kernel.inputMean[1];
      data[p * cin + 2] = (swap ? r : b) - kernel.inputMean[2];
    }
  }
  return { width: photo.width, height: photo.height, channels: cin, data };
}

/** One filter over the whole input, stride 1, no padding (so no border artefacts), no bias. */
export function convolveFilter(input: FeatureMap, kernel: KernelLike, f: number): FeatureMap {
  const [kh, kw, cin, cout] = kernel.shape;
  const width = input.width - kw + 1;
  const height = input.height - kh + 1;
  const out = new Float32Array(Math.max(0, width * height));
  const weights = new Float32Array(kh * kw * cin);
  for (let i = 0; i < weights.length; i++) weights[i] = kernel.data[i * cout + f]!;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let ky = 0; ky < kh; ky++) {
        const row = ((y + ky) * input.width + x) * cin;
        const w = ky * kw * cin;
        for (let k = 0; k < kw * cin; k++) sum += input.data[row + k]! * weights[w + k]!;
      }
      out[y * width + x] = sum;
    }
  return { width, height, channels: 1, data: out };
}

/**
 * Values at or beyond this quantile of |response| map to black or white. A few extreme pixels
 * would otherwise wash out the edges the filter responds to.
 */
export const RESPONSE_CLIP_QUANTILE = 0.995;

/** Grey levels centred on zero: mid-grey is no response, white strong positive, black strong negative. */
export function responseImage(map: FeatureMap, channel = 0): RgbImage {
  const { width, height, channels, data: values } = map;
  const scale = clipLevel(map, channel);
  // One multiplication per pixel instead of a division; rounding by truncation of x + 0.5 (x ≥ 0).
  const toLevel = scale > 0 ? 127.5 / scale : 0;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, i = channel, o = 0; o < data.length; p++, i += channels, o += 3) {
    const x = 128 + values[i]! * toLevel;
    const level = x <= 0 ? 0 : x >= 255 ? 255 : x | 0;
    data[o] = data[o + 1] = data[o + 2] = level;
  }
  return { width, height, data };
}

const CLIP_BINS = 4096;

/** The RESPONSE_CLIP_QUANTILE of |v| over one channel, from a fine histogram (linear time). */
export function clipLevel(map: FeatureMap, channel = 0): number {
  const { channels, data } = map;
  const end = map.width * map.height * channels;
  let max = 0;
  for (let i = channel; i < end; i += channels) {
    const v = Math.abs(data[i]!);
    if (v > max) max = v;
  }
  if (max === 0) return 0;
  const bins = new Uint32Array(CLIP_BINS);
  const toBin = CLIP_BINS / max;
  for (let i = channel; i < end; i += channels) {
    const b = (Math.abs(data[i]!) * toBin) | 0;
    bins[b < CLIP_BINS ? b : CLIP_BINS - 1]!++;
  }
  const target = map.width * map.height * RESPONSE_CLIP_QUANTILE;
  let seen = 0;
  for (let b = 0; b < CLIP_BINS; b++) {
    seen += bins[b]!;
    if (seen >= target) return ((b + 1) / CLIP_BINS) * max;
  }
  return max;
}

/** One channel of a map, as a map of its own. */
export function channelPlane(map: FeatureMap, channel: number): FeatureMap {
  const { width, height, channels, data } = map;
  const plane = new Float32Array(width * height);
  for (let p = 0, i = channel; p < plane.length; p++, i += channels) plane[p] = data[i]!;
  return { width, height, channels: 1, data: plane };
}

/**
 * Every channel of a map at half size, each in a plane of its own: the mean of each 2×2 block (a
 * last odd row or column is dropped), so each pixel keeps the mean of the area it stands for, and
 * drawing it costs a quarter. One pass over an HWC map reads it in order and scatters into the
 * planes; halving first and splitting after, or channel by channel, reads the 130 MB map of a
 * photo several times over.
 */
export function halvePlanes(map: FeatureMap): FeatureMap[] {
  const { channels, data } = map;
  const width = map.width >> 1;
  const height = map.height >> 1;
  const planes = Array.from({ length: channels }, () => new Float32Array(width * height));
  const row = map.width * channels;
  for (let y = 0, p = 0; y < height; y++)
    for (let x = 0; x < width; x++, p++)
      for (let c = 0, i = 2 * y * row + 2 * x * channels; c < channels; c++, i++) planes[c]![p] = (data[i]! + data[i + channels]! + data[i + row]! + data[i + row + channels]!) / 4;
  return planes.map((plane) => ({ width, height, channels: 1, data: plane }));
}

/** An RGB image at half size, by the mean of each 2×2 block as halvePlanes, rounded to the nearest level. */
export function halveImage(image: RgbImage): RgbImage {
  const width = image.width >> 1;
  const height = image.height >> 1;
  const from = image.data;
  const out = new Uint8Array(width * height * 3);
  const row = image.width * 3;
  for (let y = 0, o = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0, i = 2 * y * row + 6 * x; c < 3; c++, i++, o++) out[o] = (from[i]! + from[i + 3]! + from[i + row]! + from[i + row + 3]! + 2) >> 2;
  return { width, height, data: out };
}

/** The photo cut to the area the response covers, so the two line up pixel for pixel. */
export function cropToResponse(photo: RgbImage, kernel: KernelLike): RgbImage {
  const [kh, kw] = kernel.shape;
  const top = Math.floor(kh / 2);
  const left = Math.floor(kw / 2);
  const width = photo.width - kw + 1;
  const height = photo.height - kh + 1;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    data.set(photo.data.subarray(((y + top) * photo.width + left) * 3, ((y + top) * photo.width + left + width) * 3), y * width * 3);
  return { width, height, data };
}
