import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { figureCache } from '../../src/lib/cache.ts';
import { runPipeline, type PipelineOptions } from '../../src/lib/pipeline.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';
import { writeSmallModel } from '../helpers/small-site.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('the figure cache shared by models', () => {
  it('serves two files holding the very same layer from one entry, each with its own source', async () => {
    const dir = await dirs.make('conv1-pipeline-cache-');
    const first = await writeSmallModel(new URL('a/', dir));
    await mkdir(new URL('b/', dir));
    for (const name of await readdir(new URL('a/', dir))) await copyFile(new URL(`a/${name}`, dir), new URL(`b/${name}`, dir));
    const cache = figureCache(new URL('cache/', dir));
    const options: PipelineOptions = { gridScale: 2, filterScale: 2, photos: [], photoWidth: 64, responses: [], figureSet: 'layer', cache };
    const a = await runPipeline({ ...options, model: first });
    const b = await runPipeline({ ...options, model: new URL('b/model.json', dir) });
    expect([a.cached, b.cached]).toEqual([false, true]);
    expect(b.data.key).toBe(a.data.key);
    expect(a.data.model.source).toMatch(/\/a\/model\.json$/);
    expect(b.data.model.source).toMatch(/\/b\/model\.json$/);
  });
});
