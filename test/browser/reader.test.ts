import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strings } from '../../src/components/i18n.ts';
import { buildAndServeSite, launchChromium, openPage, type Opened, horizontalOverflow } from '../helpers/browser.ts';
import { serveStatic } from '../helpers/static-server.ts';

/**
 * The articles as a reader meets them (issue 16): on a phone, in both languages, light and dark; the
 * explorer by keyboard and by touch; sources linked; numbers in the prose equal to the figures' own;
 * every string a reader sees in the page's language. Phone screenshots go to test-results/screenshots/.
 */
const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('test-results/site-reader/', ROOT);
const SHOTS = new URL('test-results/screenshots/', ROOT);
const BASE = '/astro-conv1/';
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const LANGS = ['ja', 'en'] as const;
const SLUGS = ['resnet50-conv1', 'filter-diagnostics'] as const;
const ARTICLES = LANGS.flatMap((lang) => SLUGS.map((slug) => ({ lang, slug, path: `${lang}/${slug}/` })));
const PAGES = [{ lang: 'ja' as const, slug: 'home', path: '' }, ...ARTICLES];

let browser: Browser;
let site: Awaited<ReturnType<typeof serveStatic>>;

beforeAll(async () => {
  ({ site } = await buildAndServeSite(OUT, BASE));
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

/** The tile links in the order the eye reads them: down each column, or, sorted by family, along each row. */
async function visualOrder(page: Page, byRows: boolean): Promise<string[]> {
  return page.locator('.conv1-explorer').first().locator('a.tile').evaluateAll((links, rows) => {
    const boxes = (links as HTMLAnchorElement[]).map((a) => ({ href: a.getAttribute('href')!, box: a.getBoundingClientRect() }));
    boxes.sort((a, b) => (rows ? a.box.top - b.box.top || a.box.left - b.box.left : a.box.left - b.box.left || a.box.top - b.box.top));
    return boxes.map((b) => b.href);
  }, byRows);
}

async function focusedHref(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.getAttribute('href') ?? '');
}

describe.each(PAGES)('at 390 px: $path', ({ lang, slug, path }) => {
  it('is no wider than the viewport, light and dark, with a panel open too; screenshots', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, errors } = await open(path, { ...PHONE, colorScheme });
      const measured = await horizontalOverflow(page);
      expect(measured.wide, `${path} ${colorScheme}`).toEqual([]);
      expect(measured.scrollWidth, `${path} ${colorScheme}: ${measured.wide.join('; ')}`).toBeLessThanOrEqual(measured.width);
      expect(errors).toEqual([]);
      if (slug !== 'home') {
        // Lazy images in before the screenshot, so it shows what a reader scrolling down would see.
        for (const image of await page.locator('main img:visible').all()) await image.scrollIntoViewIfNeeded();
        await page.waitForLoadState('networkidle');
      }
      await page.screenshot({ path: fileURLToPath(new URL(`phone-${slug}-${lang}-${colorScheme}.png`, SHOTS)), fullPage: true });
      if (slug !== 'home') {
        await page.goto(`${site.url}${path}#filter-3`, { waitUntil: 'networkidle' });
        await page.locator('input[name="conv1-sort"][value="family"]').check();
        const open = await horizontalOverflow(page);
        expect(open.scrollWidth, `${path}#filter-3 ${colorScheme}: ${open.wide.join('; ')}`).toBeLessThanOrEqual(open.width);
      }
      await page.context().close();
    }
  });

  it.runIf(slug !== 'home')('has captions that do not place images left or right, and panel links that keep their words whole', async () => {
    const { page } = await open(`${path}#filter-5`, PHONE);
    const captions = await page.locator('figcaption:visible').allInnerTexts();
    // "Left: the photo. Right: …" is wrong once the images stack; "left to right" inside one image is fine.
    for (const caption of captions) expect(caption).not.toMatch(/(^|[.;。]\s*)(Left|Right|左|右)[:：]/);
    const links = page.locator('#filter-5 .conv1-panel-nav a');
    expect(await links.count()).toBe(3);
    for (const link of await links.all()) {
      const lines = await link.evaluate((a) => {
        const range = document.createRange();
        range.selectNodeContents(a);
        return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
      });
      expect(lines, await link.innerText()).toBe(1);
    }
    await page.context().close();
  });
});

