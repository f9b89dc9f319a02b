import { convolveAll } from '../convolve/convolve-all.ts';
import { loadPhoto, type Photo } from '../convolve/photo.ts';
import { cropToResponse, halveImage, halveMap, preprocess, responseImage, splitChannels } from '../convolve/response.ts';
import type { FigureEncoder } from '../figure-encoder.ts';
import type { PhotoFigure } from '../figures.ts';
import type { Kernel } from '../kernel.ts';
import { pad } from './draw-layer.ts';

/**
 * The convolve stage: each photo convolved with every filter, the chosen filters' responses drawn.
 * A photo's responses are drawn and encoded while the next photo is convolved.
 */
export async function drawPhotos(
  kernel: Kernel,
  photos: readonly Photo[],
  { photoWidth, responseFilters, largeResponses }: { photoWidth: number; responseFilters: readonly number[]; largeResponses: ReadonlySet<number> },
  encoder: FigureEncoder,
): Promise<{ photos: PhotoFigure[]; backend: string }> {
  let backend = 'none';
  const figures: Promise<PhotoFigure>[] = [];
  for (const photo of photos) {
    const pixels = await loadPhoto(photo.file, photoWidth);
    const result = await convolveAll(preprocess(pixels, kernel), kernel);
    backend = result.backend;
    const planes = splitChannels(result.map);
    const responses = Promise.all(
      responseFilters.map((f) => encoder.tone(`response-${photo.id}-${pad(f)}`, () => responseImage(halveMap(planes[f]!)), largeResponses.has(f) ? () => responseImage(planes[f]!) : undefined)),
    );
    const cropped = cropToResponse(pixels, kernel);
    const image = encoder.tone(`photo-${photo.id}`, () => halveImage(cropped), () => cropped);
    const figure = Promise.all([image, responses]).then(([image, refs]) => ({
      id: photo.id,
      title: photo.title,
      credit: photo.credit,
      license: photo.license,
      image,
      responses: Object.fromEntries(responseFilters.map((f, i) => [f, refs[i]!])),
    }));
    // Awaited below with the rest; until then its failure must not count as unhandled.
    figure.catch(() => undefined);
    figures.push(figure);
  }
  return { photos: await Promise.all(figures), backend };
}
