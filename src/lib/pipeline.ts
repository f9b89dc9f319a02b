import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Conv1Error } from './errors.ts';
import { glorotUniformKernel, NOISE_SWEEP, withGaussianNoise } from './analyse/random-init.ts';
import { loadPhoto, resolvePhoto, type PhotoSpec } from './convolve/photo.ts';
import type { ComparisonFigure, Conv1Data, Conv1Result, EdgeTestFigure, FigureRef, FilterFigure, GridFigure, NoiseSweepPoint, PhotoFigure } from './figures.ts';
import { channelsForDisplay, type ChannelOrder, type Kernel } from './kernel.ts';
import type { FigureStore } from './cache.ts';
import { readModel, type ReadKernelOptions } from './read-kernel.ts';
import { resolveSeries, type SeriesSpec } from './timeline/series.ts';
import type { GridOrder } from './render/grid.ts';
import type { RgbImage } from './render/image.ts';
import type { PixelRounding } from './render/normalize.ts';

/** Bump when a change to the code changes any figure, so cached figures are not reused. */
export const FIGURES_VERSION = 14;

export interface PipelineOptions extends ReadKernelOptions {
  /** The model drawn; with `checkpoints` and no model, the last checkpoint. */
  model?: string | URL | undefined;
  /** A training run's checkpoints (a folder, a glob or a list), drawn as a timeline beside the model. */
  checkpoints?: SeriesSpec | undefined;
  /** Enlargement of the grid for display. */
  gridScale: number;
  /** Enlargement of single filters for display. */
  filterScale: number;
  /** How scaled weights become grey levels in grids and filter images; the recipe's truncation by default. */
  rounding?: PixelRounding | undefined;
  photos: PhotoSpec[];
  /** Width photos are scaled to before convolving. */
  photoWidth: number;
  /** Filters whose responses are computed on every photo; 'all' for every filter. */
  responses: 'all' | number[];
  /** Filters whose responses are also rendered at full width, for <Conv1Convolution>; the rest at half width. */
  largeResponses?: number[] | undefined;
  /**
   * First layers to show beside the main one: model specs as for `model`, or the controls
   * control:glorot (the main kernel's shape, glorot-uniform weights) and control:noise:<k> (the main
   * kernel plus Gaussian noise of k times its standard deviation).
   */
  compare?: ComparisonSpec[] | undefined;
  /**
   * Called when a phase starts, and again with its duration when it ends. Phases: read, then render
   * and convolve one after the other, with analyse beside them in a thread of its own.
   */
  onPhase?: (phase: Phase, doneInMs?: number) => void;
  /**
   * Looks up figures computed earlier for the same key. The pipeline is pure, so a cache only needs
   * the key; this keeps storage out of the pipeline.
   */
  cache?: FigureStore | undefined;
}

export type Phase = 'read' | 'analyse' | 'render' | 'convolve';

export interface ComparisonSpec {
  id: string;
  label: string;
  model: string;
  layer?: string | undefined;
  channels?: ChannelOrder | undefined;
}

const GRID_ORDERS: readonly GridOrder[] = ['column', 'row'];
/** Comparison grids are enlarged by whole pixels to about this width, whatever their size. */
const COMPARISON_WIDTH = 320;
/** Encodes in flight at once: enough to fill libuv's default pool of four threads. */
const ENCODE_CONCURRENCY = 4;
/**
 * Photos and response maps are continuous-tone: WebP at effort 2 (twice as fast as the default 4,
 * files about 6% larger). AVIF was measured against it (npm run bench, BENCHMARKS.md §3): at the
 * WebP's fidelity it saves only about 10% of the bytes for an encode 8 to 15 times slower, short of
 * what a slower cold build would need to pay for, so both kinds of figure stay WebP; the bench
 * checks this choice against its own rule on every run.
 */
export const TONE_ENCODING = {
  small: { format: 'webp', quality: 80, effort: 2 },
  large: { format: 'webp', quality: 80, effort: 2 },
} as const;
/** Seeds of the controls, fixed so that the site and its cache are reproducible. */
const GLOROT_SEED = 1;
const NOISE_SEED = 7;

/** The kernel a comparison shows: read from its model, or made from the main kernel for a control. */
async function comparisonKernel(spec: ComparisonSpec, main: Kernel, options: PipelineOptions): Promise<Kernel> {
  if (spec.model === 'control:glorot') return glorotUniformKernel(main, GLOROT_SEED);
  const noise = /^control:noise:(\d+(?:\.\d+)?)$/.exec(spec.model);
  if (noise) return withGaussianNoise(main, Number(noise[1]), NOISE_SEED);
  return (await readModel(spec.model, { ...options, layer: spec.layer, channels: spec.channels })).kernel;
}

