/** What the pipeline produces: named files plus the JSON-safe description pages are built from. */
import type { Family, FilterReport, LayerReport } from './analyse/index.ts';
import type { ChannelOrder } from './kernel.ts';
import type { GridOrder } from './render/grid.ts';
import type { Normalization, PixelRounding } from './render/normalize.ts';

export interface FigureRef {
  /** File name, unique within one result, e.g. grid-column-filter-x8.png. */
  file: string;
  width: number;
  height: number;
  /** Smaller renditions of the same image, for srcset. */
  variants?: FigureRef[];
}

export interface GridFigure {
  order: GridOrder;
  normalize: Normalization;
  /** The exact grid, one pixel per weight. */
  raw: FigureRef;
  /** The same, enlarged by `scale` with nearest-neighbour pixels. */
  large: FigureRef;
  scale: number;
  /** The weight values that black and white stand for (per filter in `filter` mode: the extremes). */
  range: { min: number; max: number };
  rows: number;
  columns: number;
}

export interface FilterFigure {
  index: number;
  min: number;
  max: number;
  l2: number;
  /** Share of the filter's energy off the grey axis R = G = B: 0 for grey filters, towards 1 for colour. */
  colourShare: number;
  images: Record<Normalization, FigureRef>;
  /** Orientation, frequency, Gabor fit, colour, noise and family (see src/lib/analyse). */
  diagnostics: FilterReport;
  /** The input channels side by side on a diverging map centred on zero (blue < 0 < red). */
  channels: FigureRef;
}

export interface PhotoFigure {
  id: string;
  title: string;
  credit: string;
  license: string;
  /** The photo cropped to the area the responses cover. */
  image: FigureRef;
  /** Response map of each filter, by filter index. */
  responses: Record<number, FigureRef>;
}

export interface ModelFacts {
  source: string;
  format: string;
  layer: string;
  layerType: string;
  shape: [number, number, number, number];
  strides: [number, number];
  channelOrder: ChannelOrder;
  channelOrderSource: string;
  inputMean: [number, number, number];
  bytesRead: number;
  convolutions: { name: string; shape: number[] }[];
}

/** Another first layer shown beside the main one: a real model, or a control made from the main kernel. */
export interface ComparisonFigure {
  id: string;
  label: string;
  source: string;
  layer: string;
  shape: [number, number, number, number];
  strides: [number, number];
  channelOrder: ChannelOrder;
  /** The grid (per-filter scaling, column order), enlarged. */
  grid: FigureRef;
  report: Omit<LayerReport, 'filters'>;
}

/** The main kernel's layer verdict as Gaussian noise of growing strength is added to it. */
export interface NoiseSweepPoint {
  /** Noise standard deviation in units of the kernel's own. */
  strength: number;
  medianNoise: number | null;
  verdict: string;
  families: LayerReport['families'];
}

/** One filter's edge test: its peak response to a straight edge at every angle, and the "\\" and "/" edges drawn. */
export interface EdgeTestFigure {
  filter: number;
  /** Half the edges' contrast, in grey levels. */
  amplitude: number;
  sweep: { deg: number; peak: number }[];
  shown: { deg: number; peak: number; pattern: FigureRef; response: FigureRef }[];
}

/** One checkpoint of a training run, as <Conv1Timeline /> shows it. */
export interface TimelineCheckpoint {
  step: number;
  /** The checkpoint's model spec. */
  file: string;
  format: string;
  report: Omit<LayerReport, 'filters'>;
  /** Mean L2 norm of the filters. */
  meanL2: number;
  /** Each filter's family, by index. */
  filterFamilies: Family[];
  /** The grid with each filter on its own scale, enlarged. */
  grid: FigureRef;
  /** The grid on the one scale all steps share (sharedRange), enlarged. */
  sharedGrid: FigureRef;
}

/** A first layer over a training run: checkpoints in step order, with charts of their measures. */
export interface TimelineData {
  steps: TimelineCheckpoint[];
  /** What black and white stand for in every shared grid: centred on zero, ± the largest |weight| of any step. */
  sharedRange: { min: number; max: number };
  /** Where each filter's tile sits in the grids (column order), in unenlarged pixels, and the enlargement. */
  layout: { rows: number; columns: number; tileWidth: number; tileHeight: number; gap: number; scale: number };
}

export interface Conv1Data {
  model: ModelFacts;
  grids: GridFigure[];
  filters: FilterFigure[];
  /** The layer's diagnostics: family counts, noise summary, dead filters, pairs, verdict. */
  report: Omit<LayerReport, 'filters'>;
  comparisons: ComparisonFigure[];
  noiseSweep: NoiseSweepPoint[];
  photos: PhotoFigure[];
  /** The filters of `largeResponses` applied to synthetic straight edges (see analyse/edge-test.ts). */
  edgeTests: EdgeTestFigure[];
  /** Names of the panels in each filter's `channels` image, left to right (e.g. R, G, B). */
  channelNames: string[];
  /** The kernel itself, float32 little-endian HWIO, for the page's own-photo convolution. */
  kernelFile: string;
  /** How grids and filter images turned scaled weights into grey levels. */
  rounding: PixelRounding;
  /** Width photos were scaled to before convolving. */
  photoWidth: number;
  /** The tfjs backend that computed the responses. */
  backend: string;
  /** Content hash of inputs and options; figures with the same key are identical. */
  key: string;
  /** The `checkpoints` series, when the model has one. */
  timeline?: TimelineData | undefined;
}

export interface Conv1Result {
  data: Conv1Data;
  files: Map<string, Uint8Array>;
}
