/**
 * A build killed at any moment (SIGKILL: no cleanup runs) must not break the next one. Each
 * scenario starts a build process (test/helpers/pipeline-process.ts: the integration's use of the
 * caches, without Astro) on empty caches, kills it at one moment, then runs it again: that run must
 * succeed, produce the figures of a clean run byte for byte, and leave no temporary folder behind.
 */
import { watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type LocalRegistry } from '../helpers/npm-registry.ts';
import type { PipelineProcessOptions } from '../helpers/pipeline-process.ts';
import { startNode, type RunningProcess } from '../helpers/run.ts';
import { leftoverTemporaries, readTree, smallModelPackage, writeTinyPhoto, type ModelPackage } from '../helpers/small-site.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';

const PROJECT = new URL('../../', import.meta.url);
const WORKER = fileURLToPath(new URL('../helpers/pipeline-process.ts', import.meta.url));

const dirs = new TempDirs();
let pkg: ModelPackage;
let fast: LocalRegistry;
/** Serves the tarball (about 4 MB with its padding) in 64 KiB pieces every 20 ms: over a second. */
let slow: LocalRegistry;
let photo: string;
let reference: Map<string, Buffer>;

interface Caches {
  figures: URL;
  packages: URL;
}

async function emptyCaches(): Promise<Caches> {
  const dir = await dirs.make('conv1-kill-');
  const caches = { figures: new URL('figures/', dir), packages: new URL('models/', dir) };
  await mkdir(caches.figures);
  await mkdir(caches.packages);
  return caches;
}

function build(caches: Caches, out: URL, registry: LocalRegistry): RunningProcess {
  const options: PipelineProcessOptions = { model: pkg.spec, figures: caches.figures.href, packages: caches.packages.href, out: out.href, photo, registry: registry.url };
  return startNode([WORKER, JSON.stringify(options)], { cwd: PROJECT });
}

/** Kills `run` as soon as an entry starting with ".tmp-" appears in `dir`; true if it did. */
function killOnTemporary(run: RunningProcess, dir: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const watcher = watch(dir, (_event, name) => {
      if (!name?.startsWith('.tmp-')) return;
      run.child.kill('SIGKILL');
      watcher.close();
      resolve(true);
    });
    void run.done.then(() => {
      watcher.close();
      resolve(false);
    });
  });
}

beforeAll(async () => {
  pkg = await smallModelPackage('conv1-kill-model', '1.0.0', 4 << 20);
  fast = await startRegistry([pkg]);
  slow = await startRegistry([pkg], { throttle: { chunkBytes: 64 << 10, delayMs: 20 } });
  const dir = await dirs.make();
  await writeTinyPhoto(new URL('photo.png', dir));
  photo = fileURLToPath(new URL('photo.png', dir));
  const out = new URL('reference/', dir);
  const clean = await build(await emptyCaches(), out, fast).done;
  expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  reference = await readTree(out);
});

afterAll(async () => {
  await Promise.all([fast?.close(), slow?.close()]);
  await dirs.cleanup();
});

describe('a build killed with SIGKILL', () => {
  it.each<[string, () => LocalRegistry, (run: RunningProcess, caches: Caches) => Promise<unknown>, (keyof Caches)?]>([
    ['during the npm download', () => slow, (run) => run.waitFor(/^progress \d+$/m).then(() => run.child.kill('SIGKILL'))],
    ['while unpacking the package', () => fast, (run, caches) => killOnTemporary(run, caches.packages), 'packages'],
    ['while rendering', () => fast, (run) => run.waitFor(/^phase render$/m).then(() => run.child.kill('SIGKILL'))],
    ['while convolving', () => fast, (run) => run.waitFor(/^phase convolve$/m).then(() => run.child.kill('SIGKILL'))],
    ['while writing the figure cache', () => fast, (run, caches) => killOnTemporary(run, caches.figures), 'figures'],
  ])('%s: the next build succeeds with correct figures and no temporary folders', async (_moment, registry, kill, leftBehind) => {
    const caches = await emptyCaches();
    const dir = await dirs.make('conv1-kill-out-');
    const killed = build(caches, new URL('killed/', dir), registry());
    await kill(killed, caches);
    const ended = await killed.done;
    expect(ended.signal, `the build was not killed:\n${ended.stdout}${ended.stderr}`).toBe('SIGKILL');
    // The kill landed mid-write: the half-written folder is there for the next build to deal with.
    if (leftBehind) expect(await leftoverTemporaries(caches[leftBehind])).toHaveLength(1);

    const out = new URL('next/', dir);
    const next = await build(caches, out, fast).done;
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^done fresh$/m);
    const files = await readTree(out);
    expect([...files.keys()]).toEqual([...reference.keys()]);
    for (const [name, bytes] of reference) expect(files.get(name)!.equals(bytes), name).toBe(true);
    expect(await leftoverTemporaries(caches.figures)).toEqual([]);
    expect(await leftoverTemporaries(caches.packages)).toEqual([]);

    // And the build after that reuses what the second one cached.
    const third = await build(caches, new URL('third/', dir), fast).done;
    expect(third.stdout).toMatch(/^done cached$/m);
  });
});
