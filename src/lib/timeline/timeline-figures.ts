import { createHash } from 'node:crypto';
import type { TimelineCheckpoint, TimelineData } from '../figures.ts';
import type { Kernel } from '../kernel.ts';
import type { ReadKernelOptions } from '../read-kernel.ts';
import { gridLayout, renderGrid } from '../render/grid.ts';
import { enlarge } from '../render/image.ts';
import { encodePng } from '../render/png.ts';
import type { PixelRounding } from '../render/normalize.ts';
import type { Checkpoint } from './series.ts';
import { measureCheckpoint, readSeries } from './timeline.ts';

/**
 * The figures of a checkpoint series. What depends on one checkpoint alone (its measures and its
 * per-filter grid) is cached under that checkpoint's own key, so a new checkpoint computes only
 * itself. The grids on the scale shared by all steps depend on every step's range and are drawn
 * for the series each time: one PNG encode per step, against an analysis per checkpoint.
 */

/** Bump when a change to the code changes a checkpoint's figures. */
export const TIMELINE_VERSION = 2;

/** What the cache keeps of one checkpoint: everything but where it sits in a series. */
export interface CheckpointEntry {
  key: string;
  checkpoint: Omit<TimelineCheckpoint, 'step' | 'grid' | 'sharedGrid'>;
}

export interface TimelineCache {
  get(key: string): Promise<{ data: CheckpointEntry; files: Map<string, Uint8Array> } | undefined>;
  put(entry: { data: CheckpointEntry; files: Map<string, Uint8Array> }): Promise<void>;
}

export interface TimelineOptions extends ReadKernelOptions {
  gridScale: number;
  rounding?: PixelRounding | undefined;
  cache?: TimelineCache | undefined;
  /** Called after each checkpoint, with whether its figures came from the cache. */
  onCheckpoint?: ((step: number, cached: boolean) => void) | undefined;
}

const GRID = 'grid.png';

export async function timelineFigures(series: readonly Checkpoint[], options: TimelineOptions): Promise<{ data: TimelineData; files: Map<string, Uint8Array> }> {
  const files = new Map<string, Uint8Array>();
  const steps: TimelineCheckpoint[] = [];
  const kernels: Kernel[] = [];
  for await (const { step, kernel } of readSeries(series, options)) {
    const key = checkpointKey(kernel, options);
    const hit = await options.cache?.get(key);
    const entry = hit ?? (await computeCheckpoint(key, kernel, options));
    options.onCheckpoint?.(step, hit !== undefined);
    const grid = `timeline-${steps.length}-per-filter.png`;
    files.set(grid, entry.files.get(GRID)!);
    const size = enlargedSize(kernel, options.gridScale);
    steps.push({ ...entry.data.checkpoint, step, grid: { file: grid, ...size }, sharedGrid: { file: `timeline-${steps.length}-shared.png`, ...size } });
    kernels.push(kernel);
  }
  const bound = Math.max(...kernels.map(largestMagnitude));
  kernels.forEach((kernel, i) => {
    const image = renderGrid(kernel, { range: { min: -bound, max: bound }, rounding: options.rounding });
    files.set(steps[i]!.sharedGrid.file, encodePng(enlarge(image, options.gridScale)));
  });
  const { rows, columns, tileWidth, tileHeight, gap } = gridLayout(kernels[0]!, 'column');
  return {
    data: { steps, sharedRange: { min: -bound, max: bound }, layout: { rows, columns, tileWidth, tileHeight, gap, scale: options.gridScale } },
    files,
  };
}

function enlargedSize(kernel: Kernel, scale: number): { width: number; height: number } {
  const layout = gridLayout(kernel, 'column');
  return { width: layout.width * scale, height: layout.height * scale };
}

function largestMagnitude(kernel: Kernel): number {
  let largest = 0;
  for (const v of kernel.data) largest = Math.max(largest, Math.abs(v));
  return largest;
}

function checkpointKey(kernel: Kernel, options: TimelineOptions): string {
  const hash = createHash('sha256');
  const settings = { version: TIMELINE_VERSION, scale: options.gridScale, rounding: options.rounding ?? 'truncate' };
  hash.update(JSON.stringify({ settings, source: kernel.source, format: kernel.format, layer: kernel.layer, shape: kernel.shape, order: kernel.channelOrder }));
  hash.update(new Uint8Array(kernel.data.buffer, kernel.data.byteOffset, kernel.data.byteLength));
  return `timeline-${hash.digest('hex').slice(0, 32)}`;
}

async function computeCheckpoint(key: string, kernel: Kernel, options: TimelineOptions): Promise<{ data: CheckpointEntry; files: Map<string, Uint8Array> }> {
  const { report, meanL2, filters } = measureCheckpoint(kernel);
  const grid = encodePng(enlarge(renderGrid(kernel, { rounding: options.rounding }), options.gridScale));
  const entry = {
    data: { key, checkpoint: { file: kernel.source, format: kernel.format, report, meanL2, filterFamilies: filters.map((filter) => filter.family) } },
    files: new Map([[GRID, grid]]),
  };
  await options.cache?.put(entry);
  return entry;
}
