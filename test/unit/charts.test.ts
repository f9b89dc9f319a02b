import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { analyseLayer, FAMILIES, SELECTIVITY_MIN, type Family } from '../../src/lib/analyse/index.ts';
import type { Kernel } from '../../src/lib/kernel.ts';
import { familyBars, isOriented, orientationCounts, orientationRose, type RoseFilter } from '../../src/lib/render/charts.ts';
import { testKernel } from '../helpers/test-kernel.ts';

const LABELS: Record<Family, string> = {
  edge: 'Edge',
  'colour-contrast': 'Colour contrast',
  'colour-blob': 'Colour blob',
  'grey-blob': 'Grey blob',
  'centre-surround': 'Centre–surround',
  other: 'Other',
  dead: 'Dead',
};

/** The rose's geometry, in viewBox units, as the chart promises it. */
const ROSE = { centre: 120, radius: 88 };
/** Pixels per viewBox unit when rendering: 144 dpi over SVG's 72. */
const SCALE = 2;

function filter(orientationDeg: number | null, changes: { selectivity?: number; dead?: boolean; noisy?: boolean } = {}): RoseFilter {
  return {
    spectrum: { orientationDeg, selectivity: changes.selectivity ?? 0.8 },
    strength: { dead: changes.dead ?? false },
    noise: { noisy: changes.noisy ?? false },
  };
}

const repeat = <T>(count: number, make: () => T): T[] => Array.from({ length: count }, make);

/**
 * A strict little XML check: every tag well-formed with quoted attributes, tags balanced and nested,
 * one root, text and attribute values free of raw <, > and of & other than the five predefined
 * entities. Returns the decoded text of each element, by name.
 */
function parseXml(source: string): { root: string; firstChild: string | undefined; texts: Map<string, string[]> } {
  const entity = '&(?:amp|lt|gt|quot|apos);';
  const tag = new RegExp(`<(/?)([A-Za-z][\\w:-]*)((?:\\s+[\\w:-]+="(?:[^"<>&]|${entity})*")*)\\s*(/?)>`, 'y');
  const text = new RegExp(`^(?:[^<>&]|${entity})*$`);
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  const stack: { name: string; text: string }[] = [];
  const texts = new Map<string, string[]>();
  let root: string | undefined;
  let firstChild: string | undefined;
  let i = 0;
  while (i < source.length) {
    if (source[i] !== '<') {
      const end = source.indexOf('<', i) === -1 ? source.length : source.indexOf('<', i);
      const chunk = source.slice(i, end);
      if (!text.test(chunk)) throw new Error(`bad text at ${i}: ${chunk}`);
      if (stack.length === 0) throw new Error(`text outside the root at ${i}`);
      stack.at(-1)!.text += decode(chunk);
      i = end;
      continue;
    }
    tag.lastIndex = i;
    const match = tag.exec(source);
    if (!match) throw new Error(`malformed tag at ${i}: ${source.slice(i, i + 40)}`);
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open === undefined || open.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      texts.set(name!, [...(texts.get(name!) ?? []), open.text]);
    } else {
      if (stack.length === 0 && root !== undefined) throw new Error('second root element');
      root ??= name;
      if (stack.length === 1 && firstChild === undefined) firstChild = name;
      if (selfClosing) texts.set(name!, [...(texts.get(name!) ?? []), '']);
      else stack.push({ name: name!, text: '' });
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0 || root === undefined) throw new Error(`unclosed: ${stack.map((s) => s.name).join(', ')}`);
  return { root, firstChild, texts };
}

/** Renders with librsvg (through sharp), proving the chart draws, and returns its pixels. */
async function render(svg: string): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(Buffer.from(svg), { density: 72 * SCALE }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** Positions (viewBox units, pixel centres) of the pixels painted in the marks' fallback blue, not in text or guide grey. */
async function markPixels(svg: string): Promise<[number, number][]> {
  const { width, height, data } = await render(svg);
  const points: [number, number][] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, , b, a] = data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4);
      if (a! > 128 && b! > r! + 60) points.push([(x + 0.5) / SCALE, (y + 0.5) / SCALE]);
    }
  return points;
}

/** Stripe orientation of a point seen from the rose's centre, 0–360°, counter-clockwise from the right on screen. */
function screenAngle([x, y]: [number, number]): number {
  return ((Math.atan2(ROSE.centre - y, x - ROSE.centre) * 180) / Math.PI + 360) % 360;
}

