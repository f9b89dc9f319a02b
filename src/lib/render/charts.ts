import { FAMILIES, SELECTIVITY_MIN, type Family, type FilterReport } from '../analyse/index.ts';

/**
 * Charts of a layer analysis as SVG strings, drawn at build time, so the page needs no script.
 * Theming: marks are filled with var(--chart-fill, #4a7bd0), which a page can override and a renderer
 * without the property shows in the fallback blue; text and guides use currentColor, so they follow
 * the surrounding text in light and dark themes. No font is loaded, only generic families named.
 * Every coordinate is rounded to 2 decimals: the same report gives the same bytes, so builds are
 * reproducible and cached pages do not change for nothing.
 */

export const FILL = 'var(--chart-fill, #4a7bd0)';
export const FONT_FAMILY = 'system-ui, sans-serif';
export const FONT_SIZE = 12;

export interface ChartOptions {
  /** Accessible name (also the tooltip); generated in English from the data when absent. */
  title?: string;
  /** Longer text alternative; the rose generates one listing every bin, the bars need none. */
  description?: string;
}

/** What the rose reads of a filter; a FilterReport has it. */
export interface RoseFilter {
  spectrum: Pick<FilterReport['spectrum'], 'orientationDeg' | 'selectivity'>;
  strength: Pick<FilterReport['strength'], 'dead'>;
  noise: Pick<FilterReport['noise'], 'noisy'>;
}

/** Width of a rose bin: 12 bins over the 180° of stripe orientation. */
export const ROSE_BIN_DEG = 15;
const ROSE_BINS = 180 / ROSE_BIN_DEG;

/**
 * Whether a filter's stripe orientation means something: it is selective (the SELECTIVITY_MIN test
 * the edge family applies) and neither dead nor noisy, as their spectral peak lies wherever the noise
 * put it. Selectivity rather than family, so that an oriented colour-contrast filter or an elongated
 * blob counts while a round colour-contrast filter, whose "orientation" is arbitrary, does not.
 */
export function isOriented(filter: RoseFilter): boolean {
  return filter.spectrum.orientationDeg !== null && filter.spectrum.selectivity >= SELECTIVITY_MIN && !filter.strength.dead && !filter.noise.noisy;
}

/**
 * Oriented filters per bin; bin k is centred on k × ROSE_BIN_DEG, so the labelled axes (0°, 45°, 90°,
 * 135°) are petal centres, and horizontal filters at 2° and 178° share the 0° petal instead of being
 * split over two petals on either side of the axis.
 */
export function orientationCounts(filters: readonly RoseFilter[]): number[] {
  const counts = new Array<number>(ROSE_BINS).fill(0);
  for (const filter of filters) if (isOriented(filter)) counts[Math.round(filter.spectrum.orientationDeg! / ROSE_BIN_DEG) % ROSE_BINS]!++;
  return counts;
}

const ROSE_SIZE = 240;
const ROSE_CENTRE = ROSE_SIZE / 2;
const ROSE_RADIUS = 88;
/** Half a petal's angular width: half a degree short of half a bin, leaving a degree between neighbouring petals. */
const PETAL_HALF_DEG = ROSE_BIN_DEG / 2 - 0.5;

/**
 * A point at stripe orientation `deg`, `r` from the centre. Angles turn counter-clockwise from the
 * right like the analysis' protractor, and SVG's y axis points down: 45° lands up and to the right,
 * so each petal lies along the stripes it counts ("/" for 45°).
 */
function polar(deg: number, r: number): [number, number] {
  const radians = (deg * Math.PI) / 180;
  return [ROSE_CENTRE + r * Math.cos(radians), ROSE_CENTRE - r * Math.sin(radians)];
}

/**
 * Rose plot (polar histogram) of the stripe orientations of the oriented filters (isOriented). An
 * orientation is an axis, not a direction (0° and 180° are the same stripes), so each bin is drawn
 * twice, opposite itself. Petal radius goes with √count, so petal AREA is proportional to the count;
 * with radius ∝ count a bin twice as full would look four times as big. The fullest bin reaches the
 * outer ring.
 */
