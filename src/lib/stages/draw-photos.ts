import { convolveAll } from '../convolve/convolve-all.ts';
import { loadPhoto, type Photo } from '../convolve/photo.ts';
import { channelPlane, cropToResponse, halveImage, halvePlanes, preprocess, responseImage, type FeatureMap } from '../convolve/response.ts';
import type { FigureEncoder } from '../figure-encoder.ts';
import type { PhotoFigure } from '../figures.ts';
import type { Kernel } from '../kernel.ts';
import type { RgbImage } from '../render/image.ts';
import { pad } from './draw-layer.ts';

/**
 * A photo convolved with every filter, reduced at once to what the figures draw: each filter's
 * half-size plane, and full-size planes for the filters drawn large. The full map (130 MB for
 * ResNet50 on an 800-pixel photo) is dropped on return; the drawings queued for later keep only
 * these.
 */
async function responseMaps(pixels: RgbImage, kernel: Kernel, large: ReadonlySet<number>): Promise<{ half: FeatureMap[]; full: Map<number, FeatureMap>; backend: string }> {
  const { map, backend } = await convolveAll(preprocess(pixels, kernel), kernel);
  return { half: halvePlanes(map), full: new Map([...large].map((f) => [f, channelPlane(map, f)])), backend };
}

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
    const maps = await responseMaps(pixels, kernel, largeResponses);
    backend = maps.backend;
    const responses = Promise.all(
      responseFilters.map((f) => {
        const full = maps.full.get(f);
        return encoder.tone(`response-${photo.id}-${pad(f)}`, () => responseImage(maps.half[f]!), full && (() => responseImage(full)));
      }),
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