const angleBetween = (a: number, b: number): number => Math.min(Math.abs(a - b) % 360, 360 - (Math.abs(a - b) % 360));

/** Asserts ink only within a petal's width of `deg` and of `deg + 180`, and some ink on both sides. */
async function expectPetalsAlong(svg: string, deg: number): Promise<void> {
  // Near the centre the petals' tips blur into each other on the pixel grid.
  const points = (await markPixels(svg)).filter(([x, y]) => Math.hypot(x - ROSE.centre, y - ROSE.centre) > 6);
  const off = points.filter((p) => Math.min(angleBetween(screenAngle(p), deg), angleBetween(screenAngle(p), deg + 180)) > 7.5);
  expect(off, `ink away from ${deg}°`).toEqual([]);
  expect(points.filter((p) => angleBetween(screenAngle(p), deg) <= 7.5).length, `ink at ${deg}°`).toBeGreaterThan(100);
  expect(points.filter((p) => angleBetween(screenAngle(p), deg + 180) <= 7.5).length, `ink at ${deg + 180}°`).toBeGreaterThan(100);
}

/** Farthest ink from the rose's centre within 5° of `deg`, viewBox units. */
async function reach(svg: string, deg: number): Promise<number> {
  const points = (await markPixels(svg)).filter((p) => angleBetween(screenAngle(p), deg) < 5);
  return Math.max(0, ...points.map(([x, y]) => Math.hypot(x - ROSE.centre, y - ROSE.centre)));
}

/**
 * A grey Gabor-like filter per orientation, as images are indexed (x right, y down): stripes along
 * the direction (cos θ, −sin θ) on screen, i.e. constant where x·sin θ + y·cos θ is.
 */
function stripeKernel(orientations: readonly number[]): Kernel {
  const size = 7;
  const cout = orientations.length;
  const data = new Float32Array(size * size * 3 * cout);
  orientations.forEach((deg, f) => {
    const t = (deg * Math.PI) / 180;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const [dx, dy] = [x - 3, y - 3];
        const across = dx * Math.sin(t) + dy * Math.cos(t);
        const value = Math.exp(-(dx * dx + dy * dy) / 8) * Math.sin(2 * Math.PI * 0.2 * across);
        for (let c = 0; c < 3; c++) data[((y * size + x) * 3 + c) * cout + f] = value;
      }
  });
  return testKernel(data, [size, size, 3, cout], { layer: 'stripes' });
}

