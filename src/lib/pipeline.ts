import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { analyseLayer } from './analyse/index.ts';
import { convolveAll } from './convolve/convolve-all.ts';
import { loadPhoto, resolvePhoto, type PhotoSpec } from './convolve/photo.ts';
import { cropToResponse, preprocess, responseImage } from './convolve/response.ts';
import type { Conv1Data, Conv1Result, FigureRef, FilterFigure, GridFigure, PhotoFigure } from './figures.ts';
import { channelsForDisplay, type Kernel } from './kernel.ts';
import { channelsImage } from './render/diverging.ts';
import { readModel, type ReadKernelOptions } from './read-kernel.ts';
import { gridLayout, renderGrid, type GridOrder } from './render/grid.ts';
import { enlarge, encodePng, type RgbImage } from './render/image.ts';
import { displayRange, filterImage, filterRange, NORMALIZATIONS } from './render/normalize.ts';

/** Bump when a change to the code changes any figure, so cached figures are not reused. */
export const FIGURES_VERSION = 3;

export interface PipelineOptions extends ReadKernelOptions {
  model: string | URL;
  /** Enlargement of the grid for display. */
  gridScale: number;
  /** Enlargement of single filters for display. */
  filterScale: number;
  photos: PhotoSpec[];
  /** Width photos are scaled to before convolving. */
  photoWidth: number;
  /** Filters whose responses are computed on every photo; 'all' for every filter. */
  responses: 'all' | number[];
  /** Called at the start of each phase, with how long the previous one took. */
  onPhase?: (phase: string) => void;
  /**
   * Looks up figures computed earlier for the same key. The pipeline is pure, so a cache only needs
   * the key; this keeps storage out of the pipeline.
   */
  cache?: {
    get(key: string): Promise<Conv1Result | undefined>;
    put(result: Conv1Result): Promise<void>;
  };
}

const GRID_ORDERS: readonly GridOrder[] = ['column', 'row'];

