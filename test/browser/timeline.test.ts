import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatWeight, strings } from '../../src/components/i18n.ts';
import { analyseLayer } from '../../src/lib/analyse/index.ts';
import { NOISY_FILTER_SCORE, TRAINED_MEDIAN_NOISE } from '../../src/lib/analyse/thresholds.ts';
import { gridLayout, renderGrid } from '../../src/lib/render/grid.ts';
import { launchChromium, openPage, type Opened, horizontalOverflow, seriousAxeViolations } from '../helpers/browser.ts';
import { runAstro, type RunResult } from '../helpers/run.ts';
import { writeTinyPhoto } from '../helpers/small-site.ts';
import { serveStatic } from '../helpers/static-server.ts';
import { testKernel } from '../helpers/test-kernel.ts';
import { RUN_SHAPE, RUN_STEPS, runWeights, writeComponentSite, writeTrainingRun } from '../helpers/timeline-site.ts';

/**
 * <Conv1Timeline /> in Chromium, on a site built from a training run of five safetensors
 * checkpoints: the step control, the strip without JavaScript, one filter across every step, the
 * colour-scale switch, both languages, a phone's width, accessibility. Screenshots at 1280 and
 * 390 px, light and dark, go to test-results/screenshots/timeline-*.png.
 */
const ROOT = new URL('../../', import.meta.url);
const SHOTS = new URL('test-results/screenshots/', ROOT);
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const GRID_SCALE = 8;
const OPTIONS = `{
  checkpoints: './run/',
  photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 48, responses: [0],
  models: {
    short: { checkpoints: ['./run/ckpt-0.safetensors', { step: 7000, model: './run/ckpt-5000.safetensors' }] },
    plain: { model: './run/ckpt-0.safetensors' },
  },
}`;
const en = strings.en.timeline;
const ja = strings.ja.timeline;

let root: URL;
let build: RunResult;
let browser: Browser;
let site: Awaited<ReturnType<typeof serveStatic>>;

/** What the analysis says of each checkpoint, computed here from the weights the test wrote. */
const reports = RUN_STEPS.map((_, i) => analyseLayer(testKernel(runWeights(i), RUN_SHAPE)));
const kinds = reports.map((report) => report.verdict.kind);
const LAST = RUN_STEPS.length - 1;