/**
 * Reads conv1, then renders every figure the site can show; reuses cached figures when inputs match.
 * A checkpoint series is drawn beside it, each checkpoint cached on its own (timeline-figures.ts).
 */
export async function runPipeline(options: PipelineOptions): Promise<Conv1Result & { cached: boolean }> {
  const root = options.root ?? new URL(`file://${process.cwd()}/`);
  const series = options.checkpoints === undefined ? undefined : await resolveSeries(options.checkpoints, root);
  const model = options.model ?? series?.at(-1)!.model;
  if (model === undefined) throw new Conv1Error('model', 'is not given', 'Set `model` to a model file, URL or npm: spec, or give `checkpoints`, whose last checkpoint is then drawn.');
  if (!series) return drawModel({ ...options, model });
  const { timelineFigures } = await import('./timeline/timeline-figures.ts');
  const [drawn, timeline] = await Promise.all([
    drawModel({ ...options, model }),
    timelineFigures(series, { ...options, root, cache: options.cache }),
  ]);
  return { ...drawn, data: { ...drawn.data, timeline: timeline.data }, files: new Map([...drawn.files, ...timeline.files]) };
}

async function drawModel(options: PipelineOptions & { model: string | URL }): Promise<Conv1Result & { cached: boolean }> {
  const phase = async <T>(name: Phase, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    options.onPhase?.(name);
    const result = await work();
    options.onPhase?.(name, performance.now() - started);
    return result;
  };
  const read = performance.now();
  options.onPhase?.('read');
  const { kernel, convolutions } = await readModel(options.model, options);
  const root = options.root ?? new URL(`file://${process.cwd()}/`);
  const photos = await Promise.all(options.photos.map((spec) => resolvePhoto(spec, root)));
  const photoBytes = await Promise.all(photos.map((photo) => readFile(photo.file).catch(() => new Uint8Array())));
  const filterCount = kernel.shape[3];
  const responseFilters = options.responses === 'all' ? [...Array(filterCount).keys()] : options.responses;
  for (const f of responseFilters)
    if (!Number.isInteger(f) || f < 0 || f >= filterCount)
      throw new Conv1Error('responses', `names filter ${f}, but ${kernel.layer} has filters 0–${filterCount - 1}`, 'Fix the `responses` option of conv1() in astro.config.mjs, or leave it at "all".');

  const largeResponses = new Set(options.largeResponses ?? [0]);
  for (const f of largeResponses)
    if (!responseFilters.includes(f))
      throw new Conv1Error('largeResponses', `names filter ${f}, whose responses are not computed`, 'List only filters that `responses` includes.');
  const comparisonSpecs = options.compare ?? [];
  const rounding = options.rounding ?? 'truncate';
  const comparisonKernels = await Promise.all(comparisonSpecs.map((spec) => comparisonKernel(spec, kernel, options)));

  const key = hashInputs([kernel, ...comparisonKernels], photoBytes, {
    version: FIGURES_VERSION,
    gridScale: options.gridScale,
    filterScale: options.filterScale,
    rounding,
    photoWidth: options.photoWidth,
    responseFilters,
    largeResponses: [...largeResponses].sort((a, b) => a - b),
    photos: photos.map(({ id, title, credit, license }) => ({ id, title, credit, license })),
    convolutions: convolutions.map((c) => [c.name, c.shape]),
    comparisons: comparisonSpecs,
  });
  const hit = await options.cache?.get(key);
  options.onPhase?.('read', performance.now() - read);
  // What this read cost is a fact of this build, not of the one that filled the cache.
  if (hit) return { ...hit, data: { ...hit.data, model: { ...hit.data.model, bytesRead: kernel.bytesRead } }, cached: true };

  // Loaded only now: a warm build, which runs the pipeline only to find its key, never loads the
  // analysis, the renderers or the convolutions.
  const [
    { analyseInThread },
    { convolveAll },
    { cropToResponse, halveImage, halveMap, preprocess, responseImage, splitChannels },
    { channelsImage },
    { gridLayout, renderGrid },
    { encodePng, enlarge },
    { displayRange, filterImage, filterRange, NORMALIZATIONS },
    { edgeTest },
  ] = await Promise.all([
    import('./analyse/analyse-in-thread.ts'),
    import('./convolve/convolve-all.ts'),
    import('./convolve/response.ts'),
    import('./render/diverging.ts'),
    import('./render/grid.ts'),
    import('./render/image.ts'),
    import('./render/normalize.ts'),
    import('./analyse/edge-test.ts'),
  ]);
  const files = new Map<string, Uint8Array>();
  // Encoding is most of the work; sharp encodes on libuv's thread pool, so a few at a time keep
  // every core busy. Each image is drawn only when its encode can start: drawing all of them up
  // front would hold every image in memory and leave the encoders idle while this thread draws.
  const encoding = new Set<Promise<unknown>>();
  const encode = async <T>(job: () => Promise<T>): Promise<T> => {
    while (encoding.size >= ENCODE_CONCURRENCY) await Promise.race(encoding);
    const running = job();
    const tracked = running.finally(() => encoding.delete(tracked));
    encoding.add(tracked);
    return running;
  };
  const addPng = (file: string, draw: () => RgbImage): Promise<FigureRef> =>
    encode(async () => {
      const image = draw();
      files.set(file, await encodePng(image));
      return { file, width: image.width, height: image.height };
    });
  const encodeTone = async (file: string, image: RgbImage, size: keyof typeof TONE_ENCODING): Promise<FigureRef> => {
    const { default: sharp } = await import('sharp');
    const { format, ...settings } = TONE_ENCODING[size];
    const bytes = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).toFormat(format, settings).toBuffer();
    files.set(`${file}.${format}`, bytes);
    return { file: `${file}.${format}`, width: image.width, height: image.height };
  };
  // A large figure comes at full width with a half-width rendition for phones; the explorer's many
  // small responses come at half width only, which is most of the encoding a cold build saves.
  const addToneImage = (name: string, drawHalf: () => RgbImage, drawFull?: () => RgbImage): Promise<FigureRef> =>
    encode(async () => {
      const halfImage = drawHalf();
      const half = await encodeTone(`${name}-${halfImage.width}w`, halfImage, drawFull ? 'large' : 'small');
      if (!drawFull) return half;
      return { ...(await encodeTone(name, drawFull(), 'large')), variants: [half] };
    });

  const sweptStrengths = NOISE_SWEEP.filter((strength) => strength > 0);
  const analysed = phase('analyse', () =>
    analyseInThread([kernel, ...comparisonKernels, ...sweptStrengths.map((strength) => withGaussianNoise(kernel, strength, NOISE_SEED))]),
  );
  // Awaited once the figures are drawn; until then its failure must not count as unhandled.
  analysed.catch(() => undefined);

  const displayed = channelsForDisplay(kernel);
  const shownChannels = displayed.map((c) => c.index);
  // Rendering and convolving share the encoders; running side by side, neither waits for the
  // other's last encodes.
  const rendered = phase('render', () =>
    Promise.all([
      Promise.all(
        GRID_ORDERS.flatMap((order) =>
          NORMALIZATIONS.map(async (normalize): Promise<GridFigure> => {
            const image = renderGrid(kernel, { order, normalize, rounding });
            const layout = gridLayout(kernel, order);
            return {
              order,
              normalize,
              raw: await addPng(`grid-${order}-${normalize}.png`, () => image),
              large: await addPng(`grid-${order}-${normalize}-x${options.gridScale}.png`, () => enlarge(image, options.gridScale)),
              scale: options.gridScale,
              // In filter mode each tile has its own range; report the layer's extremes.
              range: displayRange(kernel, 0, normalize === 'filter' ? 'global' : normalize),
              rows: layout.rows,
              columns: layout.columns,
            };
          }),
        ),
      ),
      Promise.all(
        Array.from({ length: filterCount }, async (_, f) => {
          const images = {} as FilterFigure['images'];
          for (const normalize of NORMALIZATIONS)
            images[normalize] = await addPng(`filter-${pad(f)}-${normalize}.png`, () => enlarge(filterImage(kernel, f, normalize, { rounding }), options.filterScale));
          const channels = await addPng(`channels-${pad(f)}.png`, () => enlarge(channelsImage(kernel, f, shownChannels), options.filterScale));
          return { images, channels };
        }),
      ),
      Promise.all(
        [...largeResponses].map(async (f): Promise<EdgeTestFigure> => {
          const test = edgeTest(kernel, f);
          const shown = await Promise.all(
            test.shown.map(async ({ deg, peak, pattern, response }) => ({
              deg,
              peak,
              pattern: await addPng(`edge-${pad(f)}-${deg}-pattern.png`, () => pattern),
              response: await addPng(`edge-${pad(f)}-${deg}-response.png`, () => response),
            })),
          );
          return { filter: f, amplitude: test.amplitude, sweep: test.sweep, shown };
        }),
      ),
      Promise.all(
        comparisonKernels.map((other, i) => {
          const grid = renderGrid(other, { rounding });
          return addPng(`compare-${comparisonSpecs[i]!.id}.png`, () => enlarge(grid, Math.max(1, Math.floor(COMPARISON_WIDTH / grid.width))));
        }),
      ),
    ]),
  );
  rendered.catch(() => undefined);

  let backend = 'none';
  const convolved = phase('convolve', async () => {
    // A photo's responses are drawn and encoded while the next photo is convolved.
    const figures: Promise<PhotoFigure>[] = [];
    for (const photo of photos) {
      const pixels = await loadPhoto(photo.file, options.photoWidth);
      const result = await convolveAll(preprocess(pixels, kernel), kernel);
      backend = result.backend;
      const planes = splitChannels(result.map);
      const responses = Promise.all(
        responseFilters.map((f) =>
          addToneImage(`response-${photo.id}-${pad(f)}`, () => responseImage(halveMap(planes[f]!)), largeResponses.has(f) ? () => responseImage(planes[f]!) : undefined),
        ),
      );
      const cropped = cropToResponse(pixels, kernel);
      const image = addToneImage(`photo-${photo.id}`, () => halveImage(cropped), () => cropped);
      const figure = Promise.all([image, responses]).then(([image, refs]) => ({
        id: photo.id,
        title: photo.title,
        credit: photo.credit,
        license: photo.license,
        image,
        responses: Object.fromEntries(responseFilters.map((f, i) => [f, refs[i]!])),
      }));
      figure.catch(() => undefined);
      figures.push(figure);
    }
    return Promise.all(figures);
  });
  convolved.catch(() => undefined);

  const [[grids, filterImages, edgeTests, comparisonGrids], photoFigures, [mainReport, ...otherReports]] = await Promise.all([rendered, convolved, analysed]);
  const { filters: filterReports, ...report } = mainReport!;
  const filters = filterReports.map(
    (diagnostics, f): FilterFigure => ({
      index: f,
      ...filterRange(kernel, f),
      l2: diagnostics.strength.l2,
      colourShare: diagnostics.colour.colourShare,
      ...filterImages[f]!,
      diagnostics,
    }),
  );
  const comparisons = comparisonSpecs.map((spec, i): ComparisonFigure => {
    const other = comparisonKernels[i]!;
    const { filters: _perFilter, ...otherReport } = otherReports[i]!;
    return {
      id: spec.id,
      label: spec.label,
      source: other.source,
      layer: other.layer,
      shape: other.shape,
      strides: other.strides,
      channelOrder: other.channelOrder,
      grid: comparisonGrids[i]!,
      report: otherReport,
    };
  });
  const sweptReports = otherReports.slice(comparisonSpecs.length);
  const noiseSweep = NOISE_SWEEP.map((strength): NoiseSweepPoint => {
    const swept = strength === 0 ? report : sweptReports[sweptStrengths.indexOf(strength)]!;
    return { strength, medianNoise: swept.noise?.median ?? null, verdict: swept.verdict.kind, families: swept.families };
  });
  files.set(KERNEL_FILE, kernelBytes(kernel));

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
    comparisons,
    noiseSweep,
    channelNames: displayed.map((c) => c.name),
    kernelFile: KERNEL_FILE,
    rounding,
    photoWidth: options.photoWidth,
    photos: photoFigures,
    edgeTests,
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

function hashInputs(kernels: Kernel[], photoBytes: Uint8Array[], settings: unknown): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(settings));
  for (const kernel of kernels) {
    hash.update(JSON.stringify({ shape: kernel.shape, layer: kernel.layer, strides: kernel.strides, order: kernel.channelOrder, mean: kernel.inputMean }));
    hash.update(new Uint8Array(kernel.data.buffer, kernel.data.byteOffset, kernel.data.byteLength));
  }
  for (const bytes of photoBytes) hash.update(createHash('sha256').update(bytes).digest());
  return hash.digest('hex').slice(0, 32);
}
