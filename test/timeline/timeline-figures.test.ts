import { readdir, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { figureCache } from '../../src/lib/cache.ts';
import { runPipeline } from '../../src/lib/pipeline.ts';
import { renderGrid } from '../../src/lib/render/grid.ts';
import { resolveSeries } from '../../src/lib/timeline/series.ts';
import { timelineFigures } from '../../src/lib/timeline/timeline-figures.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { hwioToOihw, writeSafetensors } from '../helpers/safetensors-fixture.ts';
import { randomValues, TempDirs } from '../helpers/tfjs-fixture.ts';
import type { Kernel } from '../../src/lib/index.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const SHAPE: Kernel['shape'] = [5, 5, 3, 8];

/** Weights that grow step by step, so the shared scale is set by the last checkpoint. */
async function writeRun(run: URL, steps: readonly number[]): Promise<void> {
  for (const step of steps) {
    const data = randomValues(5 * 5 * 3 * 8, 100 + step).map((v) => v * (1 + step / 10));
    await writeSafetensors(new URL(`ckpt-${step}.safetensors`, run), [{ name: 'conv1.weight', shape: [8, 3, 5, 5], values: hwioToOihw(data, SHAPE) }]);
  }
}

describe('timeline figures', () => {
  it('draws every checkpoint on its own scale and on one shared scale, in step order', async () => {
    const run = await dirs.make('conv1-timeline-');
    await writeRun(run, [10, 0, 2]);
    const { data, files } = await timelineFigures(await resolveSeries('./', run), { gridScale: 4 });
    expect(data.steps.map(({ step }) => step)).toEqual([0, 2, 10]);
    expect(data.layout).toEqual({ rows: 3, columns: 3, tileWidth: 5, tileHeight: 5, gap: 1, scale: 4 });
    for (const step of data.steps) {
      expect(step.filterFamilies).toHaveLength(8);
      expect(step.report.shape).toEqual(SHAPE);
      for (const ref of [step.grid, step.sharedGrid]) {
        const { info } = await sharp(files.get(ref.file)!).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height]).toEqual([17 * 4, 17 * 4]);
      }
    }
    // The largest weight of the whole run is white on the shared scale only in the last grid.
    const last = await sharp(files.get(data.steps[2]!.sharedGrid.file)!).raw().toBuffer();
    const first = await sharp(files.get(data.steps[0]!.sharedGrid.file)!).raw().toBuffer();
    expect(Math.max(...last)).toBeGreaterThanOrEqual(254);
    expect(Math.max(...first)).toBeLessThan(200);
    expect(data.sharedRange.max).toBeCloseTo(-data.sharedRange.min);
  });

  it('caches each checkpoint on its own: a new checkpoint computes only itself', async () => {
    const run = await dirs.make('conv1-timeline-');
    const cache = figureCache(await dirs.make('conv1-timeline-cache-'));
    await writeRun(run, [0, 1, 2]);
    const seen = (log: [number, boolean][]) => ({ gridScale: 2, cache, onCheckpoint: (step: number, cached: boolean) => log.push([step, cached]) });
    const first: [number, boolean][] = [];
    const before = await timelineFigures(await resolveSeries('./', run), seen(first));
    expect(first).toEqual([[0, false], [1, false], [2, false]]);

    await writeRun(run, [5]);
    const second: [number, boolean][] = [];
    const after = await timelineFigures(await resolveSeries('./', run), seen(second));
    expect(second).toEqual([[0, true], [1, true], [2, true], [5, false]]);
    expect(after.data.steps.slice(0, 3).map(({ report }) => report)).toEqual(before.data.steps.map(({ report }) => report));
  });

  it('stops at a broken checkpoint, naming it, and leaves the cache with only whole entries', async () => {
    const run = await dirs.make('conv1-timeline-');
    const cacheDir = await dirs.make('conv1-timeline-cache-');
    await writeRun(run, [0, 1]);
    await writeFile(new URL('ckpt-2.safetensors', run), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123]));
    const error = await conv1Error(timelineFigures(await resolveSeries('./', run), { gridScale: 2, cache: figureCache(cacheDir) }));
    expect(error.file).toMatch(/ckpt-2\.safetensors$/);
    const entries = await readdir(cacheDir);
    expect(entries.filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(await figureCache(cacheDir).get(entry)).toBeDefined();
  });

  it('runs in the pipeline beside the model, the last checkpoint standing in for a missing model', async () => {
    const run = await dirs.make('conv1-timeline-');
    await writeRun(run, [0, 3]);
    const result = await runPipeline({ checkpoints: './', root: run, gridScale: 2, filterScale: 2, photos: [], photoWidth: 64, responses: [], largeResponses: [], compare: [] });
    expect(result.data.model.source).toMatch(/ckpt-3\.safetensors$/);
    expect(result.data.timeline!.steps.map(({ step }) => step)).toEqual([0, 3]);
    for (const step of result.data.timeline!.steps) expect(result.files.has(step.sharedGrid.file)).toBe(true);
    const grid = await sharp(result.files.get(result.data.grids.find((g) => g.order === 'column' && g.normalize === 'filter')!.raw.file)!).raw().toBuffer();
    const { kernel } = await import('../../src/lib/index.ts').then((lib) => lib.readModel(new URL('ckpt-3.safetensors', run)));
    expect(grid.equals(Buffer.from(renderGrid(kernel).data))).toBe(true);
  });
});
