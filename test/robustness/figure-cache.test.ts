/**
 * The figure cache must never hand back damaged figures: an entry whose files or manifest were
 * changed, cut short or removed is detected on read, rebuilt, and the rebuilt entry is used from
 * then on. Checked through runPipeline, against the files of a run without a cache.
 */
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figureCache, runPipeline, type PipelineOptions } from '../../src/lib/index.ts';
import { startNode } from '../helpers/run.ts';
import { leftoverTemporaries, writeSmallModel, writeTinyPhoto } from '../helpers/small-site.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
let options: Omit<PipelineOptions, 'cache'>;
let reference: Map<string, Uint8Array>;

beforeAll(async () => {
  const dir = await dirs.make();
  const model = await writeSmallModel(new URL('model/', dir));
  const photo = new URL('photo.png', dir);
  await writeTinyPhoto(photo);
  options = { model, photos: [{ src: fileURLToPath(photo), id: 'photo' }], photoWidth: 32, gridScale: 2, filterScale: 2, responses: [0, 1] };
  reference = (await runPipeline(options)).files;
});
afterAll(() => dirs.cleanup());

/** A cache holding one complete entry for `options`; returns the cache, its folder and the entry's folder. */
async function warmCache() {
  const dir = await dirs.make('conv1-figures-');
  const cache = figureCache(dir);
  const first = await runPipeline({ ...options, cache });
  expect(first.cached).toBe(false);
  const [key, ...others] = await readdir(dir);
  expect(others).toEqual([]);
  return { cache, dir, entry: new URL(`${key}/`, dir), key: key! };
}

function expectReference(files: Map<string, Uint8Array>): void {
  expect([...files.keys()].sort()).toEqual([...reference.keys()].sort());
  for (const [name, bytes] of reference) expect(Buffer.from(files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
}

const FIGURE = 'grid-column-filter.png';
const manifest = (entry: URL) => new URL('manifest.json', entry);
async function editManifest(entry: URL, edit: (json: Record<string, any>) => unknown): Promise<void> {
  const json = JSON.parse(await readFile(manifest(entry), 'utf8'));
  await writeFile(manifest(entry), JSON.stringify(edit(json) ?? json));
}

describe('the figure cache', () => {
  it('is used when intact: the same files as a run without cache', async () => {
    const { cache } = await warmCache();
    const again = await runPipeline({ ...options, cache });
    expect(again.cached).toBe(true);
    expectReference(again.files);
  });

  it.each<[string, (entry: URL, key: string) => Promise<unknown>]>([
    ['a flipped byte in a figure', async (entry) => {
      const bytes = await readFile(new URL(FIGURE, entry));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      await writeFile(new URL(FIGURE, entry), bytes);
    }],
    ['a truncated figure', (entry) => truncate(fileURLToPath(new URL(FIGURE, entry)), 10)],
    ['an empty figure', (entry) => truncate(fileURLToPath(new URL('kernel-hwio.f32', entry)), 0)],
    ['a deleted figure', (entry) => rm(new URL('response-photo-00.webp', entry))],
    ['a figure replaced by a folder', async (entry) => {
      await rm(new URL(FIGURE, entry));
      await mkdir(new URL(FIGURE, entry));
    }],
    ['a deleted manifest', (entry) => rm(manifest(entry))],
    ['a truncated manifest', async (entry) => truncate(fileURLToPath(manifest(entry)), Math.floor((await readFile(manifest(entry))).length / 2))],
    ['a manifest that is not UTF-8', (entry) => writeFile(manifest(entry), Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d))],
    ['a manifest that is JSON null', (entry) => writeFile(manifest(entry), 'null')],
    ['a manifest without its file list', (entry) => editManifest(entry, (json) => ({ data: json.data }))],
    ['a manifest whose file list is not an object', (entry) => editManifest(entry, (json) => ({ ...json, files: 'everything' }))],
    ['a manifest that no longer lists a figure the data refers to', (entry) => editManifest(entry, (json) => void delete json.files[FIGURE])],
    ['a manifest with a changed number in its data', (entry) => editManifest(entry, (json) => void (json.data.filters[0].max += 1))],
    ['a manifest naming a file outside the entry', (entry) => editManifest(entry, (json) => void (json.files['../../../etc/hostname'] = { size: 1, sha256: 'x' }))],
    ['a manifest for another key', (entry) => editManifest(entry, (json) => void (json.data.key = '0'.repeat(32)))],
    ['an entry that is a file', async (entry) => {
      await rm(entry, { recursive: true });
      await writeFile(fileURLToPath(entry).replace(/\/$/, ''), 'not a folder');
    }],
  ])('%s is detected and rebuilt, never used', async (_label, damage) => {
    const { cache, dir, entry, key } = await warmCache();
    await damage(entry, key);
    const rebuilt = await runPipeline({ ...options, cache });
    expect(rebuilt.cached).toBe(false);
    expectReference(rebuilt.files);
    // The rebuilt entry is whole again and used from now on.
    const after = await runPipeline({ ...options, cache });
    expect(after.cached).toBe(true);
    expectReference(after.files);
    expect(await readdir(dir)).toEqual([key]);
    expect(await leftoverTemporaries(dir)).toEqual([]);
  });
});

describe('a sweep by another build', () => {
  it('removes only what killed builds left, never an entry being written', async () => {
    const dir = await dirs.make('conv1-figures-');
    const { data, files } = await runPipeline(options);
    // Left by a build that is gone: an old-style name, and one whose process cannot exist.
    await mkdir(new URL('.tmp-0123456789ab/', dir));
    await mkdir(new URL(`.tmp-${2 ** 22 + 1}-0123456789ab/`, dir));
    // Another process sweeps the same folder over and over while this one writes entries.
    const cacheModule = new URL('../../src/lib/cache.ts', import.meta.url).href;
    const sweeper = startNode(
      ['--input-type=module', '-e', `const { figureCache } = await import(${JSON.stringify(cacheModule)}); const cache = figureCache(new URL(process.argv[1])); console.log('sweeping'); for (;;) await cache.sweep();`, dir.href],
      { cwd: dir },
    );
    try {
      await sweeper.waitFor(/^sweeping$/m);
      const cache = figureCache(dir);
      for (let i = 0; i < 20; i++) await cache.put({ data: { ...data, key: `entry-${i}` }, files });
      for (let i = 0; i < 20; i++) expect(await cache.get(`entry-${i}`), `entry-${i}`).toBeDefined();
    } finally {
      sweeper.child.kill('SIGKILL');
      await sweeper.done;
    }
    expect(await leftoverTemporaries(dir)).toEqual([]);
  });
});