export function orientationRose(filters: readonly RoseFilter[], options: ChartOptions = {}): string {
  const counts = orientationCounts(filters);
  const oriented = counts.reduce((a, b) => a + b, 0);
  const max = Math.max(...counts);

  let petals = '';
  counts.forEach((count, bin) => {
    if (count === 0) return;
    const r = ROSE_RADIUS * Math.sqrt(count / max);
    for (const centre of [bin * ROSE_BIN_DEG, bin * ROSE_BIN_DEG + 180]) {
      const [x1, y1] = polar(centre - PETAL_HALF_DEG, r);
      const [x2, y2] = polar(centre + PETAL_HALF_DEG, r);
      // Sweep flag 0: from the smaller to the larger angle is counter-clockwise on screen.
      petals += `M${num(ROSE_CENTRE)} ${num(ROSE_CENTRE)}L${num(x1)} ${num(y1)}A${num(r)} ${num(r)} 0 0 0 ${num(x2)} ${num(y2)}Z`;
    }
  });

  const axes = [0, 45, 90, 135]
    .map((deg) => {
      const [x1, y1] = polar(deg, ROSE_RADIUS);
      const [x2, y2] = polar(deg + 180, ROSE_RADIUS);
      return `M${num(x1)} ${num(y1)}L${num(x2)} ${num(y2)}`;
    })
    .join('');
  // Labels just outside the ring, anchored on the side facing away from the centre.
  const labels = (
    [
      [0, 'start', 4],
      [45, 'start', 0],
      [90, 'middle', 0],
      [135, 'end', 0],
    ] as const
  )
    .map(([deg, anchor, dy]) => {
      const [x, y] = polar(deg, ROSE_RADIUS + 8);
      return `<text x="${num(x)}" y="${num(y + dy)}" text-anchor="${anchor}">${deg}°</text>`;
    })
    .join('');

  const binText = counts.map((count, bin) => `${bin * ROSE_BIN_DEG}°: ${count}`).join(', ');
  const title =
    options.title ??
    (oriented === 0
      ? `Stripe orientation: none of ${filters.length} filters is oriented`
      : `Stripe orientation of ${plural(oriented, 'oriented filter')} of ${filters.length}: most near ${listOf(peakBins(counts).map((bin) => `${bin * ROSE_BIN_DEG}°`))}`);
  const description =
    options.description ??
    `Oriented filters per ${ROSE_BIN_DEG}° bin of stripe orientation (0° horizontal stripes, 45° rising to the right, 90° vertical, 135° falling to the right): ${binText}. Petal area is proportional to the count; each orientation is drawn twice, opposite itself.`;

  return svg(ROSE_SIZE, ROSE_SIZE, title, description, [
    `<g fill="none" stroke="currentColor" stroke-opacity="0.3"><circle cx="${num(ROSE_CENTRE)}" cy="${num(ROSE_CENTRE)}" r="${num(ROSE_RADIUS)}"/><path d="${axes}"/></g>`,
    petals && `<path fill="${FILL}" d="${petals}"/>`,
    `<g fill="currentColor" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}">${labels}</g>`,
  ]);
}

/** The fullest bins, for a one-line summary: up to three, each at least half as full as the fullest. */
function peakBins(counts: readonly number[]): number[] {
  const max = Math.max(...counts);
  return counts
    .map((count, bin) => ({ count, bin }))
    .filter(({ count }) => count > 0 && count * 2 >= max)
    .sort((a, b) => b.count - a.count || a.bin - b.bin)
    .slice(0, 3)
    .map(({ bin }) => bin);
}

const BARS_WIDTH = 360;
/** Shortest room for the longest bar, which long labels may not squeeze further. */
const MIN_BAR_ROOM = 160;
const BAR_ROW = 22;
const BAR_THICKNESS = 14;
const BARS_PADDING = 4;
/** Room after the longest bar for its count. */
const COUNT_ROOM = 36;

