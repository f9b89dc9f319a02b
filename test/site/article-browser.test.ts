import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAstro } from '../helpers/run.ts';
import { serveStatic } from '../helpers/static-server.ts';

/**
 * The real site, built from the real ResNet50 under a sub-path, opened in Debian's Chromium.
 * Screenshots of both articles in light and dark go to test-results/screenshots/.
 */
const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('test-results/site/', ROOT);
const SHOTS = new URL('test-results/screenshots/', ROOT);
const BASE = '/astro-conv1/';
let browser: Browser;
let site: Awaited<ReturnType<typeof serveStatic>>;

beforeAll(async () => {
  const build = await runAstro(['build', '--outDir', fileURLToPath(OUT)], { cwd: ROOT, env: { BASE } });
  if (build.code !== 0) throw new Error(`site build failed:\n${build.stdout}\n${build.stderr}`);
  site = await serveStatic(OUT, BASE);
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  site?.server.close();
});

async function open(path: string, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, colorScheme });
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('requestfailed', (request) => errors.push(`failed: ${request.url()}`));
  page.on('response', (response) => response.status() >= 400 && errors.push(`${response.status()}: ${response.url()}`));
  await page.goto(`${site.url}${path}`, { waitUntil: 'networkidle' });
  // Lazy images load only near the viewport: scroll them all in before checking them.
  for (const image of await page.locator('img').all()) await image.scrollIntoViewIfNeeded();
  await page.waitForLoadState('networkidle');
  return { page, errors };
}

describe.each(['ja', 'en'])('the %s article in Chromium', (lang) => {
  it('loads every figure without errors, with crisp pixels and alt text', async () => {
    const { page, errors } = await open(`${lang}/resnet50-conv1/`);
    expect(errors).toEqual([]);
    const images = await page.locator('img').evaluateAll((nodes) =>
      (nodes as HTMLImageElement[]).map((img) => ({ src: img.currentSrc, loaded: img.complete && img.naturalWidth > 0, alt: img.alt, rendering: getComputedStyle(img).imageRendering, pixels: img.classList.contains('pixels') })),
    );
    expect(images.length).toBeGreaterThanOrEqual(9);
    for (const image of images) {
      expect(image.loaded, image.src).toBe(true);
      expect(image.src.startsWith(site.url)).toBe(true);
      expect(image.alt.length, image.src).toBeGreaterThan(20);
      if (image.pixels) expect(image.rendering).toBe('pixelated');
    }
    const grid = page.locator('figure.conv1-grid img').first();
    expect(await grid.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([504, 504]);
    for (const scheme of ['light', 'dark'] as const) {
      const shot = scheme === 'light' ? page : (await open(`${lang}/resnet50-conv1/`, 'dark')).page;
      await shot.screenshot({ path: fileURLToPath(new URL(`${lang}-${scheme}.png`, SHOTS)), fullPage: true });
      if (shot !== page) await shot.close();
    }
    await page.close();
  });

  it('links to the other language and offers the exact 63×63 grid', async () => {
    const { page } = await open(`${lang}/resnet50-conv1/`);
    const other = lang === 'ja' ? 'en' : 'ja';
    await page.locator(`header nav a[hreflang="${other}"]`).click();
    await page.waitForURL(`${site.url}${other}/resnet50-conv1/`);
    expect(await page.locator('html').getAttribute('lang')).toBe(other);
    const href = await page.locator('figure.conv1-grid a[download]').first().getAttribute('href');
    const dimensions = await page.evaluate(async (url) => {
      const bitmap = await createImageBitmap(await (await fetch(url!)).blob());
      return [bitmap.width, bitmap.height];
    }, href);
    expect(dimensions).toEqual([63, 63]);
    await page.close();
  });
});

it('serves a home page that links both articles under the base path', async () => {
  const { page, errors } = await open('');
  expect(errors).toEqual([]);
  const links = await page.locator('main a').evaluateAll((nodes) => (nodes as HTMLAnchorElement[]).map((a) => new URL(a.href).pathname));
  expect(links.sort()).toEqual([`${BASE}en/resnet50-conv1/`, `${BASE}ja/resnet50-conv1/`]);
  await page.close();
});
