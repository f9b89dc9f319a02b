import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Conv1Error } from './errors.ts';
import { glorotUniformKernel, NOISE_SWEEP, withGaussianNoise } from './analyse/random-init.ts';
import type { LayerReport } from './analyse/index.ts';
import { resolvePhoto, type Photo, type PhotoSpec } from './convolve/photo.ts';
import type { ComparisonFigure, Conv1Data, Conv1Result, FilterFigure, NoiseSweepPoint } from './figures.ts';
import { channelsForDisplay, type ChannelOrder, type Kernel } from './kernel.ts';
import { filterRange } from './render/normalize.ts';
import type { FigureStore } from './cache.ts';
import type { ConvLayer } from './formats/format.ts';
import { readModel, type ReadKernelOptions } from './read-kernel.ts';
import { resolveSeries, type SeriesSpec } from './timeline/series.ts';
import type { PixelRounding } from './render/normalize.ts';

/** Bump when a change to the code changes any figure, so cached figures are not reused. */
export const FIGURES_VERSION = 16;

export interface PipelineOptions extends ReadKernelOptions {
  /** The model drawn; with `checkpoints` and no model, the last checkpoint. */
  model?: string | URL | undefined;
  /** A training run's checkpoints (a folder, a glob or a list), drawn as a timeline beside the model. */
  checkpoints?: SeriesSpec | undefined;
  /** Enlargement of the grid for display. */
  gridScale: number;
  /** Enlargement of single filters for display. */
  filterScale: number;
  /**
   * all: every figure the components can show. layer: the layer itself only (grids, filters, the
   * analysis), without photos, comparisons, the noise sweep or edge tests, for pages that show many
   * layers side by side.
   */
  figureSet?: 'all' | 'layer' | undefined;
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
   * Called when a phase starts, and again with its duration when it ends. Phases: read, then
   * analyse, render and convolve side by side (see analyse-layers.ts and figure-encoder.ts).
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

/** What a model's figures are made from, decided and checked before anything is drawn. */
interface Inputs {
  kernel: Kernel;
  convolutions: ConvLayer[];
  photos: Photo[];
  responseFilters: number[];
  largeResponses: Set<number>;
  comparisons: { spec: ComparisonSpec; kernel: Kernel }[];
  sweep: boolean;
  rounding: PixelRounding;
  key: string;
}

/**
 * The read stage: the kernel, the photos and comparison layers, the options checked against the
 * kernel, and the key that names the figures made from all of them. `figureSet: 'layer'` leaves out
 * everything beyond the layer itself.
 */
async function readInputs(options: PipelineOptions & { model: string | URL }): Promise<Inputs> {
  const { kernel, convolutions } = await readModel(options.model, options);
  const layerOnly = options.figureSet === 'layer';
  const root = options.root ?? new URL(`file://${process.cwd()}/`);
  const photos = layerOnly ? [] : await Promise.all(options.photos.map((spec) => resolvePhoto(spec, root)));
  const photoBytes = await Promise.all(photos.map((photo) => readFile(photo.file).catch(() => new Uint8Array())));
  const filterCount = kernel.shape[3];
  const responseFilters = layerOnly ? [] : options.responses === 'all' ? [...Array(filterCount).keys()] : options.responses;
  for (const f of responseFilters)
    if (!Number.isInteger(f) || f < 0 || f >= filterCount)
      throw new Conv1Error('responses', `names filter ${f}, but ${kernel.layer} has filters 0–${filterCount - 1}`, 'Fix the `responses` option of conv1() in astro.config.mjs, or leave it at "all".');
  const largeResponses = new Set(layerOnly ? [] : (options.largeResponses ?? [0]));
  for (const f of largeResponses)
    if (!responseFilters.includes(f)) throw new Conv1Error('largeResponses', `names filter ${f}, whose responses are not computed`, 'List only filters that `responses` includes.');
  const specs = layerOnly ? [] : (options.compare ?? []);
  const comparisons = await Promise.all(specs.map(async (spec) => ({ spec, kernel: await comparisonKernel(spec, kernel, options) })));
  const rounding = options.rounding ?? 'truncate';
  const key = hashInputs([kernel, ...comparisons.map((c) => c.kernel)], photoBytes, {
    version: FIGURES_VERSION,
    figureSet: options.figureSet ?? 'all',
    gridScale: options.gridScale,
    filterScale: options.filterScale,
    rounding,
    photoWidth: options.photoWidth,
    responseFilters,
    largeResponses: [...largeResponses].sort((a, b) => a - b),
    photos: photos.map(({ id, title, credit, license }) => ({ id, title, credit, license })),
    convolutions: convolutions.map((c) => [c.name, c.shape]),
    comparisons: specs,
  });
  return { kernel, convolutions, photos, responseFilters, largeResponses, comparisons, sweep: !layerOnly, rounding, key };
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
  const inputs = await readInputs(options);
  const hit = await options.cache?.get(inputs.key);
  options.onPhase?.('read', performance.now() - read);
  // Where the kernel came from and what reading it cost are facts of this read, not of the one that
  // filled the cache: two files can hold the very same layer (a gallery has such pairs).
  if (hit) return { ...hit, data: { ...hit.data, model: modelFacts(inputs) }, cached: true };

  // Loaded only now: a warm build, which runs the pipeline only to find its key, never loads the
  // analysis, the renderers or the convolutions.
  const [{ analyseLayers }, { FigureEncoder }, layer, { drawPhotos }] = await Promise.all([
    import('./analyse/analyse-layers.ts'),
    import('./figure-encoder.ts'),
    import('./stages/draw-layer.ts'),
    import('./stages/draw-photos.ts'),
  ]);
  const { kernel, comparisons, rounding } = inputs;
  const encoder = new FigureEncoder();
  const swept = inputs.sweep ? NOISE_SWEEP.filter((strength) => strength > 0) : [];
  const analysed = phase('analyse', () => analyseLayers([kernel, ...comparisons.map((c) => c.kernel), ...swept.map((strength) => withGaussianNoise(kernel, strength, NOISE_SEED))]));
  // The photos go first: while sharp decodes the first of them on libuv's threads, this thread draws
  // and encodes the layer's own figures, and only then analyses and convolves. Each stage is awaited
  // once all are under way; until then a failure must not count as unhandled.
  const convolved = phase('convolve', () => drawPhotos(kernel, inputs.photos, { ...options, ...inputs }, encoder));
  const drawing = { gridScale: options.gridScale, filterScale: options.filterScale, rounding };
  const rendered = phase('render', async () => [
    layer.drawGrids(kernel, encoder, drawing),
    layer.drawFilters(kernel, encoder, drawing),
    layer.drawEdgeTests(kernel, inputs.largeResponses, encoder),
    layer.drawComparisonGrids(comparisons.map((c) => ({ id: c.spec.id, kernel: c.kernel })), encoder, rounding),
  ] as const);
  for (const stage of [analysed, rendered, convolved]) stage.catch(() => undefined);

  const [[grids, filterImages, edgeTests, comparisonGrids], { photos, backend }, reports] = await Promise.all([rendered, convolved, analysed]);
  encoder.files.set(KERNEL_FILE, kernelBytes(kernel));
  const data: Conv1Data = {
    ...layerData(inputs, reports, filterImages, comparisonGrids, swept),
    grids,
    channelNames: channelsForDisplay(kernel).map((c) => c.name),
    kernelFile: KERNEL_FILE,
    rounding,
    photoWidth: options.photoWidth,
    photos,
    edgeTests,
    backend,
    key: inputs.key,
  };
  const result = { data, files: encoder.files };
  await options.cache?.put(result);
  return { ...result, cached: false };
}

/** The analysis joined to the drawings: the model's facts, each filter, the comparisons and the noise sweep. */
function layerData(
  { kernel, convolutions, comparisons }: Inputs,
  [mainReport, ...otherReports]: LayerReport[],
  filterImages: Pick<FilterFigure, 'images' | 'channels'>[],
  comparisonGrids: ComparisonFigure['grid'][],
  swept: readonly number[],
): Pick<Conv1Data, 'model' | 'filters' | 'report' | 'comparisons' | 'noiseSweep'> {
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
  const comparisonFigures = comparisons.map(({ spec, kernel: other }, i): ComparisonFigure => {
    const { filters: _perFilter, ...otherReport } = otherReports[i]!;
    return { id: spec.id, label: spec.label, source: other.source, layer: other.layer, shape: other.shape, strides: other.strides, channelOrder: other.channelOrder, grid: comparisonGrids[i]!, report: otherReport };
  });
  const sweptReports = otherReports.slice(comparisons.length);
  const noiseSweep = swept.length === 0 ? [] : NOISE_SWEEP.map((strength): NoiseSweepPoint => {
    const point = strength === 0 ? report : sweptReports[swept.indexOf(strength)]!;
    return { strength, medianNoise: point.noise?.median ?? null, verdict: point.verdict.kind, families: point.families };
  });
  return { model: modelFacts({ kernel, convolutions }), filters, report, comparisons: comparisonFigures, noiseSweep };
}

function modelFacts({ kernel, convolutions }: Pick<Inputs, 'kernel' | 'convolutions'>): Conv1Data['model'] {
  return {
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
  };
}

const KERNEL_FILE = 'kernel-hwio.f32';

/** The weights as little-endian float32, whatever the machine's byte order. */
function kernelBytes(kernel: Kernel): Uint8Array {
  const bytes = new Uint8Array(kernel.data.length * 4);
  const view = new DataView(bytes.buffer);
  kernel.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
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