/** Reads conv1, then renders every figure the site can show; reuses cached figures when inputs match. */
export async function runPipeline(options: PipelineOptions): Promise<Conv1Result & { cached: boolean }> {
  options.onPhase?.('read');
  const { kernel, convolutions } = await readModel(options.model, options);
  const root = options.root ?? new URL(`file://${process.cwd()}/`);
  const photos = await Promise.all(options.photos.map((spec) => resolvePhoto(spec, root)));
  const photoBytes = await Promise.all(photos.map((photo) => readFile(photo.file).catch(() => new Uint8Array())));
  const filterCount = kernel.shape[3];
  const responseFilters = options.responses === 'all' ? [...Array(filterCount).keys()] : options.responses;
  for (const f of responseFilters)
    if (!Number.isInteger(f) || f < 0 || f >= filterCount) throw new RangeError(`responses: filter ${f} does not exist; the layer has filters 0–${filterCount - 1}`);

  const key = hashInputs(kernel, photoBytes, {
    version: FIGURES_VERSION,
    gridScale: options.gridScale,
    filterScale: options.filterScale,
    photoWidth: options.photoWidth,
    responseFilters,
    photos: photos.map(({ id, title, credit, license }) => ({ id, title, credit, license })),
    convolutions: convolutions.map((c) => [c.name, c.shape]),
  });
  const hit = await options.cache?.get(key);
  if (hit) return { ...hit, cached: true };

  const files = new Map<string, Uint8Array>();
  const addPng = async (file: string, image: RgbImage): Promise<FigureRef> => {
    files.set(file, await encodePng(image));
    return { file, width: image.width, height: image.height };
  };
  // Photos and response maps are continuous-tone: WebP, with a half-width rendition for phones.
  const addWebp = async (name: string, image: RgbImage): Promise<FigureRef> => {
    const { default: sharp } = await import('sharp');
    const raw = () => sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
    const file = `${name}.webp`;
    files.set(file, await raw().webp({ quality: 80, effort: 4 }).toBuffer());
    const small = Math.round(image.width / 2);
    const variant = `${name}-${small}w.webp`;
    const { data, info } = await raw().resize({ width: small }).webp({ quality: 80, effort: 4 }).toBuffer({ resolveWithObject: true });
    files.set(variant, data);
    return { file, width: image.width, height: image.height, variants: [{ file: variant, width: info.width, height: info.height }] };
  };

  options.onPhase?.('render');
  const grids: GridFigure[] = [];
  for (const order of GRID_ORDERS)
    for (const normalize of NORMALIZATIONS) {
      const image = renderGrid(kernel, { order, normalize });
      const layout = gridLayout(kernel, order);
      // In filter mode each tile has its own range; report the layer's extremes.
      const range = displayRange(kernel, 0, normalize === 'filter' ? 'global' : normalize);
      grids.push({
        order,
        normalize,
        raw: await addPng(`grid-${order}-${normalize}.png`, image),
        large: await addPng(`grid-${order}-${normalize}-x${options.gridScale}.png`, enlarge(image, options.gridScale)),
        scale: options.gridScale,
        range,
        rows: layout.rows,
        columns: layout.columns,
      });
    }
  options.onPhase?.('analyse');
  const { filters: filterReports, ...report } = analyseLayer(kernel);

  const filters: FilterFigure[] = [];
  const shownChannels = channelsForDisplay(kernel);
  for (let f = 0; f < filterCount; f++) {
    const images = {} as FilterFigure['images'];
    for (const normalize of NORMALIZATIONS)
      images[normalize] = await addPng(`filter-${pad(f)}-${normalize}.png`, enlarge(filterImage(kernel, f, normalize), options.filterScale));
    const channels = await addPng(`channels-${pad(f)}.png`, enlarge(channelsImage(kernel, f, shownChannels.map((c) => c.index)), options.filterScale));
    const diagnostics = filterReports[f]!;
    filters.push({ index: f, ...filterRange(kernel, f), l2: diagnostics.strength.l2, colourShare: diagnostics.colour.colourShare, images, channels, diagnostics });
  }

  files.set(KERNEL_FILE, kernelBytes(kernel));

  options.onPhase?.('convolve');
  let backend = 'none';
  const photoFigures: PhotoFigure[] = [];
  for (const photo of photos) {
    const pixels = await loadPhoto(photo.file, options.photoWidth);
    const input = preprocess(pixels, kernel);
    const result = await convolveAll(input, kernel);
    backend = result.backend;
    const responses: Record<number, FigureRef> = {};
    for (const f of responseFilters) responses[f] = await addWebp(`response-${photo.id}-${pad(f)}`, responseImage(result.map, f));
    photoFigures.push({
      id: photo.id,
      title: photo.title,
      credit: photo.credit,
      license: photo.license,
      image: await addWebp(`photo-${photo.id}`, cropToResponse(pixels, kernel)),
      responses,
    });
  }

  const data: Conv1Data = {
    model: {
      source: kernel.source,
      format: kernel.format,
      layer: kernel.layer,
      layerType: kernel.layerType,
      shape: kernel.shape,
      strides: kernel.strides,
      channelOrder: kernel.channelOrder,
      channelOrderSource: kernel.channelOrderSource,
      inputMean: kernel.inputMean,
      bytesRead: kernel.bytesRead,
      convolutions: convolutions.map((c) => ({ name: c.name, shape: c.shape })),
    },
    grids,
    filters,
    report,
    channelNames: shownChannels.map((c) => c.name),
    kernelFile: KERNEL_FILE,
    photoWidth: options.photoWidth,
    photos: photoFigures,
    backend,
    key,
  };
  const result = { data, files };
  await options.cache?.put(result);
  return { ...result, cached: false };
}

const KERNEL_FILE = 'kernel-hwio.f32';

/** The weights as little-endian float32, whatever the machine's byte order. */
function kernelBytes(kernel: Kernel): Uint8Array {
  const bytes = new Uint8Array(kernel.data.length * 4);
  const view = new DataView(bytes.buffer);
  kernel.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

function pad(f: number): string {
  return String(f).padStart(2, '0');
}

function hashInputs(kernel: Kernel, photoBytes: Uint8Array[], settings: unknown): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ settings, shape: kernel.shape, layer: kernel.layer, strides: kernel.strides, order: kernel.channelOrder, mean: kernel.inputMean }));
  hash.update(new Uint8Array(kernel.data.buffer, kernel.data.byteOffset, kernel.data.byteLength));
  for (const bytes of photoBytes) hash.update(createHash('sha256').update(bytes).digest());
  return hash.digest('hex').slice(0, 32);
}
