import { mkdir, readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strings } from '../../src/components/i18n.ts';
import { analyseLayer, type VerdictKind } from '../../src/lib/analyse/index.ts';
import { readModel } from '../../src/lib/read-kernel.ts';
import { buildAndServeSite, launchChromium, openPage, type Opened, horizontalOverflow, seriousAxeViolations } from '../helpers/browser.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';
import type { serveStatic } from '../helpers/static-server.ts';

/**
 * The real site's gallery in Chromium: every model of the package and ResNet50 as an entry, sorting
 * and filtering with and without JavaScript, a deep link to one model and its page of enlarged
 * filters, the home page as the entrance, accessibility (axe), and pages that fit a phone.
 * Screenshots at 390 and 1280 px, light and dark, in both languages, go to
 * test-results/screenshots/gallery-*.png and home-*.png.
 */
const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('test-results/gallery-site/', ROOT);
const SHOTS = new URL('test-results/screenshots/', ROOT);
const BASE = '/astro-conv1/';
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const en = strings.en.gallery;
const VERDICT_ORDER: VerdictKind[] = ['trained-looking', 'few-edges', 'partly-noisy', 'noisy', 'dead', 'too-small'];

/** Each model of the gallery as read and analysed here, from the files, by the name the site gives it. */
interface Expected {
  name: string;
  kernel: string;
  filters: number;
  verdict: VerdictKind;
  noise: number | null;
}
let expected: Expected[];
let browser: Browser;
let site: Awaited<ReturnType<typeof serveStatic>>;

beforeAll(async () => {
  ({ site } = await buildAndServeSite(OUT, BASE));
  const config = await readFile(new URL('astro.config.mjs', ROOT), 'utf8');
  const folder = new URL(`${/const HUMAN_MODELS = 'npm:([^']+)'/.exec(config)![1]!.replace('/', '+')}/models/`, PACKAGE_CACHE);
  const files = (await readdir(folder)).filter((file) => file.endsWith('.json'));
  const sources = [{ name: 'default', model: DEFAULT_MODEL as string | URL }, ...files.map((file) => ({ name: file.replace(/\.json$/, ''), model: new URL(file, folder) }))];
  expected = await Promise.all(
    sources.map(async ({ name, model }) => {
      const { kernel } = await readModel(model, { packageCache: PACKAGE_CACHE });
      const report = analyseLayer(kernel);
      return { name, kernel: `${kernel.shape[0]}x${kernel.shape[1]}`, filters: kernel.shape[3], verdict: report.verdict.kind, noise: report.noise?.median ?? null };
    }),
  );
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  site?.server.close();
});

function open(path: string, options: BrowserContextOptions = DESKTOP): Promise<Opened> {
  return openPage(browser, `${site.url}${path}`, options);
}

async function close({ page }: Opened): Promise<void> {
  await page.context().close();
}

/** The entries a reader sees, in the order the eye reads the grid: row by row, left to right. */
async function visibleOrder(page: Page): Promise<string[]> {
  return page.locator('.conv1-gallery .entries > li').evaluateAll((items) =>
    items
      .map((item) => ({ id: item.id, box: item.getBoundingClientRect() }))
      .filter(({ box }) => box.width > 0)
      .sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left)
      .map(({ id }) => id),
  );
}

async function documentOrder(page: Page): Promise<string[]> {
  return page.locator('.conv1-gallery .entries > li').evaluateAll((items) => items.filter((item) => item.getBoundingClientRect().width > 0).map((item) => item.id));
}

/**
 * The text of an element as Chromium's accessibility tree has it, CSS-generated content included:
 * the gallery's count is a CSS counter, which the DOM's text does not hold.
 */
async function spokenText(page: Page, selector: string): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    const { node } = await cdp.send('DOM.describeNode', { nodeId });
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const text = (n: (typeof nodes)[number]): string =>
      n.role?.value === 'StaticText' ? String(n.name?.value ?? '') : (n.childIds ?? []).map((id) => byId.get(id)).map((child) => (child ? text(child) : '')).join('');
    return text(nodes.find((n) => n.backendDOMNodeId === node.backendNodeId)!);
  } finally {
    await cdp.detach();
  }
}