describe('sources', () => {
  const REFERENCES = [
    'https://techblog.nhn-techorus.com/archives/8813',
    'https://www.deeplearningbook.org/',
    'https://cs231n.github.io/understanding-cnn/',
    'https://distill.pub/2020/circuits/early-vision/',
    'https://arxiv.org/abs/2006.10455',
  ];

  it.each(ARTICLES)('$path names the original post and lists its references', async ({ lang, path }) => {
    const { page } = await open(path);
    const listed = await page.locator('main ol.references a').evaluateAll((links) => (links as HTMLAnchorElement[]).map((a) => a.href));
    for (const url of REFERENCES) expect(listed, url).toContain(url);
    // The original post is named by its title, and linked from the running text too.
    const original = 'main a[href="https://techblog.nhn-techorus.com/archives/8813"]';
    expect(await page.locator(original).allInnerTexts()).toContainEqual(expect.stringContaining('畳み込みニューラルネットワークの畳み込み層の重みを可視化する方法'));
    expect(await page.locator(`main article p ${original.slice(5)}`).count()).toBeGreaterThan(0);
    const heading = lang === 'ja' ? '参考文献' : 'References';
    expect(await page.locator('main h2', { hasText: heading }).count()).toBe(1);
    await page.context().close();
  });

  it.each(ARTICLES.filter((a) => a.slug === 'resnet50-conv1'))('$path credits each rule of thumb to its own source', async ({ lang, path }) => {
    const { page } = await open(path);
    const text = await page.locator('main article').innerText();
    // The first rule from Deep Learning, the second from cs231n, with the overfitting point.
    const paragraph = text.split('\n').find((line) => line.includes('cs231n') && line.includes('Deep Learning'))!;
    expect(paragraph).toBeTruthy();
    expect(paragraph.indexOf('Deep Learning')).toBeLessThan(paragraph.indexOf('cs231n'));
    expect(paragraph).toMatch(lang === 'ja' ? /過学習/ : /overfit/);
    await page.context().close();
  });
});

describe('numbers in the prose are the figures’ numbers', () => {
  it.each(ARTICLES)('$path', async ({ slug, path }) => {
    const { page } = await open(path);
    const facts = Object.fromEntries(
      await page.locator('[data-fact]').evaluateAll((spans) => spans.map((span) => [span.getAttribute('data-fact')!, span.textContent!.trim()])),
    ) as Record<string, string>;
    const number = (text: string, pattern: RegExp) => pattern.exec(text)?.[1];
    if (slug === 'resnet50-conv1') {
      const filter0 = await page.locator('figure.conv1-filter#conv1-filter-0 figcaption').innerText();
      expect(number(filter0, /(\d+)°/)).toBe(number(facts['filter-0-orientation']!, /(\d+)°/));
      const global = await page.locator('figure.conv1-grid[data-normalize="global"] figcaption').innerText();
      const [, min, max] = /(−\d+\.\d+)\D+?(\d+\.\d+)/.exec(global)!;
      expect([facts['layer-min'], facts['layer-max']]).toEqual([min, max]);
      // The edge test backs the claim: "\" beats "/" by far.
      const peaks = await page.locator('.conv1-edge-test .peak').evaluateAll((nodes) => nodes.map((node) => Number(node.getAttribute('data-peak'))));
      expect(peaks).toHaveLength(2);
      expect(peaks[0]!).toBeGreaterThan(5 * peaks[1]!);
    } else {
      const section = (id: string) => page.locator(`.conv1-compare section[aria-labelledby="compare-${id}"]`);
      const column = async (id: string) => section(id).innerText();
      const main = await column('main');
      expect(main).toMatch(new RegExp(`(edge|エッジ) ${facts['resnet-edges']}\\b`));
      expect(main).toMatch(new RegExp(`(colour contrast|色の対比) ${facts['resnet-colour-contrast']}\\b`));
      expect(main).toMatch(new RegExp(`(colour blob|色の塊) ${facts['resnet-colour-blobs']}\\b`));
      const faceboxes = await column('faceboxes');
      expect(faceboxes).toMatch(new RegExp(`\\b${facts['faceboxes-edges']} (of|/)|のうち ${facts['faceboxes-edges']} 個`));
      expect(await section('faceboxes').locator('.verdict').getAttribute('class')).toContain('verdict-trained-looking');
      const blazeface = section('blazeface');
      const blazeText = await blazeface.innerText();
      expect(blazeText).toContain(facts['blazeface-noise']!);
      expect(blazeText).toMatch(new RegExp(`\\b${facts['blazeface-edges']} of|のうち ${facts['blazeface-edges']} 個`));
      expect(await blazeface.locator('.verdict').getAttribute('class')).toContain('verdict-few-edges');
    }
    await page.context().close();
  });
});

