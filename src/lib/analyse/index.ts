/**
 * Filter diagnostics: the article's two rules of thumb as measured numbers. A well-trained first
 * layer holds edge detectors (family counts: edge, colour contrast, …); noisy filters hint at too
 * little training or regularisation (noise score). Pure functions over a Kernel.
 */
export { analyseFilter, type FilterReport } from './analyse-filter.ts';
export { analyseLayer, type LayerReport, type NoiseSummary, type VerdictKind } from './layer-report.ts';
export { FAMILIES, type Family } from './family.ts';
export type { FilterPair } from './pairs.ts';
export type { GaborFit } from './gabor-fit.ts';
export type { ColourMeasures } from './colour.ts';
export type { RadialStructure } from './centre-surround.ts';
export { stripeOrientation, orientationDistance } from './orientation.ts';
export { glorotUniformKernel, glorotUniformWeights, mulberry32, NOISE_SWEEP, withGaussianNoise } from './random-init.ts';
export * from './thresholds.ts';