const byName = (name: string) => expected.find((model) => model.name === name)!;
const pixels = (kernel: string) => kernel.split('x').map(Number).reduce((a, b) => a * b);
const isSorted = (values: number[]) => values.every((value, i) => i === 0 || values[i - 1]! <= value);

describe('the gallery', () => {
  it('shows every model of the package and ResNet50, each with its kernel, verdict and median noise as measured', async () => {
    const opened = await open('en/gallery/');
    const { page } = opened;
    const entries = await page.locator('.conv1-gallery .entries > li').evaluateAll((items) =>
      items.map((item) => ({
        id: item.id,
        kernel: item.getAttribute('data-kernel'),
        verdict: item.getAttribute('data-verdict'),
        noise: item.querySelector('dd.noise')!.textContent!,
      })),
    );
    expect(entries.map((entry) => entry.id).sort()).toEqual(expected.map((model) => model.name).sort());
    for (const entry of entries) {
      const model = byName(entry.id);
      expect([entry.kernel, entry.verdict], entry.id).toEqual([model.kernel, model.verdict]);
      expect(entry.noise, entry.id).toEqual(model.noise === null ? expect.stringMatching(/^—, too small/) : model.noise.toFixed(3));
    }
    expect(await page.locator('.conv1-gallery .failed').count()).toBe(0);
    expect(await spokenText(page, '.count')).toBe(`${expected.length}${en.shown(expected.length)[1]}`);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('draws each grid at a whole number of CSS pixels per weight, never smoothed', async () => {
    const opened = await open('en/gallery/');
    const { page } = opened;
    for (const image of await page.locator('.conv1-gallery img.grid').all()) await image.scrollIntoViewIfNeeded();
    await page.waitForLoadState('networkidle');
    const grids = await page.locator('.conv1-gallery img.grid').evaluateAll((images) =>
      (images as HTMLImageElement[]).map((img) => ({ ratio: img.getBoundingClientRect().width / img.naturalWidth, loaded: img.naturalWidth > 0, rendering: getComputedStyle(img).imageRendering })),
    );
    expect(grids).toHaveLength(expected.length);
    for (const grid of grids) {
      expect(grid.loaded).toBe(true);
      expect(grid.rendering).toBe('pixelated');
      expect(grid.ratio).toBeGreaterThanOrEqual(1);
      expect(Math.abs(grid.ratio - Math.round(grid.ratio))).toBeLessThan(0.01);
    }
    await close(opened);
  });

  describe.each([true, false])('with JavaScript %s', (javaScriptEnabled) => {
    it('sorts by kernel size, verdict, noise and number of filters', async () => {
      const opened = await open('en/gallery/', { ...DESKTOP, javaScriptEnabled });
      const { page } = opened;
      const configured = await visibleOrder(page);
      const checks: [string, (name: string) => number][] = [
        ['kernel', (name) => -pixels(byName(name).kernel)],
        ['verdict', (name) => VERDICT_ORDER.indexOf(byName(name).verdict)],
        ['noise', (name) => byName(name).noise ?? Infinity],
        ['filters', (name) => -byName(name).filters],
      ];
      for (const [sort, key] of checks) {
        await page.getByRole('radio', { name: en.sorts[sort as keyof typeof en.sorts], exact: true }).check();
        const order = await visibleOrder(page);
        expect(order, sort).not.toEqual(configured);
        expect(isSorted(order.map(key)), `${sort}: ${order.join(' ')}`).toBe(true);
        // Ties keep the configured order.
        for (let i = 1; i < order.length; i++)
          if (key(order[i - 1]!) === key(order[i]!)) expect(configured.indexOf(order[i - 1]!), sort).toBeLessThan(configured.indexOf(order[i]!));
        // With the script, the keyboard visits the entries in the order they are seen.
        if (javaScriptEnabled) expect(await documentOrder(page), sort).toEqual(order);
      }
      await page.getByRole('radio', { name: en.sorts.configured, exact: true }).check();
      expect(await visibleOrder(page)).toEqual(configured);
      await close(opened);
    });

    it('filters by kernel size and by verdict, counts what it shows, and says when nothing matches', async () => {
      const opened = await open('en/gallery/', { ...DESKTOP, javaScriptEnabled });
      const { page } = opened;
      const kernels = page.getByRole('group', { name: en.kernel });
      const verdicts = page.getByRole('group', { name: en.verdict });
      const names = (pick: (model: Expected) => boolean) => expected.filter(pick).map((model) => model.name).sort();
      for (const kernel of new Set(expected.map((model) => model.kernel))) {
        await kernels.getByRole('radio', { name: new RegExp(`^${kernel.replace('x', '×')} \\(`) }).check();
        expect((await visibleOrder(page)).sort(), kernel).toEqual(names((model) => model.kernel === kernel));
        expect(await spokenText(page, '.count')).toBe(`${names((model) => model.kernel === kernel).length}${en.shown(expected.length)[1]}`);
      }
      await kernels.getByRole('radio', { name: /^all/ }).check();
      await verdicts.getByRole('radio', { name: new RegExp(`^${en.verdicts['trained-looking']} \\(`) }).check();
      expect((await visibleOrder(page)).sort()).toEqual(names((model) => model.verdict === 'trained-looking'));
      expect(await page.locator('.conv1-gallery .none').isVisible()).toBe(false);
      // Both filters at once: 7×7 and too small to judge never meet (a 7×7 filter is large enough to judge).
      await kernels.getByRole('radio', { name: /^7×7 \(/ }).check();
      await verdicts.getByRole('radio', { name: new RegExp(`^${en.verdicts['too-small']} \\(`) }).check();
      expect(await visibleOrder(page)).toEqual([]);
      expect(await page.locator('.conv1-gallery .none').isVisible()).toBe(true);
      expect(await spokenText(page, '.count')).toBe(`0${en.shown(expected.length)[1]}`);
      await close(opened);
    });
  });

  it('opens at one model’s address, marked, with a link to its enlarged filters and back', async () => {
    const opened = await open('en/gallery/#movenet-lightning');
    const { page } = opened;
    const entry = page.locator('#movenet-lightning');
    expect(await entry.evaluate((element) => element.matches(':target'))).toBe(true);
    expect(await entry.isVisible()).toBe(true);
    expect(await entry.evaluate((element) => getComputedStyle(element).outlineStyle)).toBe('solid');
    const box = (await entry.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeLessThan(900);
    // A filtered-out entry still shows when its address is opened.
    await page.getByRole('group', { name: en.kernel }).getByRole('radio', { name: /^7×7 \(/ }).check();
    expect(await entry.isVisible()).toBe(true);

    await entry.getByRole('link', { name: 'MoveNet Lightning' }).click();
    await page.waitForURL(/\/en\/gallery\/movenet-lightning\/$/);
    await page.waitForLoadState('networkidle');
    expect(await page.locator('h1').innerText()).toBe('The first layer of MoveNet Lightning');
    expect(await page.locator('.conv1-explorer a.tile').count()).toBe(byName('movenet-lightning').filters);
    expect(await page.locator('.conv1-explorer .responses').count()).toBe(0);
    await page.locator('.conv1-explorer a.tile').nth(3).click();
    const panel = page.locator('#movenet-lightning-filter-3');
    expect(await panel.isVisible()).toBe(true);
    const enlarged = await panel.locator('img.mode-filter').evaluate((img: HTMLImageElement) => ({ shown: img.getBoundingClientRect().width, natural: img.naturalWidth }));
    expect(enlarged.shown).toBeGreaterThanOrEqual(enlarged.natural / 2);
    expect(enlarged.natural).toBeGreaterThan(3 * 8);
    await page.getByRole('link', { name: /Back to the gallery/ }).click();
    await page.waitForURL(/\/en\/gallery\/#movenet-lightning$/);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });
});

describe('the home page', () => {
  it('introduces the site in both languages and links every article and the gallery', async () => {
    const opened = await open('');
    const { page } = opened;
    const articles = (await readdir(new URL('content/en/', ROOT))).filter((file) => file.endsWith('.mdx')).map((file) => file.replace(/\.mdx$/, ''));
    const links = await page.locator('main a').evaluateAll((nodes) => (nodes as HTMLAnchorElement[]).map((a) => new URL(a.href).pathname));
    expect(links.sort()).toEqual(['ja', 'en'].flatMap((lang) => [...articles.map((slug) => `${lang}/${slug}/`), `${lang}/gallery/`]).map((path) => `${BASE}${path}`).sort());
    expect(await page.locator('section[lang="ja"] p').first().innerText()).toMatch(/最初の層/);
    expect(await page.locator('section[lang="en"] p').first().innerText()).toMatch(/first layer/);
    const hero = await page.locator('.hero img').evaluate((img: HTMLImageElement) => ({ loaded: img.naturalWidth > 0, rendering: getComputedStyle(img).imageRendering }));
    expect(hero).toEqual({ loaded: true, rendering: 'pixelated' });
    expect(await page.locator('section[lang="en"] .gallery').innerText()).toContain(`The first layers of ${expected.length} models`);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });
});

describe.each(['en', 'ja'] as const)('%s: a phone and a wide screen, light and dark', (lang) => {
  const pages = [
    ['gallery', `${lang}/gallery/`],
    ['model', `${lang}/gallery/movenet-lightning/`],
    ['home', ''],
  ] as const;

  it('fits 390 px without sideways scrolling; screenshots at 390 and 1280 px', async () => {
    for (const [name, path] of pages)
      for (const [width, options] of [['390', PHONE], ['1280', DESKTOP]] as const)
        for (const colorScheme of ['light', 'dark'] as const) {
          if (name === 'home' && lang === 'en') continue;
          const opened = await open(path, { ...options, colorScheme });
          const { page } = opened;
          const measured = await horizontalOverflow(page);
          expect(measured.wide, `${path} ${width} ${colorScheme}`).toEqual([]);
          expect(measured.scrollWidth, `${path} ${width} ${colorScheme}`).toBeLessThanOrEqual(measured.width);
          for (const image of await page.locator('main img:visible').all()) await image.scrollIntoViewIfNeeded();
          await page.waitForLoadState('networkidle');
          await page.evaluate(() => window.scrollTo(0, 0));
          const file = name === 'home' ? `home-${width}-${colorScheme}.png` : `gallery-${name}-${lang}-${width}-${colorScheme}.png`;
          await page.screenshot({ path: fileURLToPath(new URL(file, SHOTS)), fullPage: true });
          expect(opened.errors).toEqual([]);
          await close(opened);
        }
  });

  it('has no serious or critical accessibility violations (axe-core), light and dark', async () => {
    for (const [, path] of pages)
      for (const colorScheme of ['light', 'dark'] as const) {
        const opened = await open(path, { ...DESKTOP, colorScheme });
        const violations = await seriousAxeViolations(opened.page);
        expect(violations, `${path} ${colorScheme}`).toEqual([]);
        await close(opened);
      }
  });

  it('speaks the page’s language', async () => {
    const opened = await open(`${lang}/gallery/`);
    const { page } = opened;
    const t = strings[lang].gallery;
    expect(await page.locator('html').getAttribute('lang')).toBe(lang);
    expect(await page.getByRole('group', { name: t.sort }).isVisible()).toBe(true);
    expect(await page.locator('.conv1-gallery caption').innerText()).toBe(t.byKernel);
    if (lang === 'ja') expect(await page.locator('.conv1-gallery').innerText()).not.toMatch(/\b(kernel|stride|verdict|families|shown|filters?)\b/i);
    await close(opened);
  });
});
