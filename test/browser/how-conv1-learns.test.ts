import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strings } from '../../src/components/i18n.ts';
import { EDGE_SHARE_MIN, NOISY_FILTER_SCORE, TRAINED_MEDIAN_NOISE } from '../../src/lib/analyse/thresholds.ts';
import { readModel } from '../../src/lib/read-kernel.ts';
import { measureCheckpoint, type CheckpointMeasures } from '../../src/lib/timeline/timeline.ts';
import type { Kernel } from '../../src/lib/kernel.ts';
import { buildAndServeSite, horizontalOverflow, launchChromium, openPage, type Opened, seriousAxeViolations } from '../helpers/browser.ts';
import type { serveStatic } from '../helpers/static-server.ts';

/**
 * The article "How conv1 learns" (issue 14) on the real site in Chromium, in both languages: the two
 * timelines, the charts of loss, accuracy and noise, the settings table and the photo credits; every
 * number the prose marks with data-fact against the same number computed here from the training
 * records (run.json) and from the checkpoints' own analysis; links from the home page and both other
 * articles; axe; a phone's width. Screenshots at 1280 and 390 px, light and dark, in both languages,
 * go to test-results/screenshots/how-conv1-learns-*.png.
 */
const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('test-results/how-conv1-learns-site/', ROOT);
const SHOTS = new URL('test-results/screenshots/', ROOT);
const BASE = '/astro-conv1/';
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const LANGS = ['ja', 'en'] as const;
type Lang = (typeof LANGS)[number];
const SLUG = 'how-conv1-learns';

interface RunRecord {
  seed: number;
  config: { steps: number; weightDecay: number; momentum: number; learningRate: number; seed: number };
  photos: string[];
  loss: number[];
  batchAccuracy: number[];
  heldOut: { step: number; accuracy: number }[];
  checkpoints: { step: number; file: string }[];
}

/** One training run as read here: its record and every checkpoint's conv1, measured. */
interface Run {
  record: RunRecord;
  steps: { step: number; kernel: Kernel; measures: CheckpointMeasures }[];
}

async function readRun(id: 'real' | 'shuffled'): Promise<Run> {
  const folder = new URL(`training/runs/${id}/`, ROOT);
  const record = JSON.parse(await readFile(new URL('run.json', folder), 'utf8')) as RunRecord;
  const steps = await Promise.all(
    record.checkpoints.map(async ({ step, file }) => {
      const { kernel } = await readModel(new URL(file, folder));
      return { step, kernel, measures: measureCheckpoint(kernel) };
    }),
  );
  return { record, steps };
}

const pct = (share: number) => `${Math.round(share * 100)}%`;
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const noiseOf = (point: Run['steps'][number]) => point.measures.report.noise!.median;
const heldOutAt = (run: Run, step: number) => run.record.heldOut.find((point) => point.step === step)!.accuracy;

/** The checkpoints where the verdict differs from the checkpoint before. */
function flips(run: Run): Run['steps'] {
  return run.steps.filter((point, i) => i > 0 && point.measures.report.verdict.kind !== run.steps[i - 1]!.measures.report.verdict.kind);
}

