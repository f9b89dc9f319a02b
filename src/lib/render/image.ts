/** A packed 8-bit RGB image: the only pixel type the renderers produce. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function blankImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/** Nearest-neighbour enlargement by an integer factor, so that every weight stays a crisp square. */
export function enlarge(image: RgbImage, scale: number): RgbImage {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
  if (scale === 1) return image;
  const out = blankImage(image.width * scale, image.height * scale);
  const rowBytes = out.width * 3;
  for (let y = 0; y < image.height; y++) {
    const row = out.data.subarray(y * scale * rowBytes, (y * scale + 1) * rowBytes);
    for (let x = 0; x < image.width; x++) {
      const from = (y * image.width + x) * 3;
      for (let k = 0; k < scale; k++) row.set(image.data.subarray(from, from + 3), (x * scale + k) * 3);
    }
    for (let k = 1; k < scale; k++) out.data.copyWithin((y * scale + k) * rowBytes, y * scale * rowBytes, (y * scale + 1) * rowBytes);
  }
  return out;
}
