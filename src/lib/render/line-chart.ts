import { FILL, FONT_FAMILY, FONT_SIZE, num, svg, xml } from './charts.ts';

/**
 * A measure against training step as an SVG line chart, drawn at build time like the other charts
 * (currentColor for text and guides, var(--chart-fill) for the line). Steps of a training run are
 * usually saved at log-spaced steps (0, 1, 2, 5, 10 … 1000); on a linear axis all but the last few
 * would sit on top of each other, so when the steps span two decades or more the axis is
 * logarithmic, with step 0 set one decade left of the first step after it, past a break in the axis.
 */

export interface LinePoint {
  x: number;
  /** Null where the measure does not exist (e.g. no noise score): the line breaks there. */
  y: number | null;
}

export interface LineChartOptions {
  title: string;
  description?: string | undefined;
  xLabel: string;
  yLabel: string;
  /** Tick label of a y value. */
  formatY?: ((value: number) => string) | undefined;
  /** The y axis runs from yMin (default 0) to at least yMax (default: the largest value, rounded up). */
  yMin?: number | undefined;
  yMax?: number | undefined;
  /** Horizontal guides, e.g. thresholds, dashed and labelled. */
  references?: readonly { value: number; label: string }[] | undefined;
  /** Appended to xLabel when the step axis is logarithmic, in the page's language. */
  logLabel?: string | undefined;
}

const WIDTH = 360;
const HEIGHT = 210;
const MARGIN = { left: 48, right: 14, top: 14, bottom: 40 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

export function lineChart(points: readonly LinePoint[], options: LineChartOptions): string {
  const x = stepAxis(points.map((point) => point.x));
  const values = points.flatMap((point) => (point.y === null ? [] : [point.y]));
  const yMin = options.yMin ?? 0;
  const references = options.references ?? [];
  const yMax = niceCeiling(Math.max(options.yMax ?? 0, ...references.map((r) => r.value), ...values, yMin + 1e-9) - yMin) + yMin;
  const y = (value: number) => MARGIN.top + PLOT_HEIGHT * (1 - (value - yMin) / (yMax - yMin));
  const format = options.formatY ?? ((value: number) => String(Number(value.toPrecision(3))));

  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((t) => yMin + t * (yMax - yMin));
  const guides = yTicks.map((value) => `<path d="M${MARGIN.left} ${num(y(value))}H${WIDTH - MARGIN.right}" stroke="currentColor" stroke-opacity="0.12"/>`).join('');
  const yLabels = yTicks.map((value) => `<text x="${MARGIN.left - 6}" y="${num(y(value) + FONT_SIZE / 3)}" text-anchor="end">${xml(format(value))}</text>`).join('');
  const xLabels = x.ticks.map((tick) => `<text x="${num(x.position(tick))}" y="${HEIGHT - MARGIN.bottom + FONT_SIZE + 6}" text-anchor="middle">${tick}</text>`).join('');
  const referenceGuides = references.map((r) => `<path d="M${MARGIN.left} ${num(y(r.value))}H${WIDTH - MARGIN.right}" stroke="currentColor" stroke-dasharray="4 3" stroke-opacity="0.6"/>`).join('');
  const referenceLabels = references.map((r) => `<text x="${WIDTH - MARGIN.right}" y="${num(y(r.value) - 4)}" text-anchor="end">${xml(r.label)}</text>`).join('');
  const line = segments(points)
    .map((run) => `<path d="${run.map((point, i) => `${i === 0 ? 'M' : 'L'}${num(x.position(point.x))} ${num(y(point.y))}`).join('')}" fill="none" stroke="${FILL}" stroke-width="2"/>`)
    .join('');
  const dots = points.flatMap((point) => (point.y === null ? [] : [`<circle cx="${num(x.position(point.x))}" cy="${num(y(point.y))}" r="3" fill="${FILL}"/>`])).join('');
  const axes =
    `<path d="M${MARGIN.left} ${MARGIN.top}V${HEIGHT - MARGIN.bottom}H${WIDTH - MARGIN.right}" fill="none" stroke="currentColor" stroke-opacity="0.5"/>` +
    (x.breakAt === undefined ? '' : `<path d="M${num(x.breakAt - 3)} ${HEIGHT - MARGIN.bottom + 4}l6 -8" stroke="currentColor"/>`);
  const labels =
    `<text x="${num(MARGIN.left + PLOT_WIDTH / 2)}" y="${HEIGHT - 6}" text-anchor="middle">${xml(options.xLabel)}${x.log ? xml(options.logLabel ?? ' (log)') : ''}</text>` +
    `<text transform="translate(12 ${num(MARGIN.top + PLOT_HEIGHT / 2)}) rotate(-90)" text-anchor="middle">${xml(options.yLabel)}</text>`;
  return svg(WIDTH, HEIGHT, options.title, options.description, [
    guides,
    axes,
    referenceGuides,
    line,
    dots,
    `<g fill="currentColor" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}">${yLabels}${xLabels}${labels}${referenceLabels}</g>`,
  ]);
}

/** Runs of consecutive points that have a value. */
function segments(points: readonly LinePoint[]): { x: number; y: number }[][] {
  const runs: { x: number; y: number }[][] = [[]];
  for (const point of points) {
    if (point.y === null) runs.push([]);
    else runs.at(-1)!.push({ x: point.x, y: point.y });
  }
  return runs.filter((run) => run.length > 0);
}

interface StepAxis {
  log: boolean;
  position(step: number): number;
  ticks: number[];
  /** Where the axis breaks between step 0 and the first positive step, on a log axis. */
  breakAt?: number | undefined;
}

function stepAxis(steps: readonly number[]): StepAxis {
  const max = Math.max(...steps, 1);
  const positive = steps.filter((step) => step > 0);
  const minPositive = positive.length ? Math.min(...positive) : 1;
  const left = MARGIN.left + 8;
  const room = PLOT_WIDTH - 16;
  if (max / minPositive < 100) {
    const min = Math.min(...steps, 0);
    const position = (step: number) => left + (room * (step - min)) / (max - min || 1);
    return { log: false, position, ticks: linearTicks(min, max) };
  }
  const low = Math.floor(Math.log10(minPositive));
  const high = Math.log10(max);
  const hasZero = steps.includes(0);
  // Step 0 takes the place of one more decade on the left.
  const start = hasZero ? low - 1 : low;
  const position = (step: number) => left + (room * ((step === 0 ? start : Math.log10(step)) - start)) / (high - start || 1);
  const decades = Array.from({ length: Math.floor(high) - low + 1 }, (_, i) => 10 ** (low + i));
  return { log: true, position, ticks: hasZero ? [0, ...decades] : decades, breakAt: hasZero ? (position(0) + position(10 ** low)) / 2 : undefined };
}

function linearTicks(min: number, max: number): number[] {
  const step = niceCeiling((max - min) / 4);
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max; tick += step) ticks.push(tick);
  return ticks;
}

/** The smallest of 1, 2, 2.5 or 5 × 10^k that is at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= value * (1 - 1e-12))!;
}