describe('the explorer', () => {
  const path = 'en/resnet50-conv1/';

  for (const javaScriptEnabled of [true, false])
    it(`keeps the keyboard in the visual order after sorting (${javaScriptEnabled ? 'with' : 'without'} JavaScript)`, async () => {
      const { page } = await open(path, { javaScriptEnabled });
      for (const sort of ['l2', 'colour', 'family', 'orientation', 'index']) {
        const radio = page.locator(`input[name="conv1-sort"][value="${sort}"]`);
        await radio.check();
        const expected = await visualOrder(page, sort === 'family');
        await radio.focus();
        const seen: string[] = [];
        for (let i = 0; i < expected.length; i++) {
          await page.keyboard.press('Tab');
          seen.push(await focusedHref(page));
        }
        expect(seen, sort).toEqual(expected);
      }
      await page.context().close();
    });

  it('shows every tile number on a touch screen, without hover, under its tile', async () => {
    const { page } = await open(path, PHONE);
    const numbers = await page.locator('a.tile').evaluateAll((links) =>
      (links as HTMLAnchorElement[]).map((a) => {
        const label = a.querySelector<HTMLElement>('.number')!;
        const style = getComputedStyle(label);
        const sprite = a.querySelector('.sprite')!.getBoundingClientRect();
        const box = label.getBoundingClientRect();
        return { href: a.getAttribute('href'), text: label.textContent, shown: style.opacity === '1' && style.visibility === 'visible' && box.height > 6, below: box.top >= sprite.bottom - 0.5 };
      }),
    );
    expect(numbers).toHaveLength(64);
    for (const n of numbers) expect(n).toEqual({ href: `#filter-${n.text}`, text: n.text, shown: true, below: true });
    await page.context().close();
  });

  it('labels the groups when sorted by family, each above its own tiles', async () => {
    for (const lang of LANGS) {
      const { page } = await open(`${lang}/resnet50-conv1/`, PHONE);
      expect(await page.locator('.tiles > li.group:visible').count()).toBe(0);
      await page.locator('input[name="conv1-sort"][value="family"]').check();
      const groups = await page.locator('.tiles > li.group').evaluateAll((items) =>
        items.map((li) => ({ text: li.textContent!.trim(), top: li.getBoundingClientRect().top, shown: getComputedStyle(li).display !== 'none' })),
      );
      const tiles = await page.locator('.tiles > li[data-family]').evaluateAll((items) =>
        items.map((li) => ({ family: li.getAttribute('data-family')!, top: li.getBoundingClientRect().top })),
      );
      const families = [...new Set(tiles.map((t) => t.family))];
      expect(groups.filter((g) => g.shown)).toHaveLength(families.length);
      const short = strings[lang].diagnostics.familyShort;
      for (const family of families) {
        const group = groups.find((g) => g.text.startsWith(short[family as keyof typeof short]))!;
        expect(group, family).toBeDefined();
        const members = tiles.filter((t) => t.family === family);
        expect(group.text).toContain(String(members.length));
        // The label sits above every tile of its family and below every tile of the families before it.
        for (const member of members) expect(member.top).toBeGreaterThan(group.top);
        for (const other of tiles.filter((t) => t.family !== family && t.top < group.top)) expect(other.top).toBeLessThan(group.top);
      }
      await page.context().close();
    }
  });

  it('draws the focus ring of edge tiles whole, inside the scroll box', async () => {
    const { page } = await open(path, PHONE);
    for (const filter of [0, 7, 56, 63]) {
      await page.locator(`a.tile[href="#filter-${filter}"]`).focus();
      const fits = await page.evaluate((f) => {
        const tile = document.querySelector(`a.tile[href="#filter-${f}"]`)!;
        const style = getComputedStyle(tile);
        const ring = parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset);
        const box = tile.getBoundingClientRect();
        const list = tile.closest('.tiles')!;
        const clip = list.getBoundingClientRect();
        return {
          outline: style.outlineStyle !== 'none' && ring > 0,
          inside: box.left - ring >= clip.left && box.right + ring <= clip.right && box.top - ring >= clip.top && box.bottom + ring <= clip.bottom,
        };
      }, filter);
      expect(fits, `filter ${filter}`).toEqual({ outline: true, inside: true });
    }
    await page.context().close();
  });

  it('refuses a filter number out of range: shows the filter it used and says why', async () => {
    const file = join(tmpdir(), `conv1-clamp-${process.pid}.png`);
    await writeFile(file, await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer());
    for (const lang of LANGS) {
      const { page, errors } = await open(`${lang}/resnet50-conv1/#filter-0`);
      const box = page.locator('input[name="own-filter"]');
      const note = page.locator('.own-photo .note');
      await page.locator('.own-photo input[type=file]').setInputFiles(file);
      await expect.poll(() => page.locator('canvas.own-response').getAttribute('width')).toBe('34');
      for (const [typed, used] of [
        ['99', '63'],
        ['-4', '0'],
        ['', '0'],
        ['12', '12'],
      ] as const) {
        await box.fill(typed);
        await box.press('Enter');
        await box.blur();
        await expect.poll(() => box.inputValue()).toBe(used);
        const said = await note.innerText();
        if (typed === used) expect(said).toBe('');
        else {
          expect(said).toContain(used);
          if (typed) expect(said).toContain(typed);
          expect(said).toMatch(lang === 'ja' ? /フィルタ/ : /filter/);
        }
        await expect.poll(() => page.locator('canvas.own-response').getAttribute('aria-label')).toMatch(new RegExp(`(filter|フィルタ) ${used}\\D`));
      }
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });
});