beforeAll(async () => {
  const results = new URL('test-results/', ROOT);
  await mkdir(results, { recursive: true });
  // Inside the repository, so the site finds astro and the components' dependencies.
  root = new URL(`${await mkdtemp(fileURLToPath(new URL('.timeline-site-', results)))}/`, 'file:');
  await writeTrainingRun(new URL('run/', root));
  await writeTinyPhoto(new URL('photo.png', root));
  await writeComponentSite(root, OPTIONS, [
    { path: 'en', lang: 'en', body: '<Conv1Timeline />' },
    { path: 'ja', lang: 'ja', body: '<Conv1Timeline lang="ja" />' },
    { path: 'two', lang: 'en', body: '<Conv1Timeline />\n<Conv1Timeline model="short" />' },
  ]);
  build = await runAstro(['build'], { cwd: root });
  expect(build.code, build.stdout + build.stderr).toBe(0);
  site = await serveStatic(new URL('dist/', root), '/');
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  site?.server.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function open(path: string, options: BrowserContextOptions = DESKTOP): Promise<Opened> {
  return openPage(browser, `${site.url}${path}`, options);
}

async function close({ page }: Opened): Promise<void> {
  await page.context().close();
}

/** The weights of a grid as the page shows them: the enlarged PNG at `url`, one pixel per weight. */
async function gridPixels(url: string): Promise<{ data: Buffer; width: number }> {
  const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const width = info.width / GRID_SCALE;
  const raw = Buffer.alloc(width * (info.height / GRID_SCALE) * 3);
  for (let y = 0; y < info.height / GRID_SCALE; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = data[((y * GRID_SCALE + GRID_SCALE / 2) * info.width + x * GRID_SCALE + GRID_SCALE / 2) * 3 + c]!;
  return { data: raw, width };
}

/** The one grid image a reader sees in the strip (there must be exactly one). */
async function shownGrid(page: Page): Promise<Locator> {
  const visible = page.locator('.conv1-timeline .strip img:visible');
  expect(await visible.count()).toBe(1);
  return visible;
}

async function currentSrc(image: Locator): Promise<string> {
  await image.scrollIntoViewIfNeeded();
  return image.evaluate(async (img: HTMLImageElement) => {
    await img.decode();
    return img.currentSrc;
  });
}

/**
 * Whether each tile of a filter's row shows that filter as the grid at `urls[i]` has it: the centre
 * of every weight in a screenshot of the tile against the grid's own pixel.
 */
async function expectTilesShow(tiles: Locator, filter: number, urls: string[]): Promise<void> {
  const [kh, kw] = RUN_SHAPE;
  const cell = gridLayout({ shape: RUN_SHAPE }, 'column').cells[filter]!;
  expect(await tiles.count()).toBe(urls.length);
  for (const [i, url] of urls.entries()) {
    const grid = await gridPixels(url);
    const tile = tiles.nth(i);
    await tile.scrollIntoViewIfNeeded();
    const { data, info } = await sharp(await tile.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) {
        const shot = ((Math.floor(((y + 0.5) * info.height) / kh) * info.width + Math.floor(((x + 0.5) * info.width) / kw)) * 3);
        const source = ((cell.y + y) * grid.width + cell.x + x) * 3;
        for (let c = 0; c < 3; c++) expect(Math.abs(data[shot + c]! - grid.data[source + c]!), `step ${RUN_STEPS[i]} weight ${x},${y}`).toBeLessThanOrEqual(3);
      }
  }
}

describe('the build', () => {
  it('measures every checkpoint of the run; the run flips from noisy to trained-looking', () => {
    expect(build.stdout).toMatch(/5 checkpoints, steps 0–5000/);
    // The fixture is only a test of the flip marks if the verdict really changes.
    expect(kinds[0]).toBe('noisy');
    expect(kinds[LAST]).toBe('trained-looking');
  });

  it('stops with the model and the fix named when a model without checkpoints is asked for a timeline', async () => {
    const page = new URL('src/pages/plain.astro', root);
    const barrel = relative(fileURLToPath(new URL('./', page)), fileURLToPath(new URL('src/components/index.ts', ROOT)));
    await writeFile(page, `---\nimport { Conv1Timeline } from '${barrel}';\n---\n<Conv1Timeline model="plain" />\n`);
    try {
      const failed = await runAstro(['build', '--outDir', fileURLToPath(new URL('dist-plain/', root))], { cwd: root });
      expect(failed.code).not.toBe(0);
      const log = failed.stdout + failed.stderr;
      expect(log).toContain('<Conv1Timeline model="plain">: the model "plain" has no `checkpoints`');
      expect(log).toMatch(/add `checkpoints` \(a folder, a glob, or a list of checkpoint files\) to its entry under `models`/);
    } finally {
      await rm(page);
    }
  });
});

describe('with JavaScript', () => {
  it('shows one step at a time behind a labelled range input that the arrow keys move', async () => {
    const opened = await open('en/');
    const { page } = opened;
    const range = page.getByRole('slider', { name: en.step });
    await expect.poll(() => range.isVisible()).toBe(true);
    expect(await range.getAttribute('aria-valuetext')).toBe(`step ${RUN_STEPS[LAST]!}`);
    expect(await page.locator('.stepper output').innerText()).toBe(en.stepPosition(RUN_STEPS[LAST]!, LAST + 1, RUN_STEPS.length));
    expect(await page.locator('.strip > li:visible').count()).toBe(1);
    expect(await currentSrc(await shownGrid(page))).toMatch(new RegExp(`/timeline-${LAST}-per-filter\\.[\\w-]+\\.png$`));

    await range.focus();
    await page.keyboard.press('ArrowLeft');
    expect(await range.getAttribute('aria-valuetext')).toBe(`step ${RUN_STEPS[LAST - 1]}`);
    await page.keyboard.press('Home');
    expect(await range.getAttribute('aria-valuetext')).toBe(`step ${RUN_STEPS[0]}`);
    const shown = await shownGrid(page);
    const src = await currentSrc(shown);
    expect(src).toMatch(/\/timeline-0-per-filter\.[\w-]+\.png$/);
    expect(await page.locator('.strip > li:visible figcaption').innerText()).toContain(`step 0\n${en.verdict(strings.en.diagnostics.verdict[kinds[0]!])}`);
    // The image is step 0's own grid, weight for weight.
    const pixels = await gridPixels(src);
    expect(pixels.data.equals(Buffer.from(renderGrid(testKernel(runWeights(0), RUN_SHAPE)).data))).toBe(true);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('shows a filter at every step when its tile in a grid is clicked, cut from each step’s grid', async () => {
    const opened = await open('en/');
    const { page } = opened;
    // Each filter's link lies over that filter's tile in the grid image.
    const layout = gridLayout({ shape: RUN_SHAPE }, 'column');
    const image = (await (await shownGrid(page)).boundingBox())!;
    for (const [f, cell] of layout.cells.entries()) {
      const box = (await page.locator('.strip > li:visible').getByRole('link', { name: `filter ${f}`, exact: true }).boundingBox())!;
      const across = (px: number, from: number) => ((px - from) / image.width) * layout.width;
      const down = (px: number, from: number) => ((px - from) / image.height) * layout.height;
      expect([across(box.x, image.x), down(box.y, image.y), across(box.width, 0), down(box.height, 0)].map(Math.round)).toEqual([cell.x, cell.y, RUN_SHAPE[1], RUN_SHAPE[0]]);
    }
    await page.locator('.strip > li:visible').getByRole('link', { name: 'filter 6', exact: true }).click();
    await page.waitForURL(/#timeline-filter-6$/);
    const panel = page.locator('#timeline-filter-6');
    expect(await panel.isVisible()).toBe(true);
    expect(await page.locator('.panel:visible').count()).toBe(1);
    expect(await panel.getByRole('heading').innerText()).toBe(en.panelTitle(6));
    const tiles = panel.getByRole('img');
    const labels = await tiles.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('aria-label')));
    // Each step's family for this filter, from the analysis of the checkpoint itself.
    expect(labels).toEqual(RUN_STEPS.map((step, i) => en.tileLabel(6, step, strings.en.diagnostics.familyShort[reports[i]!.filters[6]!.family])));
    const grids = await page.locator('.strip > li img.mode-filter').evaluateAll((nodes) => nodes.map((node) => (node as HTMLImageElement).src));
    await expectTilesShow(tiles, 6, grids);
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('swaps every grid and tile to the scale shared by all steps, and says what that scale is', async () => {
    const opened = await open('en/#timeline-filter-9');
    const { page } = opened;
    const before = await currentSrc(await shownGrid(page));
    await page.getByRole('radio', { name: /^One scale for all steps/ }).check();
    const after = await currentSrc(await shownGrid(page));
    expect(before).toMatch(/timeline-4-per-filter/);
    expect(after).toMatch(/\/timeline-4-shared\.[\w-]+\.png$/);
    // Black and white stand for ± the largest |weight| of the whole run.
    const bound = Math.max(...RUN_STEPS.map((_, i) => Math.max(...runWeights(i).map(Math.abs))));
    expect(await page.locator('.scale').innerText()).toContain(en.scaleBar.shared(formatWeight(-bound), formatWeight(bound)));
    const shared = await page.locator('.strip > li img.mode-shared').evaluateAll((nodes) => nodes.map((node) => (node as HTMLImageElement).src));
    expect(shared.map((src) => /timeline-(\d)-shared/.exec(src)![1])).toEqual(['0', '1', '2', '3', '4']);
    await expectTilesShow(page.locator('#timeline-filter-9').getByRole('img'), 9, shared);
    await page.screenshot({ path: fileURLToPath(new URL('timeline-en-1280-shared-scale.png', SHOTS)), fullPage: true });
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('marks the steps where the verdict flips, and draws the three charts on a log step axis', async () => {
    const opened = await open('en/');
    const { page } = opened;
    const flips = RUN_STEPS.flatMap((step, i) => (i > 0 && kinds[i] !== kinds[i - 1] ? [{ step, verdict: strings.en.diagnostics.verdict[kinds[i]!] }] : []));
    expect(flips.length).toBeGreaterThan(0);
    expect(await page.locator('.flips').innerText()).toBe(en.flips(flips));
    expect(await page.locator('.strip .flip').allTextContents()).toEqual(flips.map((flip) => en.flipHere(flip.verdict)));
    const titles = await page.locator('.charts svg[role="img"] > title').allTextContents();
    expect(titles).toEqual([en.charts.noise.title, en.charts.edges.title, en.charts.l2.title]);
    const noise = page.locator('.charts svg').first();
    expect(await noise.locator('text').allTextContents()).toEqual(expect.arrayContaining(['step (log)', en.charts.noise.reference(TRAINED_MEDIAN_NOISE), '1000']));
    expect(await noise.locator('desc').textContent()).toContain(`step 0: ${reports[0]!.noise!.median.toFixed(3)}`);
    await close(opened);
  });

  it('keeps two timelines on one page apart: their own ids, scale switches and step controls', async () => {
    const opened = await open('two/');
    const { page } = opened;
    const ids = await page.locator('[id]').evaluateAll((nodes) => nodes.map((node) => node.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['timeline', 'timeline-filter-15', 'short-timeline', 'short-timeline-filter-15']));
    const [first, second] = [page.locator('#timeline'), page.locator('#short-timeline')];
    await second.getByRole('slider').focus();
    await page.keyboard.press('Home');
    expect(await second.getByRole('slider').getAttribute('aria-valuetext')).toBe('step 0');
    expect(await first.getByRole('slider').getAttribute('aria-valuetext')).toBe(`step ${RUN_STEPS[LAST]!}`);
    await second.getByRole('radio', { name: /^One scale/ }).check();
    expect(await first.locator('.strip img.mode-filter:visible').count()).toBe(1);
    expect(await second.locator('.strip img.mode-shared:visible').count()).toBe(1);
    expect(await second.locator('.strip > li').count()).toBe(2);
    await close(opened);
  });

  it('has no serious or critical accessibility violations (axe-core), light and dark, with a filter open', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const opened = await open('en/#timeline-filter-3', { ...DESKTOP, colorScheme });
      const violations = await seriousAxeViolations(opened.page);
      expect(violations, colorScheme).toEqual([]);
      await close(opened);
    }
  });
});

describe('without JavaScript', () => {
  it('shows every step in a strip that scrolls, each grid with its step and verdict, and opens filters by link', async () => {
    const opened = await open('en/', { ...PHONE, javaScriptEnabled: false });
    const { page } = opened;
    expect(await page.locator('.stepper').isVisible()).toBe(false);
    const steps = page.locator('.strip > li');
    expect(await steps.count()).toBe(RUN_STEPS.length);
    for (const [i, step] of RUN_STEPS.entries()) {
      const item = steps.nth(i);
      await item.scrollIntoViewIfNeeded();
      expect(await item.isVisible()).toBe(true);
      const caption = await item.locator('figcaption').innerText();
      expect(caption.startsWith(`step ${step}\n${en.verdict(strings.en.diagnostics.verdict[kinds[i]!])}`), caption).toBe(true);
      expect(await currentSrc(item.locator('img:visible'))).toMatch(new RegExp(`/timeline-${i}-per-filter\\.`));
    }
    const strip = await page.locator('.strip').evaluate((element) => ({ scroll: element.scrollWidth, client: element.clientWidth }));
    expect(strip.scroll).toBeGreaterThan(strip.client);
    expect(await page.locator('.without-script').isVisible()).toBe(true);
    // Only the last step's filters are in the tab order: one stop per filter.
    expect(await page.locator('.strip a.pick:not([tabindex="-1"])').count()).toBe(RUN_SHAPE[3]);
    await steps.nth(1).getByRole('link', { name: 'filter 2', exact: true }).click();
    expect(await page.locator('#timeline-filter-2').isVisible()).toBe(true);
    expect(await page.locator('#timeline-filter-2').getByRole('img').count()).toBe(RUN_STEPS.length);
    await close(opened);
  });
});

describe.each(['en', 'ja'] as const)('%s at 1280 and 390 px, light and dark', (lang) => {
  it('fits a phone without sideways scrolling and speaks the page’s language; screenshots', async () => {
    for (const [name, options] of [['1280', DESKTOP], ['390', PHONE]] as const)
      for (const colorScheme of ['light', 'dark'] as const)
        for (const javaScriptEnabled of [true, false]) {
          const opened = await open(`${lang}/#timeline-filter-6`, { ...options, colorScheme, javaScriptEnabled });
          const { page } = opened;
          const measured = await horizontalOverflow(page);
          expect(measured.wide, `${name} ${colorScheme}`).toEqual([]);
          expect(measured.scrollWidth, `${name} ${colorScheme}`).toBeLessThanOrEqual(measured.width);
          for (const image of await page.locator('.conv1-timeline img:visible').all()) await currentSrc(image);
          await page.locator('.strip').evaluate((strip) => strip.scrollTo(0, 0));
          await page.evaluate(() => window.scrollTo(0, 0));
          const shot = `timeline-${lang}-${name}-${colorScheme}${javaScriptEnabled ? '' : '-no-js'}.png`;
          await page.screenshot({ path: fileURLToPath(new URL(shot, SHOTS)), fullPage: true });
          await close(opened);
        }
  });

  it('says everything in the page’s language', async () => {
    const t = lang === 'en' ? en : ja;
    const opened = await open(`${lang}/#timeline-filter-6`);
    const { page } = opened;
    const text = await page.locator('.conv1-timeline').evaluate((section) => {
      const copy = section.cloneNode(true) as HTMLElement;
      for (const svg of copy.querySelectorAll('svg')) svg.remove();
      return copy.textContent!;
    });
    expect(text).toContain(t.stepPosition(RUN_STEPS[LAST]!, LAST + 1, RUN_STEPS.length));
    expect(text).toContain(t.panelTitle(6));
    expect(text).toContain(t.charts.caption(NOISY_FILTER_SCORE, TRAINED_MEDIAN_NOISE));
    expect(await page.getByRole('slider').getAttribute('aria-valuetext')).toBe(t.stepValue(RUN_STEPS[LAST]!));
    expect(await page.locator('.charts svg > title').allTextContents()).toEqual([t.charts.noise.title, t.charts.edges.title, t.charts.l2.title]);
    if (lang === 'ja') expect(text).not.toMatch(/\b(step|verdict|filter|scale|edges?)\b/i);
    await close(opened);
  });
});
