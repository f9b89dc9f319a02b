import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKernel, renderGrid } from '../../src/lib/index.ts';
import { runAstro, type RunResult } from '../helpers/run.ts';
import { writeSmallModel, writeTinyPhoto } from '../helpers/small-site.ts';
import { conv2dLayer, convWeights, inputLayer, writeTfjsModel } from '../helpers/tfjs-fixture.ts';

/**
 * A site with two models, as a user writes it: `import conv1 from 'astro-conv1'` (the compiled
 * package, by its own name), components in MDX without an import line and from
 * 'astro-conv1/components' in an .astro page, `model="second"` on the components. Each model's
 * figures are computed once and cached on their own; two explorers on one page keep apart.
 */
const fixtures = new URL('./', import.meta.url);
let root: URL;
let build: RunResult;

const DEFAULT_ONLY = `{ model: './default/model.json', photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 48 }`;
const TWO_MODELS = `{ model: './default/model.json', photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 48, models: { second: { model: './second/model.json', channels: 'bgr', gridScale: 4 } } }`;

async function writeConfig(options: string): Promise<void> {
  await writeFile(
    new URL('astro.config.mjs', root),
    `import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import conv1 from 'astro-conv1';
export default defineConfig({ cacheDir: './.cache/', integrations: [mdx(), conv1(${options})] });
`,
  );
}

async function page(path: string): Promise<string> {
  return readFile(new URL(`dist/${path}`, root), 'utf8');
}

function ids(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]!);
}

beforeAll(async () => {
  root = new URL(`${await mkdtemp(fileURLToPath(new URL('.fixture-models-', fixtures)))}/`, 'file:');
  await writeSmallModel(new URL('default/', root), 7);
  // Another shape altogether: 16 filters of 5×5, in a layer that is not called conv1.
  await writeTfjsModel(new URL('second/', root), {
    layers: [inputLayer('pixels'), conv2dLayer('stem', 'pixels', [5, 5], 16, [2, 2])],
    inputLayers: ['pixels'],
    weights: convWeights('stem', [5, 5], 3, 16, 21),
    shardBytes: 4096,
  });
  await writeTinyPhoto(new URL('photo.png', root));
  await mkdir(new URL('src/pages/', root), { recursive: true });
  await writeFile(new URL('src/pages/first.mdx', root), '# One model\n\n<Conv1Grid />\n\n<Conv1Filter index={2} />\n');
  await writeConfig(DEFAULT_ONLY);
  const first = await runAstro(['build'], { cwd: root });
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(first.stdout).toMatch(/conv1 3×3×3×8 from \.\/default\/model\.json .* rendered/);

  await writeFile(
    new URL('src/pages/both.mdx', root),
    '# Two models\n\n<Conv1Grid model="second" />\n\n<Conv1Explorer />\n\n<Conv1Explorer model="second" />\n\n<Conv1Compare model="second" />\n',
  );
  await writeFile(
    new URL('src/pages/astro-page.astro', root),
    `---
import { Conv1Grid, Conv1ModelInfo } from 'astro-conv1/components';
---
<html lang="ja"><body><Conv1ModelInfo model="second" /><Conv1Grid model="second" lang="ja" /></body></html>
`,
  );
  await writeConfig(TWO_MODELS);
  build = await runAstro(['build'], { cwd: root });
  expect(build.code, build.stdout + build.stderr).toBe(0);
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a site with two models', () => {
  it('computes only the added model; the first comes from its cache entry', () => {
    expect(build.stdout).toMatch(/conv1 3×3×3×8 from \.\/default\/model\.json .* from cache/);
    expect(build.stdout).toMatch(/second: stem 5×5×3×16 from \.\/second\/model\.json \(BGR, option; .* rendered/);
    expect(build.stdout + build.stderr).not.toMatch(/\[WARN\]|warning/i);
  });

  it('draws each model on the pages that name it, with the exact grid of each', async () => {
    const both = await page('both/index.html');
    const grid = both.match(/href="\/(_astro\/conv1\/grid-column-filter\.[\w-]+\.png)"/)![1]!;
    const pixels = await sharp(await readFile(new URL(`dist/${grid}`, root))).raw().toBuffer();
    const second = await readKernel(new URL('second/model.json', root), { channels: 'bgr' });
    expect(pixels.equals(Buffer.from(renderGrid(second).data))).toBe(true);
    expect(both).toContain('Grid of the 16 stem filters, 5×5 each');
    const first = await page('first/index.html');
    expect(first).toContain('Grid of the 8 conv1 filters, 3×3 each');
    expect(first).toContain('channels shown as RGB');
    expect(both).toContain('channels turned from BGR to RGB');
  });

  it('keeps two explorers on one page apart: unique ids, their own panels, radio groups and kernels', async () => {
    const both = await page('both/index.html');
    const all = ids(both);
    expect(all.length).toBeGreaterThan(24 * 2);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(['explorer', 'filter-7', 'second-explorer', 'second-filter-15']));
    expect(all).not.toContain('filter-8');
    expect(both).toContain('href="#second-filter-3"');
    expect(new Set([...both.matchAll(/type="radio" name="([^"]+)"/g)].map((m) => m[1]))).toEqual(new Set(['conv1-normalize', 'conv1-sort', 'second-conv1-normalize', 'second-conv1-sort']));
    expect(new Set([...both.matchAll(/data-kernel="([^"]+)"/g)].map((m) => m[1])).size).toBe(2);
  });

  it('serves explicit imports from astro-conv1/components in .astro pages, in the language asked for', async () => {
    const html = await page('astro-page/index.html');
    expect(html).toContain('<code>stem</code>');
    expect(html).toContain('stem の 16 個のフィルタ');
    // The table has no lang prop and the site no i18n: English.
    expect(html).toContain('Kernel shape');
  });

  it('declares virtual:conv1 for the site, with the configured model names', async () => {
    const types = await readFile(new URL('.astro/integrations/astro-conv1/virtual-conv1.d.ts', root), 'utf8');
    expect(types).toContain("declare module 'virtual:conv1'");
    expect(types).toContain('export type ModelName = "default" | "second";');
    expect(types).toContain("import('astro-conv1/lib').Conv1Data");
    expect(await readFile(new URL('.astro/types.d.ts', root), 'utf8')).toContain('integrations/astro-conv1/virtual-conv1.d.ts');
  });

  it('names the configured models when a component asks for another', async () => {
    await writeFile(new URL('src/pages/typo.mdx', root), '<Conv1Grid model="secnd" />\n');
    try {
      const run = await runAstro(['build'], { cwd: root });
      expect(run.code).not.toBe(0);
      expect(run.stdout + run.stderr).toMatch(/no model named "secnd" \(configured: default, second\)/);
    } finally {
      await rm(new URL('src/pages/typo.mdx', root));
    }
  });

  it('leaves MDX alone when autoImport is off: a component without an import is MDX’s error', async () => {
    await writeConfig(TWO_MODELS.replace(/^\{/, '{ autoImport: false,'));
    try {
      const run = await runAstro(['build'], { cwd: root });
      expect(run.code).not.toBe(0);
      expect(run.stdout + run.stderr).toMatch(/Conv1Grid/);
    } finally {
      await writeConfig(TWO_MODELS);
    }
  });
});