describe('both languages, all the way', () => {
  /** Every fixed string of a language, and the fixed parts of its templates (split where the arguments go). */
  function leaves(lang: 'ja' | 'en'): Set<string> {
    const found = new Set<string>();
    const walk = (value: unknown): void => {
      if (typeof value === 'string') found.add(value);
      else if (typeof value === 'function') {
        const args = Array.from({ length: value.length }, (_, i) => `\u0000${i}\u0000`);
        try {
          const text: unknown = value(...args);
          if (typeof text === 'string') for (const part of text.split(/\u0000\d\u0000/)) found.add(part);
        } catch {
          // Templates that need real values (objects) are checked through the page itself.
        }
      } else if (value && typeof value === 'object') for (const child of Object.values(value)) walk(child);
    };
    walk(strings[lang]);
    return found;
  }

  /** The text a reader meets in the components (text, alt, aria-label, SVG titles), outside code and parts marked as another language. */
  async function componentText(page: Page, lang: 'ja' | 'en'): Promise<string[]> {
    return page.evaluate((lang) => {
      const texts: string[] = [];
      const scopes = document.querySelectorAll('[class^="conv1-"], [class*=" conv1-"]');
      const foreign = (node: Element) => (node.closest('[lang]')?.getAttribute('lang') ?? lang) !== lang || node.closest('code, pre') !== null;
      for (const scope of scopes) {
        const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) if (!foreign(node.parentElement!) && node.textContent!.trim()) texts.push(node.textContent!.trim());
        for (const element of scope.querySelectorAll('[alt], [aria-label], [data-alt]'))
          if (!foreign(element)) for (const name of ['alt', 'aria-label']) if (element.getAttribute(name)) texts.push(element.getAttribute(name)!);
      }
      return texts;
    }, lang);
  }

  // Names, units and symbols that are the same in both languages.
  const SHARED = /^(layers|safetensors|npm|mod)$/;

  it.each(ARTICLES)('$path shows no UI string of the other language', async ({ lang, path }) => {
    const { page } = await open(`${path}#filter-3`);
    await page.locator('input[name="conv1-sort"][value="family"]').check();
    const texts = await componentText(page, lang);
    expect(texts.length).toBeGreaterThan(50);
    const other = lang === 'ja' ? 'en' : 'ja';
    const own = leaves(lang);
    const theirs = [...leaves(other)].map((s) => s.trim()).filter((s) => s.length >= 4 && !own.has(s) && /[A-Za-z]{3}|[\u3040-\u30ff\u4e00-\u9fff]/.test(s));
    const joined = texts.join('\n');
    for (const string of theirs) expect(joined, `“${string}” on a ${lang} page`).not.toContain(string);
    if (lang === 'en') {
      // No Japanese at all outside parts marked lang="ja".
      for (const text of texts) expect(text).not.toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
    } else {
      // No English words outside names and units: lower-case words of 3 letters or more give English away.
      const words = texts.flatMap(
        (text) =>
          text
            // Package names, addresses, file names and hyphenated identifiers (glorot-uniform, keras-resnet50) are names.
            .replace(/@[\w/.-]+|https?:\S+|[\w.-]+\.(json|png|webp)\b|\b[a-z]+(-[a-z0-9]+)+\b/g, '')
            .match(/\b[a-z]{3,}\b/g) ?? [],
      );
      expect(words.filter((word) => !SHARED.test(word))).toEqual([]);
    }
    await page.context().close();
  });

  it('gives the verdict with its numbers in Japanese too, and calls a dead filter a dead filter', async () => {
    for (const lang of LANGS) {
      const { page } = await open(`${lang}/filter-diagnostics/`);
      const verdict = await page.locator('.conv1-report .verdict').innerText();
      expect(verdict).toMatch(/0\.\d{3}/);
      expect(verdict).toMatch(/\d+%/);
      expect(verdict).toMatch(lang === 'ja' ? /学習済みらしい/ : /Trained-looking/);
      const labels = await page.locator('.conv1-report svg text').allTextContents();
      expect(labels).toContain(strings[lang].diagnostics.familyShort.dead);
      if (lang === 'ja') expect(labels).not.toContain('死');
      await page.context().close();
    }
  });
});