describe('orientationRose', () => {
  it.each([0, 45, 90, 135])('draws filters at %i° as the two petals along that axis only', async (deg) => {
    await expectPetalsAlong(orientationRose(repeat(5, () => filter(deg))), deg);
  });

  it('puts a real analysed filter on the petal that looks like its stripes: 45° rises to the right', async () => {
    const orientations = [0, 45, 90, 135];
    const report = analyseLayer(stripeKernel(orientations));
    for (const [f, deg] of orientations.entries()) {
      const analysed = report.filters[f]!;
      expect(isOriented(analysed), `filter at ${deg}°`).toBe(true);
      expect(angleBetween(analysed.spectrum.orientationDeg!, deg), `filter at ${deg}°`).toBeLessThan(3);
      await expectPetalsAlong(orientationRose([analysed]), deg);
    }
    // The "/" filter is up-right on screen: ink in the top-right quadrant (y up is smaller y).
    const slash = await markPixels(orientationRose([report.filters[1]!]));
    expect(slash.some(([x, y]) => x > ROSE.centre + 20 && y < ROSE.centre - 20)).toBe(true);
    expect(slash.some(([x, y]) => x > ROSE.centre + 20 && y > ROSE.centre + 20)).toBe(false);
  });

  it('is area-true: ink area is proportional to the count, so 4 filters reach twice as far as 1', async () => {
    const svg = orientationRose([...repeat(4, () => filter(0)), filter(90)]);
    expect(await reach(svg, 0)).toBeCloseTo(ROSE.radius, -0.5);
    expect(await reach(svg, 90)).toBeCloseTo(ROSE.radius / 2, -0.5);
    expect(await reach(svg, 45)).toBe(0);
    // Each petal is a circular sector 14° wide (half a degree of gap on either side), bulging outwards;
    // both petals of a bin, in pixels, to within 0.5%:
    const sectors = (count: number) => 2 * ((14 / 2) * Math.PI) / 180 * (ROSE.radius * SCALE) ** 2 * (count / 4);
    const points = await markPixels(svg);
    const inkNear = (deg: number) => points.filter((p) => Math.min(angleBetween(screenAngle(p), deg), angleBetween(screenAngle(p), deg + 180)) < 10).length;
    expect(inkNear(0) / sectors(4)).toBeCloseTo(1, 2);
    expect(inkNear(90) / sectors(1)).toBeCloseTo(1, 2);
  });

  it('bins orientation 15° wide, centred on multiples of 15°, 180° wrapping to 0°', () => {
    const counts = orientationCounts([filter(172.6), filter(7.4), filter(7.6), filter(89), filter(179.99)]);
    expect(counts).toHaveLength(12);
    expect(counts[0]).toBe(3);
    expect(counts[1]).toBe(1);
    expect(counts[6]).toBe(1);
  });

  it('leaves out filters whose orientation means nothing: unselective, dead, noisy or flat', async () => {
    const meaningless = [filter(90, { selectivity: SELECTIVITY_MIN - 0.01 }), filter(90, { dead: true }), filter(90, { noisy: true }), filter(null)];
    expect(meaningless.map(isOriented)).toEqual([false, false, false, false]);
    expect(isOriented(filter(90, { selectivity: SELECTIVITY_MIN }))).toBe(true);
    const svg = orientationRose(meaningless);
    expect(await markPixels(svg)).toEqual([]);
    expect(parseXml(svg).texts.get('title')).toEqual(['Stripe orientation: none of 4 filters is oriented']);
    // The empty rose is still a chart: ring, axes and labels.
    expect(parseXml(svg).texts.get('text')).toEqual(['0°', '45°', '90°', '135°']);
  });

  it('names and describes itself for screen readers, from the data or as given', () => {
    const filters = [...repeat(6, () => filter(0)), ...repeat(4, () => filter(90)), filter(30), filter(60, { noisy: true })];
    const parsed = parseXml(orientationRose(filters));
    expect(parsed.texts.get('title')).toEqual(['Stripe orientation of 11 oriented filters of 12: most near 0° and 90°']);
    expect(parsed.texts.get('desc')![0]).toContain('0°: 6, 15°: 0, 30°: 1, 45°: 0, 60°: 0, 75°: 0, 90°: 4,');
    const given = parseXml(orientationRose(filters, { title: 'Rose <1> & "2"', description: "it's" }));
    expect(given.texts.get('title')).toEqual(['Rose <1> & "2"']);
    expect(given.texts.get('desc')).toEqual(["it's"]);
  });
});

