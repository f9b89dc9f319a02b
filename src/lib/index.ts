/** The astro-conv1 pipeline, free of Astro: read a model's first convolution, render it, convolve photos. */
export { Conv1Error } from './errors.ts';
export { DEFAULT_MODEL } from './presets.ts';
export type { Kernel, ChannelOrder } from './kernel.ts';
export { listLayers, readKernel, readModel, resolveModel, type ReadKernelOptions, type ReadProgress, type Redirect } from './read-kernel.ts';
export type { ConvLayer } from './formats/format.ts';
export { renderGrid, gridLayout, type GridOrder, type GridOptions } from './render/grid.ts';
export { filterImage, displayRange, filterRange, NORMALIZATIONS, PIXEL_ROUNDINGS, type Normalization, type PixelRounding, type FilterImageOptions } from './render/normalize.ts';
export { enlarge, type RgbImage } from './render/image.ts';
export { encodePng } from './render/png.ts';
export { lineChart, type LineChartOptions, type LinePoint } from './render/line-chart.ts';
export { preprocess, convolveFilter, responseImage, cropToResponse } from './convolve/response.ts';
export { convolveAll } from './convolve/convolve-all.ts';
export { loadPhoto, resolvePhoto, DEFAULT_PHOTOS, type PhotoSpec } from './convolve/photo.ts';
export { runPipeline, type PipelineOptions } from './pipeline.ts';
export { figureCache } from './cache.ts';
export type * from './figures.ts';
export * from './analyse/index.ts';
