/**
 * The astro-conv1 components, for `.astro` pages and for MDX files that import them explicitly
 * (in MDX the integration makes them available without an import line). Each takes `model`, the name
 * of a model configured in conv1() (default: the top-level one), and `lang` (default: the page's).
 *
 * - Conv1Grid: every filter of the layer, tiled and enlarged, with a link to the exact 1:1 image.
 * - Conv1Filter: one filter, enlarged, with its range and L2 norm.
 * - Conv1Convolution: a photo beside one filter's response to it.
 * - Conv1ModelInfo: the layer, its shape, strides, channel order and bytes read.
 * - Conv1Explorer: every filter as a tile that opens a panel of its numbers, channels and responses.
 * - Conv1EdgeTest: one filter on a synthetic "\" edge and a "/" edge, and its peak response at every edge angle.
 * - Conv1Report, Conv1Compare, Conv1NoiseSweep, Conv1Thresholds: the diagnostics.
 * - Conv1Timeline: the layer at every checkpoint of a training run (the model's `checkpoints`), with charts of its measures.
 * - Conv1Gallery: every configured model's first layer side by side, sortable and filterable without JavaScript;
 *   summariseByKernelSize, sameWeights and THRESHOLDS give a page the numbers behind it.
 */
export { default as Conv1Grid } from './Conv1Grid.astro';
export { default as Conv1Filter } from './Conv1Filter.astro';
export { default as Conv1Convolution } from './Conv1Convolution.astro';
export { default as Conv1ModelInfo } from './Conv1ModelInfo.astro';
export { default as Conv1Explorer } from './Conv1Explorer.astro';
export { default as Conv1EdgeTest } from './Conv1EdgeTest.astro';
export { default as Conv1Report } from './Conv1Report.astro';
export { default as Conv1Compare } from './Conv1Compare.astro';
export { default as Conv1NoiseSweep } from './Conv1NoiseSweep.astro';
export { default as Conv1Thresholds } from './Conv1Thresholds.astro';
export { default as Conv1Timeline } from './Conv1Timeline.astro';
export { default as Conv1Gallery } from './Conv1Gallery.astro';
export { sameWeights, summariseByKernelSize, type KernelSizeSummary } from './gallery.ts';
export { THRESHOLDS } from './library.ts';