/** The cosine similarity of filter f in two kernels of one shape. */
function cosine(a: Kernel, b: Kernel, f: number): number {
  const count = a.shape[3];
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = f; i < a.data.length; i += count) {
    ab += a.data[i]! * b.data[i]!;
    aa += a.data[i]! ** 2;
    bb += b.data[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** What is left of a weight that gets no gradient, only the run's weight decay, through its momentum and learning-rate schedule (src/train/train.ts). */
function decayOnly({ steps, weightDecay, momentum, learningRate }: RunRecord['config']): number {
  let weight = 1;
  let velocity = 0;
  for (let step = 0; step < steps; step++) {
    velocity = momentum * velocity + weightDecay * weight;
    weight -= ((learningRate * (1 + Math.cos((Math.PI * step) / steps))) / 2) * velocity;
  }
  return weight;
}

let real: Run;
let shuffled: Run;
let browser: Browser;
let site: Awaited<ReturnType<typeof serveStatic>>;

beforeAll(async () => {
  [{ site }, real, shuffled] = await Promise.all([buildAndServeSite(OUT, BASE), readRun('real'), readRun('shuffled')]);
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

/**
 * Every fact the article may state, as the page must print it, computed from the records and the
 * checkpoints. `window` (the number of last steps averaged) is the article's choice, read from the
 * page; everything else follows from the data.
 */
function expectedFacts(lang: Lang, window: number): Record<string, string> {
  const verdict = (point: Run['steps'][number]) => strings[lang].diagnostics.verdict[point.measures.report.verdict.kind];
  const classes = real.record.photos.length;
  const first = real.steps[0]!;
  const last = (run: Run) => run.steps.at(-1)!;
  const [flip1, flip2] = flips(real) as [Run['steps'][number], Run['steps'][number]];
  const shuffledFlip = flips(shuffled).at(-1)!;
  // The last checkpoint up to which the real run's noise score has not moved from its start.
  const still = real.steps.filter((_, i) => real.steps.slice(0, i + 1).every((p) => Math.abs(noiseOf(p) - noiseOf(first)) < 0.01)).at(-1)!;
  // The first checkpoint after it, where the score has started to fall, and the last before the first flip.
  const early = real.steps[real.steps.indexOf(still) + 1]!;
  const beforeFlip = real.steps[real.steps.indexOf(flip1) - 1]!;
  // The last checkpoint before which the shuffled run's mean loss is still at chance.
  const chance = Math.log(classes);
  const plateau = shuffled.steps.filter((point) => point.step > 0 && Math.abs(mean(shuffled.record.loss.slice(0, point.step)) - chance) < 0.01).at(-1)!;
  const { report: finalReport, filters: finalFilters } = last(real).measures;
  const noisy = finalReport.noise!.noisyFilters;
  const kept = noisy.map((f) => finalFilters[f]!.strength.l2 / first.measures.filters[f]!.strength.l2);
  const tilt = Math.max(
    ...finalFilters.filter((filter) => filter.family === 'edge').map((filter) => {
      const deg = filter.spectrum.orientationDeg! % 90;
      return Math.min(deg, 90 - deg);
    }),
  );
  const families = (run: Run) => last(run).measures.report.families;
  return {
    photos: String(classes),
    kernel: `${first.kernel.shape[0]}×${first.kernel.shape[1]}`,
    filters: String(first.kernel.shape[3]),
    'chance-accuracy': pct(1 / classes),
    'chance-loss': chance.toFixed(3),
    'noise-start': noiseOf(first).toFixed(3),
    'noisy-threshold': String(NOISY_FILTER_SCORE),
    'trained-threshold': String(TRAINED_MEDIAN_NOISE),
    'edge-threshold': pct(EDGE_SHARE_MIN),
    window: String(window),
    'real-still-until': String(still.step),
    'real-early-step': String(early.step),
    'real-early-noise': noiseOf(early).toFixed(3),
    'real-before-flip-step': String(beforeFlip.step),
    'real-before-flip-noise': noiseOf(beforeFlip).toFixed(3),
    'real-flip-1-step': String(flip1.step),
    'real-flip-1-verdict': verdict(flip1),
    'real-flip-1-noise': noiseOf(flip1).toFixed(3),
    'real-flip-1-edges': String(flip1.measures.report.families.edge),
    'real-flip-2-step': String(flip2.step),
    'real-flip-2-verdict': verdict(flip2),
    'real-flip-2-noise': noiseOf(flip2).toFixed(3),
    'real-edges': String(families(real).edge),
    'real-edge-share': pct(finalReport.edgeShare),
    'real-edge-tilt': `${Math.round(tilt)}°`,
    'real-colour-contrast': String(families(real)['colour-contrast']),
    'real-noisy': String(noisy.length),
    'real-noisy-kept-min': pct(Math.min(...kept)),
    'real-noisy-kept-max': pct(Math.max(...kept)),
    'decay-only': pct(decayOnly(real.record.config)),
    'real-noisy-cosine': Math.min(...noisy.map((f) => cosine(first.kernel, last(real).kernel, f))).toFixed(2),
    'real-duplicates': String(finalReport.duplicates.length),
    'real-noise-final': noiseOf(last(real)).toFixed(3),
    'real-heldout-flip-1': pct(heldOutAt(real, flip1.step)),
    'real-heldout-flip-2': pct(heldOutAt(real, flip2.step)),
    'real-heldout-final': pct(real.record.heldOut.at(-1)!.accuracy),
    'real-batch-final': pct(mean(real.record.batchAccuracy.slice(-window))),
    'shuffled-plateau': String(plateau.step),
    'shuffled-plateau-loss': mean(shuffled.record.loss.slice(0, plateau.step)).toFixed(3),
    'shuffled-noise-plateau': noiseOf(plateau).toFixed(3),
    'shuffled-l2-start': shuffled.steps[0]!.measures.meanL2.toFixed(3),
    'shuffled-l2-plateau': plateau.measures.meanL2.toFixed(3),
    'shuffled-loss-final': mean(shuffled.record.loss.slice(-window)).toFixed(2),
    'shuffled-batch-final': pct(mean(shuffled.record.batchAccuracy.slice(-window))),
    'shuffled-heldout-final': pct(shuffled.record.heldOut.at(-1)!.accuracy),
    'shuffled-flip-step': String(shuffledFlip.step),
    'shuffled-flip-verdict': verdict(shuffledFlip),
    'shuffled-flip-noise': noiseOf(shuffledFlip).toFixed(3),
    'shuffled-noise-final': noiseOf(last(shuffled)).toFixed(3),
    'shuffled-edges': String(families(shuffled).edge),
    'shuffled-edge-share': pct(last(shuffled).measures.report.edgeShare),
    'shuffled-grey-blobs': String(families(shuffled)['grey-blob']),
    'shuffled-duplicates': String(last(shuffled).measures.report.duplicates.length),
  };
}

describe.each(LANGS)('%s', (lang) => {
  const path = `${lang}/${SLUG}/`;

  it('states only numbers that the records and the checkpoints give', async () => {
    const opened = await open(path);
    const spans = await opened.page.locator('main [data-fact]').evaluateAll((nodes) => nodes.map((node) => [node.getAttribute('data-fact')!, node.textContent!.trim()] as const));
    const window = Number(spans.find(([key]) => key === 'window')?.[1]);
    expect(Number.isInteger(window) && window > 0, 'the article names its averaging window').toBe(true);
    const expected = expectedFacts(lang, window);
    for (const [key, text] of spans) expect(text, key).toBe(expected[key]);
    // Every fact appears in both languages.
    expect(new Set(spans.map(([key]) => key))).toEqual(new Set(Object.keys(expected)));
    await close(opened);
  });

  it('shows both runs’ timelines with the verdicts and flips the checkpoints give', async () => {
    const opened = await open(path);
    const { page } = opened;
    for (const [model, run] of [['real-run', real], ['shuffled-run', shuffled]] as const) {
      const timeline = page.locator(`#${model}-timeline`);
      expect(await timeline.count(), model).toBe(1);
      const steps = await timeline.locator('.strip > li figcaption strong').allInnerTexts();
      expect(steps).toEqual(run.steps.map((point) => strings[lang].timeline.stepValue(point.step)));
      const verdicts = await timeline.locator('.strip > li .verdict').allInnerTexts();
      expect(verdicts).toEqual(run.steps.map((point) => strings[lang].timeline.verdict(strings[lang].diagnostics.verdict[point.measures.report.verdict.kind])));
      const said = await timeline.locator('.flips').innerText();
      for (const flip of flips(run)) expect(said).toContain(String(flip.step));
      // Every step's grid is served (the script shows one step at a time, so most are hidden).
      const sources = await timeline.locator('.strip img.mode-filter').evaluateAll((images) => (images as HTMLImageElement[]).map((img) => img.src));
      expect(sources).toHaveLength(run.steps.length);
      for (const source of sources) expect((await page.request.get(source)).headers()['content-type'], source).toBe('image/png');
    }
    expect(opened.errors).toEqual([]);
    await close(opened);
  });

  it('draws the loss, held-out accuracy and noise of both runs, every value in the charts’ text', async () => {
    const opened = await open(path);
    const curves = opened.page.locator('figure.training-curves');
    for (const [id, run] of [['real', real], ['shuffled', shuffled]] as const) {
      const charts = curves.locator(`.run-${id} svg`);
      expect(await charts.count(), id).toBe(3);
      const [loss, accuracy, noise] = await charts.evaluateAll((svgs) => svgs.map((svg) => ({ desc: svg.querySelector('desc')!.textContent!, dots: svg.querySelectorAll('circle').length })));
      const pairs = (desc: string) => [...desc.matchAll(/(\d+): (\d+(?:\.\d+)?%?)/g)].map((m) => `${m[1]}: ${m[2]}`);
      // Held-out accuracy and noise: one dot and one listed value per evaluation or checkpoint.
      expect(accuracy!.dots).toBe(run.record.heldOut.length);
      expect(pairs(accuracy!.desc)).toEqual(run.record.heldOut.map((point) => `${point.step}: ${pct(point.accuracy)}`));
      expect(noise!.dots).toBe(run.steps.length);
      expect(pairs(noise!.desc)).toEqual(run.steps.map((point) => `${point.step}: ${noiseOf(point).toFixed(3)}`));
      // The loss, averaged over windows that cover every step once: the first window is step 0 alone.
      expect(loss!.desc).toContain(`0: ${run.record.loss[0]!.toFixed(3)}`);
      const windows = [...loss!.desc.matchAll(/(\d+)(?:[–〜](\d+))?: (\d+\.\d+)/g)].map((m) => ({ from: Number(m[1]), to: Number(m[2] ?? m[1]), mean: m[3]! }));
      expect(windows).toHaveLength(loss!.dots);
      expect(windows.map((w) => w.from)).toEqual([0, ...windows.slice(0, -1).map((w) => w.to + 1)]);
      expect(windows.at(-1)!.to).toBe(run.record.loss.length - 1);
      for (const w of windows) expect(w.mean, `${id} ${w.from}–${w.to}`).toBe(mean(run.record.loss.slice(w.from, w.to + 1)).toFixed(3));
    }
    await close(opened);
  });

  it('prints the settings from the records and credits each photo the runs were trained on', async () => {
    const opened = await open(path);
    const { page } = opened;
    const table = await page.locator('.run-settings').innerText();
    const { config } = real.record;
    for (const value of [config.seed, config.steps, config.learningRate, config.momentum, config.weightDecay]) expect(table).toContain(String(value));
    expect(table).toContain(`${real.steps[0]!.kernel.shape.join('×')}`);
    const credits = await page.locator('.training-photos a').evaluateAll((links) => (links as HTMLAnchorElement[]).map((a) => a.getAttribute('href')!));
    const getty = await Promise.all(
      real.record.photos.map(async (name) => (JSON.parse(await readFile(new URL(`node_modules/${name}/datapackage.json`, ROOT), 'utf8')) as { sources: { web: string }[] }).sources[0]!.web),
    );
    expect(credits).toEqual(real.record.photos.flatMap((name, i) => [getty[i], `https://www.npmjs.com/package/${name}`]));
    await close(opened);
  });

  it('is linked from the home page and from both other articles, and links back to them', async () => {
    const target = `${BASE}${path}`;
    for (const from of ['', `${lang}/resnet50-conv1/`, `${lang}/filter-diagnostics/`]) {
      const opened = await open(from);
      // The home page links each language's articles by their full path, the articles each other relatively.
      const link = opened.page.locator(from === '' ? `main a[href="${target}"]` : 'main article p a[href="../how-conv1-learns/"]');
      expect(await link.count(), from || 'home').toBe(1);
      await link.click();
      await opened.page.waitForURL((url) => url.pathname === target);
      expect(await opened.page.locator('h1').innerText()).toBe(lang === 'ja' ? 'conv1 はどう学習するのか' : 'How conv1 learns');
      expect(opened.errors, from).toEqual([]);
      await close(opened);
    }
    const opened = await open(path);
    const back = await opened.page.locator('main article a').evaluateAll((links) => (links as HTMLAnchorElement[]).map((a) => new URL(a.href).pathname));
    expect(back).toEqual(expect.arrayContaining([`${BASE}${lang}/resnet50-conv1/`, `${BASE}${lang}/filter-diagnostics/`]));
    await close(opened);
  });

  it('has no serious or critical accessibility violations (axe-core), light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const opened = await open(path, { ...DESKTOP, colorScheme });
      const violations = await seriousAxeViolations(opened.page);
      expect(violations, colorScheme).toEqual([]);
      await close(opened);
    }
  });

  it('fits 390 px without sideways scrolling; screenshots at 390 and 1280 px, light and dark', async () => {
    for (const [width, options] of [['390', PHONE], ['1280', DESKTOP]] as const)
      for (const colorScheme of ['light', 'dark'] as const) {
        const opened = await open(path, { ...options, colorScheme });
        const { page } = opened;
        const measured = await horizontalOverflow(page);
        expect(measured.wide, `${width} ${colorScheme}`).toEqual([]);
        expect(measured.scrollWidth, `${width} ${colorScheme}`).toBeLessThanOrEqual(measured.width);
        for (const image of await page.locator('main img:visible').all()) await image.scrollIntoViewIfNeeded();
        await page.waitForLoadState('networkidle');
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: fileURLToPath(new URL(`${SLUG}-${lang}-${width}-${colorScheme}.png`, SHOTS)), fullPage: true });
        expect(opened.errors).toEqual([]);
        await close(opened);
      }
  });
});

