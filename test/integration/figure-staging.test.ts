/**
 * How a build's figures reach the output: each model's are written to the staging folder as soon as
 * it is drawn, under their published names, and the build keeps only the names; the folder moves
 * into the output with one rename.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { figurePaths } from '../../src/integrations/conv1/figure-urls.ts';
import { FigureStaging, publishFigures } from '../../src/integrations/conv1/publish-figures.ts';
import type { ModelFigures } from '../../src/integrations/conv1/vite-plugin.ts';
import type { Conv1Data } from '../../src/lib/figures.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** A drawn model with the given files; only the files and their published paths matter here. */
function drawnModel(name: string, files: Record<string, string>): ModelFigures {
  const bytes = new Map(Object.entries(files).map(([file, text]) => [file, new TextEncoder().encode(text)]));
  return { name, label: name, result: { data: { key: name } as Conv1Data, files: bytes }, paths: figurePaths(bytes, '_astro'), defaults: { order: 'column', normalize: 'filter' } };
}

const published = (model: ModelFigures) => [...model.paths.values()].map((path) => path.split('/').pop()!).sort();

describe('FigureStaging', () => {
  it('writes a model’s figures under their published names as soon as it is staged, and drops its bytes', async () => {
    const root = await dirs.make();
    const staging = new FigureStaging(root);
    const first = drawnModel('first', { 'grid.png': 'grid of the first', 'filter-00.png': 'a filter' });
    const staged = await staging.stage(first);
    const folder = await staging.folder;
    // Written before any other model is staged.
    expect((await readdir(folder)).sort()).toEqual(published(first));
    for (const [file, path] of first.paths) expect(await readFile(new URL(path.split('/').pop()!, folder), 'utf8')).toBe(new TextDecoder().decode(first.result.files.get(file)));
    expect(staged.result.files.size).toBe(0);
    expect(staged.paths).toEqual(first.paths);
    expect(staged.result.data).toBe(first.result.data);
  });

  it('writes a figure two models share (the same bytes, so the same name) once, and keeps both models’ files', async () => {
    const root = await dirs.make();
    const staging = new FigureStaging(root);
    const a = drawnModel('a', { 'photo.webp': 'the same photo', 'grid.png': 'grid a' });
    const b = drawnModel('b', { 'photo.webp': 'the same photo', 'grid.png': 'grid b' });
    await Promise.all([staging.stage(a), staging.stage(b)]);
    const names = await readdir(await staging.folder);
    expect(names.sort()).toEqual([...new Set([...published(a), ...published(b)])].sort());
    expect(names).toHaveLength(3);
  });

  it('sweeps what a killed build left, and the staged folder moves into the output whole', async () => {
    const root = await dirs.make();
    // A staging folder of a build that is gone (no such process).
    const stale = new URL('.tmp-999999999-abcdef/', root);
    await mkdir(stale);
    await writeFile(new URL('half-written.png', stale), 'x');
    const staging = new FigureStaging(root);
    const model = drawnModel('m', { 'grid.png': 'grid' });
    await staging.stage(model);
    expect(await readdir(root)).toEqual([(await staging.folder).pathname.split('/').at(-2)]);
    const out = await dirs.make();
    const target = new URL('_astro/conv1/', out);
    expect(await publishFigures(await staging.folder, target)).toBe(1);
    expect(await readdir(target)).toEqual(published(model));
    expect(await readdir(root)).toEqual([]);
  });
});
