/**
 * The evidence behind "filter f detects "\" edges": the filter applied to synthetic straight edges.
 * An edge is the model's mean colour plus or minus EDGE_AMPLITUDE on every channel, the two halves
 * meeting along a line through the image's centre at a given angle, anti-aliased; it goes into the
 * convolution exactly as a photo does after preprocessing (channel order, mean subtracted), stride 1,
 * no padding. The angle follows the diagnostics' stripe convention: 0° horizontal, 45° "/", 90°
 * vertical, 135° "\" (counter-clockwise on screen).
 *
 * Pure numbers and pixels, no I/O: the pipeline computes it for the filters of `largeResponses` and
 * publishes the two edges and their responses as figures (<Conv1EdgeTest>).
 */
import { convolveFilter, type FeatureMap, type KernelLike } from '../convolve/response.ts';
import type { RgbImage } from '../render/image.ts';

/** Half the contrast of the synthetic edges, in 0–255 grey levels: mean − 64 against mean + 64. */
export const EDGE_AMPLITUDE = 64;
/** Angles of the sweep, every 15° of the 180° an edge can take. */
export const EDGE_ANGLES = Array.from({ length: 12 }, (_, i) => i * 15);
/** The two edges shown: "\" and "/". */
export const SHOWN_ANGLES = [135, 45] as const;

export interface EdgeResult {
  deg: number;
  /** Largest |response| anywhere on the response map. */
  peak: number;
  /** The edge as the reader sees it (RGB) and the response on the shared grey scale (mid-grey = 0). */
  pattern: RgbImage;
  response: RgbImage;
}

export interface EdgeTestResult {
  filter: number;
  amplitude: number;
  /** Largest |response| to an edge at each angle of EDGE_ANGLES. */
  sweep: { deg: number; peak: number }[];
  /** The "\" and "/" edges, their responses drawn on one scale: white and black are ± the larger peak. */
  shown: EdgeResult[];
}

/** Share of each pixel on the light side of the line, from 4×4 samples: -1 (dark) to +1 (light). */
function edgeSides(deg: number, size: number): Float32Array {
  const t = (deg * Math.PI) / 180;
  // The line runs along (cos t, -sin t) in pixel coordinates (y down); its normal is (sin t, cos t).
  const nx = Math.sin(t);
  const ny = Math.cos(t);
  const centre = (size - 1) / 2;
  const sides = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let a = 0; a < 4; a++)
        for (let b = 0; b < 4; b++) {
          const px = x - centre + (a + 0.5) / 4 - 0.5;
          const py = y - centre + (b + 0.5) / 4 - 0.5;
          // Light on the side the normal points away from: above the line for a horizontal edge.
          sum += px * nx + py * ny < 0 ? 1 : -1;
        }
      sides[y * size + x] = sum / 16;
    }
  return sides;
}

function edgeResponse(kernel: KernelLike, f: number, deg: number, size: number): { sides: Float32Array; map: FeatureMap; peak: number } {
  const cin = kernel.shape[2];
  const sides = edgeSides(deg, size);
  const data = new Float32Array(size * size * cin);
  // After preprocessing, mean ± amplitude is ± amplitude on every channel, whatever the channel order.
  for (let p = 0; p < sides.length; p++) for (let c = 0; c < cin; c++) data[p * cin + c] = sides[p]! * EDGE_AMPLITUDE;
  const map = convolveFilter({ width: size, height: size, channels: cin, data }, kernel, f);
  let peak = 0;
  for (const value of map.data) peak = Math.max(peak, Math.abs(value));
  return { sides, map, peak };
}

/** The edge test of filter `f`: the sweep over angles, and the "\" and "/" edges drawn at `size` pixels. */
export function edgeTest(kernel: KernelLike, f: number, size = 48): EdgeTestResult {
  // Small images suffice for the sweep: the response along an edge is the same everywhere.
  const sweepSize = kernel.shape[0] * 3;
  const sweep = EDGE_ANGLES.map((deg) => ({ deg, peak: edgeResponse(kernel, f, deg, sweepSize).peak }));
  const computed = SHOWN_ANGLES.map((deg) => ({ deg, ...edgeResponse(kernel, f, deg, size) }));
  // Light on the side that makes the "\" edge's strongest response positive, so that it lights up;
  // the other edge gets the same light side. A linear filter's response to the swapped edge is the negative.
  let strongest = 0;
  for (const value of computed[0]!.map.data) if (Math.abs(value) > Math.abs(strongest)) strongest = value;
  if (strongest < 0)
    for (const c of computed) {
      c.sides.forEach((side, p) => (c.sides[p] = -side));
      c.map.data.forEach((value, p) => (c.map.data[p] = -value));
    }
  const scale = Math.max(...computed.map((c) => c.peak));
  // The mean colour in RGB, for showing the edge as the reader would see it.
  const mean = kernel.shape[2] === 1 ? [0, 1, 2].map(() => (kernel.inputMean[0] + kernel.inputMean[1] + kernel.inputMean[2]) / 3) : kernel.channelOrder === 'bgr' ? [...kernel.inputMean].reverse() : [...kernel.inputMean];
  const shown = computed.map(({ deg, sides, map, peak }) => {
    const pattern = new Uint8Array(size * size * 3);
    for (let p = 0; p < sides.length; p++) for (let c = 0; c < 3; c++) pattern[p * 3 + c] = Math.round(Math.min(255, Math.max(0, mean[c]! + sides[p]! * EDGE_AMPLITUDE)));
    const response = new Uint8Array(map.width * map.height * 3);
    for (let p = 0; p < map.width * map.height; p++) response.fill(Math.round(127.5 + (scale > 0 ? (map.data[p]! / scale) * 127.5 : 0)), p * 3, p * 3 + 3);
    return { deg, peak, pattern: { width: size, height: size, data: pattern }, response: { width: map.width, height: map.height, data: response } };
  });
  return { filter: f, amplitude: EDGE_AMPLITUDE, sweep, shown };
}