describe('what the article claims beyond its numbers', () => {
  it('holds for these runs: two flips and one, same start, chance-level shuffled run, a thin edge margin, unused filters shrunk by decay alone', () => {
    expect(flips(real).map((point) => point.measures.report.verdict.kind)).toEqual(['partly-noisy', 'trained-looking']);
    expect(flips(shuffled).map((point) => point.measures.report.verdict.kind)).toEqual(['few-edges']);
    // Both runs start from the very same weights.
    expect(Array.from(shuffled.steps[0]!.kernel.data)).toEqual(Array.from(real.steps[0]!.kernel.data));
    const chance = 1 / real.record.photos.length;
    // The shuffled run never does much better than guessing on held-out crops.
    for (const point of shuffled.record.heldOut) expect(Math.abs(point.accuracy - chance), `step ${point.step}`).toBeLessThan(0.1);
    // Its first layer ends smoother than "trained-looking" asks, and only the edges keep it from that verdict.
    const end = shuffled.steps.at(-1)!.measures.report;
    expect(end.noise!.median).toBeLessThan(TRAINED_MEDIAN_NOISE);
    expect(end.verdict.kind).toBe('few-edges');
    // One edge filter fewer and the real run would read "few edge detectors" too.
    const finalReal = real.steps.at(-1)!.measures;
    expect(finalReal.report.verdict.kind).toBe('trained-looking');
    const live = finalReal.filters.length - finalReal.report.strength.deadFilters.length;
    expect((finalReal.report.families.edge + finalReal.report.families['colour-contrast'] - 1) / live).toBeLessThan(EDGE_SHARE_MIN);
    // The noisy filters kept about what weight decay alone leaves: they had next to no gradient.
    const left = decayOnly(real.record.config);
    for (const f of finalReal.report.noise!.noisyFilters) {
      const ratio = finalReal.filters[f]!.strength.l2 / real.steps[0]!.measures.filters[f]!.strength.l2;
      expect(ratio, `filter ${f}`).toBeGreaterThanOrEqual(left * 0.95);
      expect(ratio, `filter ${f}`).toBeLessThan(left * 1.6);
    }
    // The shuffled run's loss leaves chance only after its plateau, and falls below it by the end.
    expect(mean(shuffled.record.loss.slice(-100))).toBeLessThan(Math.log(real.record.photos.length) - 0.2);
  });
});
