/**
 * What <Conv1Gallery /> shows of each model, and the numbers a page can say about a gallery: pure
 * functions over the models of virtual:conv1, so the component and a page's own text agree.
 */
import type { Conv1FailedModel, Conv1Model } from 'virtual:conv1';
import { THRESHOLDS, type LayerReport } from './library.ts';

export type GalleryModel = Conv1Model | Conv1FailedModel;
type Verdict = LayerReport['verdict']['kind'];

/** Verdicts from the most to the least trained-looking; "too small" last, as it is no verdict on training. */
export const VERDICT_ORDER: readonly Verdict[] = ['trained-looking', 'few-edges', 'partly-noisy', 'noisy', 'dead', 'too-small'];

export const GALLERY_SORTS = ['configured', 'kernel', 'verdict', 'noise', 'filters'] as const;
export type GallerySort = (typeof GALLERY_SORTS)[number];

/** "3×3": how the gallery names a kernel size. */
export function kernelSize(model: Conv1Model): string {
  const [kh, kw] = model.data.model.shape;
  return `${kh}×${kw}`;
}

/**
 * Each drawn model's place under every sort, 0 first; ties keep the configured order. Larger
 * kernels, more filters and lower noise come first; a layer without a noise score comes last.
 */
export function sortRanks(models: readonly Conv1Model[]): Map<string, Record<GallerySort, number>> {
  const pixels = (m: Conv1Model) => m.data.model.shape[0] * m.data.model.shape[1];
  const noise = (m: Conv1Model) => m.data.report.noise?.median ?? Infinity;
  const keys: Record<GallerySort, (a: Conv1Model, b: Conv1Model) => number> = {
    configured: () => 0,
    kernel: (a, b) => pixels(b) - pixels(a),
    verdict: (a, b) => VERDICT_ORDER.indexOf(a.data.report.verdict.kind) - VERDICT_ORDER.indexOf(b.data.report.verdict.kind),
    noise: (a, b) => (noise(a) === noise(b) ? 0 : noise(a) < noise(b) ? -1 : 1),
    filters: (a, b) => b.data.model.shape[3] - a.data.model.shape[3],
  };
  const ranks = new Map(models.map((m) => [m.name as string, {} as Record<GallerySort, number>]));
  for (const sort of GALLERY_SORTS)
    [...models]
      .map((model, position) => ({ model, position }))
      .sort((a, b) => keys[sort](a.model, b.model) || a.position - b.position)
      .forEach(({ model }, rank) => (ranks.get(model.name)![sort] = rank));
  return ranks;
}

/**
 * Models whose first layers are the same weights, byte for byte (figures are published under a hash
 * of their bytes, so equal kernel files have equal URLs): each group in configured order.
 */
export function sameWeights(models: readonly Conv1Model[]): Conv1Model[][] {
  const groups = new Map<string, Conv1Model[]>();
  for (const model of models) {
    const url = model.figureUrl({ file: model.data.kernelFile, width: 0, height: 0 });
    groups.set(url, [...(groups.get(url) ?? []), model]);
  }
  return [...groups.values()].filter((group) => group.length > 1);
}

/** What the layers of one kernel size have in common, pooled over their filters. */
export interface KernelSizeSummary {
  size: string;
  /** Weights per filter and input channel: kh × kw. */
  pixels: number;
  models: Conv1Model[];
  filters: number;
  liveFilters: number;
  deadFilters: number;
  /** Layers with at least one dead filter. */
  modelsWithDead: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** The layers' median noise scores, lowest and highest; null when no layer of this size has one. */
  noise: { min: number; max: number; count: number } | null;
  /** (edge + colour-contrast) / live filters. */
  edgeShare: number;
  /** (colour-blob + grey-blob) / live filters. */
  blobShare: number;
  /** Whether filters of this size are too small for a noise score (THRESHOLDS.STRUCTURE_MIN_PIXELS). */
  tooSmall: boolean;
}

/** The gallery by kernel size, smallest first. */
export function summariseByKernelSize(models: readonly Conv1Model[]): KernelSizeSummary[] {
  const sizes = new Map<string, Conv1Model[]>();
  for (const model of models) sizes.set(kernelSize(model), [...(sizes.get(kernelSize(model)) ?? []), model]);
  return [...sizes]
    .map(([size, members]): KernelSizeSummary => {
      const [kh, kw] = members[0]!.data.model.shape;
      const reports = members.map((m) => m.data.report);
      const count = (pick: (report: Omit<LayerReport, 'filters'>) => number) => reports.reduce((sum, report) => sum + pick(report), 0);
      const filters = count((r) => r.shape[3]);
      const deadFilters = count((r) => r.strength.deadFilters.length);
      const liveFilters = filters - deadFilters;
      const medians = reports.flatMap((r) => (r.noise ? [r.noise.median] : []));
      const verdicts: Partial<Record<Verdict, number>> = {};
      for (const r of reports) verdicts[r.verdict.kind] = (verdicts[r.verdict.kind] ?? 0) + 1;
      return {
        size,
        pixels: kh * kw,
        models: members,
        filters,
        liveFilters,
        deadFilters,
        modelsWithDead: reports.filter((r) => r.strength.deadFilters.length > 0).length,
        verdicts,
        noise: medians.length ? { min: Math.min(...medians), max: Math.max(...medians), count: medians.length } : null,
        edgeShare: liveFilters ? count((r) => r.families.edge + r.families['colour-contrast']) / liveFilters : 0,
        blobShare: liveFilters ? count((r) => r.families['colour-blob'] + r.families['grey-blob']) / liveFilters : 0,
        tooSmall: kh * kw < THRESHOLDS.STRUCTURE_MIN_PIXELS,
      };
    })
    .sort((a, b) => a.pixels - b.pixels);
}
