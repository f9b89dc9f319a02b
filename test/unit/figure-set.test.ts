import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline, type PipelineOptions } from '../../src/lib/pipeline.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';
import { writeSmallModel, writeTinyPhoto } from '../helpers/small-site.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('figureSet', () => {
  it("'layer' draws the layer and its analysis only, under a key of its own", async () => {
    const dir = await dirs.make('conv1-figure-set-');
    const model = await writeSmallModel(dir);
    await writeTinyPhoto(new URL('photo.png', dir));
    const options: PipelineOptions = {
      model,
      root: dir,
      gridScale: 2,
      filterScale: 2,
      photos: [{ src: 'photo.png' }],
      photoWidth: 64,
      responses: 'all',
      largeResponses: [0],
      compare: [{ id: 'glorot', label: 'glorot', model: 'control:glorot' }],
    };
    const all = await runPipeline(options);
    const layer = await runPipeline({ ...options, figureSet: 'layer' });
    expect(layer.data.key).not.toBe(all.data.key);
    expect(all.data.photos).toHaveLength(1);
    expect([layer.data.photos, layer.data.comparisons, layer.data.noiseSweep, layer.data.edgeTests]).toEqual([[], [], [], []]);
    expect(layer.data.grids).toEqual(all.data.grids);
    expect(layer.data.filters).toEqual(all.data.filters);
    expect(layer.data.report).toEqual(all.data.report);
    const names = [...layer.files.keys()];
    expect(names.filter((name) => /^(photo|response|compare|edge)-/.test(name))).toEqual([]);
    expect(names.length).toBeLessThan(all.files.size);
  });
});
