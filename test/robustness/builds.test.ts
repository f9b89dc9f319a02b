/**
 * Whole Astro builds of one small site (an npm model from a local registry, one photo): two at
 * once on one cache must both succeed with the same output, and two on separate, empty caches
 * must produce byte-identical sites.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type LocalRegistry } from '../helpers/npm-registry.ts';
import { runAstro, type RunResult } from '../helpers/run.ts';
import { leftoverTemporaries, readTree, smallModelPackage, writeSite, writeTinyPhoto } from '../helpers/small-site.ts';

const fixtures = new URL('./', import.meta.url);
let root: URL;
let registry: LocalRegistry;

/** Writes the site at root/<name>/ with Astro's cacheDir at `cacheDir` (relative to that site). */
async function site(name: string, cacheDir: string, spec: string): Promise<URL> {
  const at = new URL(`${name}/`, root);
  await writeSite(at, `{ model: ${JSON.stringify(spec)}, registry: ${JSON.stringify(registry.url)}, photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 48, responses: [0, 1], largeResponses: [1] }`, cacheDir);
  await copyFile(new URL('photo.png', root), new URL('photo.png', at));
  return at;
}

function expectBuilt(run: RunResult): void {
  expect(run.code, run.stdout + run.stderr).toBe(0);
}

function expectSameTree(a: Map<string, Buffer>, b: Map<string, Buffer>): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), name).toBe(true);
}

let spec: string;
let separate: { a: URL; b: URL };
let shared: { c: URL; d: URL };

beforeAll(async () => {
  root = new URL(`${(await mkdtemp(fileURLToPath(new URL('.fixture-builds-', fixtures)))).split('/').pop()}/`, fixtures);
  // A megabyte of padding, so that two builds downloading at once overlap.
  const pkg = await smallModelPackage('conv1-site-model', '1.0.0', 1 << 20);
  registry = await startRegistry([pkg]);
  spec = pkg.spec;
  await writeTinyPhoto(new URL('photo.png', root));
  separate = { a: await site('a', './.cache/', spec), b: await site('b', './.cache/', spec) };
  shared = { c: await site('c', '../shared-cache/', spec), d: await site('d', '../shared-cache/', spec) };
});

afterAll(async () => {
  await registry?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('builds', () => {
  it('from the same inputs with separate, empty caches are byte-identical', async () => {
    const [a, b] = await Promise.all([runAstro(['build'], { cwd: separate.a }), runAstro(['build'], { cwd: separate.b })]);
    expectBuilt(a);
    expectBuilt(b);
    expect(a.stdout).toMatch(/figures rendered/);
    const [treeA, treeB] = await Promise.all([readTree(new URL('dist/', separate.a)), readTree(new URL('dist/', separate.b))]);
    expect([...treeA.keys()].filter((name) => name.startsWith('_astro/conv1/')).length).toBeGreaterThan(40);
    expectSameTree(treeA, treeB);
  });

  it('at the same time on one cache both succeed, with identical output, and leave one clean cache', async () => {
    const [c, d] = await Promise.all([runAstro(['build'], { cwd: shared.c }), runAstro(['build'], { cwd: shared.d })]);
    expectBuilt(c);
    expectBuilt(d);
    const [treeC, treeD, treeA] = await Promise.all([readTree(new URL('dist/', shared.c)), readTree(new URL('dist/', shared.d)), readTree(new URL('dist/', separate.a))]);
    expectSameTree(treeC, treeD);
    expectSameTree(treeA, treeC);
    const cache = new URL('shared-cache/conv1/', root);
    expect([...(await readTree(new URL('figures/', cache))).keys()].filter((name) => name.endsWith('manifest.json'))).toHaveLength(1);
    expect([...(await readTree(new URL('models/', cache))).keys()].filter((name) => name.endsWith('.conv1-integrity'))).toHaveLength(1);
    expect(await leftoverTemporaries(cache)).toEqual([]);
  });
});