/**
 * Horizontal bars of filter counts per family, in FAMILIES order, every family listed (a 0 is news
 * too: no dead filters). Bar length is linear in the count and the longest bar fills the width. The
 * label column is as wide as the longest label is estimated to be, so labels in any language fit;
 * the bars get the rest of BARS_WIDTH, and only labels too long to leave them MIN_BAR_ROOM widen
 * the chart.
 */
export function familyBars(families: Record<Family, number>, labels: Record<Family, string>, options: ChartOptions = {}): string {
  const max = Math.max(0, ...FAMILIES.map((family) => families[family]));
  const labelColumn = Math.max(...FAMILIES.map((family) => textWidth(labels[family]))) + 8;
  const barRoom = Math.max(MIN_BAR_ROOM, BARS_WIDTH - labelColumn - COUNT_ROOM);
  const width = labelColumn + barRoom + COUNT_ROOM;
  const height = 2 * BARS_PADDING + FAMILIES.length * BAR_ROW;

  const rows = FAMILIES.map((family, i) => {
    const count = families[family];
    const top = BARS_PADDING + i * BAR_ROW;
    const baseline = top + BAR_ROW / 2 + FONT_SIZE / 3;
    const length = max > 0 ? (count / max) * barRoom : 0;
    const bar = count > 0 ? `<rect x="${num(labelColumn)}" y="${num(top + (BAR_ROW - BAR_THICKNESS) / 2)}" width="${num(length)}" height="${BAR_THICKNESS}" fill="${FILL}"/>` : '';
    return (
      bar +
      `<text x="${num(labelColumn - 6)}" y="${num(baseline)}" text-anchor="end">${xml(labels[family])}</text>` +
      `<text x="${num(labelColumn + length + 4)}" y="${num(baseline)}">${count}</text>`
    );
  }).join('');

  const total = FAMILIES.reduce((sum, family) => sum + families[family], 0);
  const title = options.title ?? `Filter families of ${plural(total, 'filter')}: ${FAMILIES.map((family) => `${labels[family]} ${families[family]}`).join(', ')}`;
  return svg(width, height, title, options.description, [
    `<path d="M${num(labelColumn)} ${BARS_PADDING}V${num(height - BARS_PADDING)}" stroke="currentColor" stroke-opacity="0.3"/>`,
    `<g fill="currentColor" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}">${rows}</g>`,
  ]);
}

/**
 * Width and height set to the viewBox, so the chart has a natural size and CSS can still scale it;
 * role="img" with a <title> first is what screen readers announce as one image with a name.
 */
export function svg(width: number, height: number, title: string, description: string | undefined, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${num(width)} ${num(height)}" width="${num(width)}" height="${num(height)}" role="img">` +
    `<title>${xml(title)}</title>` +
    (description === undefined ? '' : `<desc>${xml(description)}</desc>`) +
    parts.join('') +
    '</svg>'
  );
}

/** Rounded to 2 decimals, without a "-0" that would make equal charts differ. */
export function num(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return String(rounded === 0 ? 0 : rounded);
}

/**
 * Text safe in XML content and attribute values. Characters XML 1.0 cannot hold at all (control
 * characters, lone surrogates) cannot be escaped, so they are dropped rather than break the chart.
 */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u{20}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Estimated width of a label at FONT_SIZE, as there are no font metrics at build time: 0.6 em for
 * Latin letters and digits in a sans-serif font (generous: the average is nearer 0.55 em), a full em
 * for East Asian characters, which are square.
 */
export function textWidth(text: string): number {
  let ems = 0;
  for (const char of text) ems += char.codePointAt(0)! >= 0x2e80 ? 1 : 0.6;
  return ems * FONT_SIZE;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "a", "a and b", "a, b and c". */
function listOf(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
