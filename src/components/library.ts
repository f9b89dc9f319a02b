/**
 * The parts of the compiled library the components use on the server. The components ship as
 * source, like every Astro component package, but run the same compiled code as the integration,
 * so the site and the figures can never disagree (built by `npm run compile`, run on install).
 */
export { FAMILIES } from '../../compiled/lib/analyse/family.js';
export { THRESHOLDS } from '../../compiled/lib/analyse/thresholds.js';
export type { FilterReport, LayerReport } from '../../compiled/lib/analyse/index.js';
export type { FigureRef } from '../../compiled/lib/figures.js';
export { familyBars, isOriented, orientationCounts, orientationRose, ROSE_BIN_DEG } from '../../compiled/lib/render/charts.js';
export { lineChart } from '../../compiled/lib/render/line-chart.js';