describe('familyBars', () => {
  const families: Record<Family, number> = { edge: 30, 'colour-contrast': 5, 'colour-blob': 8, 'grey-blob': 7, 'centre-surround': 12, other: 2, dead: 0 };

  it('draws one bar per family in FAMILIES order, its length proportional to the count', async () => {
    const svg = familyBars(families, LABELS);
    const points = await markPixels(svg);
    // Rows are 22 units tall from y = 4; measure the bar along each row's middle.
    const lengths = FAMILIES.map((_, i) => {
      const middle = 4 + i * 22 + 11;
      const row = points.filter(([, y]) => Math.abs(y - middle) < 1);
      return row.length === 0 ? 0 : Math.max(...row.map(([x]) => x)) - Math.min(...row.map(([x]) => x));
    });
    const longest = lengths[0]!;
    expect(longest).toBeGreaterThan(150);
    FAMILIES.forEach((family, i) => expect(lengths[i]! / longest, family).toBeCloseTo(families[family] / 30, 2));
    const parsed = parseXml(svg);
    expect(parsed.texts.get('text')).toEqual(FAMILIES.flatMap((family) => [LABELS[family], String(families[family])]));
    expect(parsed.texts.get('title')).toEqual(['Filter families of 64 filters: Edge 30, Colour contrast 5, Colour blob 8, Grey blob 7, Centre–surround 12, Other 2, Dead 0']);
  });

  it('escapes labels: markup, quotes and characters XML cannot hold do not break the chart', async () => {
    const hostile = { ...LABELS, edge: '<b>&amp;</b> "edge" \'x\' ]]> \u0001\ud800' };
    const svg = familyBars(families, hostile);
    expect(svg).not.toContain('<b>');
    const parsed = parseXml(svg);
    expect(parsed.texts.get('text')![0]).toBe('<b>&amp;</b> "edge" \'x\' ]]> ');
    expect(parsed.texts.get('title')![0]).toContain('<b>&amp;</b>');
    const [, viewWidth, viewHeight] = svg.match(/viewBox="0 0 ([\d.]+) ([\d.]+)"/)!;
    const { width, height } = await render(svg);
    expect([width, height]).toEqual([Math.round(Number(viewWidth) * SCALE), Math.round(Number(viewHeight) * SCALE)]);
  });

  it('draws no bars but every label for a layer with no filters counted', async () => {
    const none = Object.fromEntries(FAMILIES.map((family) => [family, 0])) as Record<Family, number>;
    const svg = familyBars(none, LABELS);
    expect(svg).not.toContain('<rect');
    expect(await markPixels(svg)).toEqual([]);
    expect(parseXml(svg).texts.get('text')).toHaveLength(2 * FAMILIES.length);
  });

  it.each([
    ['East Asian', '中心周辺型のフィルタ'],
    ['long', 'Centre–surround, a difference of Gaussians'],
  ])('keeps %s labels inside the chart, left of the bars', async (_, label) => {
    const svg = familyBars(families, { ...LABELS, 'centre-surround': label });
    const { width, height, data } = await render(svg);
    // Label ink, but none in the leftmost column: the label column grew to fit the widest label…
    let ink = 0;
    for (let y = 0; y < height; y++) {
      expect(data[y * width * 4 + 3], `row ${y}`).toBe(0);
      for (let x = 0; x < 100 * SCALE; x++) if (data[(y * width + x) * 4 + 3]! > 0) ink++;
    }
    expect(ink).toBeGreaterThan(100);
    // …and the bars kept room to compare.
    const xs = (await markPixels(svg)).map(([x]) => x);
    const longest = Math.max(...xs) - Math.min(...xs);
    expect(longest).toBeGreaterThanOrEqual(159);
  });
});

describe('both charts', () => {
  const charts = (): [string, string][] => [
    ['rose', orientationRose([...repeat(3, () => filter(12.345)), filter(100), filter(151)])],
    ['bars', familyBars({ edge: 3, 'colour-contrast': 1, 'colour-blob': 2, 'grey-blob': 0, 'centre-surround': 1, other: 7, dead: 1 }, LABELS)],
  ];

  it.each(charts())('%s: a well-formed accessible image with a title first, a fixed viewBox, themeable colours', async (_, svg) => {
    const parsed = parseXml(svg);
    expect(parsed.root).toBe('svg');
    expect(parsed.firstChild).toBe('title');
    expect(parsed.texts.get('title')![0]!.length).toBeGreaterThan(20);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+" width="\d+" height="\d+" role="img">/);
    expect(svg).toContain('fill="var(--chart-fill, #4a7bd0)"');
    expect(svg).toContain('fill="currentColor"');
    expect(svg).not.toMatch(/@import|@font-face|url\(|href=/);
    expect(await markPixels(svg)).not.toEqual([]);
  });

  it.each(charts())('%s: text follows currentColor, so a dark theme turns it light', async (_, svg) => {
    const { width, height, data } = await render(svg.replace('role="img"', 'role="img" color="#ffffff"'));
    let white = 0;
    for (let p = 0; p < width * height; p++) if (data[p * 4]! > 200 && data[p * 4 + 2]! > 200 && data[p * 4 + 3]! > 200) white++;
    expect(white).toBeGreaterThan(50);
  });

  it('is deterministic, with every coordinate rounded to 2 decimals', () => {
    for (const [[name, svg], [, again]] of charts().map((chart, i) => [chart, charts()[i]!] as const)) {
      expect(again, name).toBe(svg);
      const numbers = [...svg.matchAll(/="([^"]*)"/g)].flatMap(([, value]) => value!.match(/-?\d+(?:\.\d+)?/g) ?? []);
      expect(numbers.length, name).toBeGreaterThan(10);
      expect(numbers.filter((n) => /\.\d{3}/.test(n)), name).toEqual([]);
    }
  });
});
