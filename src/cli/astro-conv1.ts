#!/usr/bin/env node
/**
 * The pipeline on the command line, for people who do not use Astro:
 *   astro-conv1 info <model>              what the model holds and which kernel is drawn
 *   astro-conv1 grid <model> -o grid.png  all filters in one image
 *   astro-conv1 filters <model> -o dir/   one image per filter
 *   astro-conv1 report <model>            what each filter is, and whether the layer looks trained
 *   astro-conv1 timeline <folder | files…>  noise and verdict per checkpoint of a training run
 * Exit status: 0 success, 1 the report finds the layer untrained, 2 wrong usage, 3 the model or an
 * * output could not be read or written, 4 an unexpected error (a bug).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { analyseLayer, DEAD_NORM_RATIO, FAMILIES, type LayerReport, type VerdictKind } from '../lib/analyse/index.ts';
import { Conv1Error, describeError } from '../lib/errors.ts';
import { enlarge } from '../lib/render/image.ts';
import { encodePng } from '../lib/render/png.ts';
import { renderGrid, type GridOrder } from '../lib/render/grid.ts';
import { filterImage, NORMALIZATIONS, PIXEL_ROUNDINGS, type Normalization, type PixelRounding } from '../lib/render/normalize.ts';
import { escapeOutsideText as e, jsonForTerminal } from '../lib/outside-text.ts';
import { readModel, type ModelSummary, type ReadKernelOptions } from '../lib/read-kernel.ts';
import { DEFAULT_MODEL } from '../lib/presets.ts';
import { timelineCommand } from './timeline.ts';

const USAGE = `Usage: astro-conv1 <command> <model> [options]

Commands:
  info <model>       format, convolution layers, the kernel drawn, its shape and channel order, bytes read
  grid <model>       all filters tiled in one PNG (-o, default conv1-grid.png)
  filters <model>    one PNG per filter into a folder (-o, default conv1-filters/)
  report <model>     each filter's family and measures, and a verdict on the layer; exits with 1
                     when the layer looks untrained (noisy or dead), so a training run can check it
  timeline <folder | glob | files…>
                     one line per checkpoint (step, median noise, edge share, verdict), steps taken
                     from the file names; exits with 1 unless the last checkpoint looks trained

<model> is a model file (TF.js model.json, …), an http(s) URL, npm:<package>@<version>/<path>,
or "resnet50" for Keras' ImageNet ResNet50 (downloaded once, then cached).

Exit status: 0 success, 1 report found the layer untrained, 2 wrong usage, 3 model or output error,
4 an unexpected error (a bug: please report it).

Options:
  --layer NAME                 the convolution to read (default: the first one after the input)
  --channels rgb|bgr           input channel order (default: a preset for known models, else rgb)
  --order column|row           grid order (default column: filter i at column ⌊i/rows⌋, as in the article)
  --normalize filter|global|zero
                               per filter (default), one scale for the layer, or centred on zero
  --rounding truncate|nearest  grey levels truncated as the article's astype("uint8") does (default),
                               or rounded to the nearest
  --scale N                    enlarge each weight to N×N pixels (default 8 for grid, 16 for filters;
                               1 gives the exact grid, 63×63 for ResNet50)
  -o, --output PATH            output file (grid) or folder (filters)
  --timeout SECONDS            the longest a remote model's read may take, all requests together
                               (default 120); a slow read prints a line every few seconds
  --json                       info, report or timeline as JSON
  -h, --help                   this help
`;

class UsageError extends Error {}

interface Options {
  layer?: string | undefined;
  channels?: 'rgb' | 'bgr' | undefined;
  order: GridOrder;
  normalize: Normalization;
  rounding: PixelRounding;
  scale?: number | undefined;
  output?: string | undefined;
  json: boolean;
  /** Seconds. */
  timeout?: number | undefined;
}

function parse(argv: string[]): { command: string; model: string; checkpoints: string[]; options: Options } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      layer: { type: 'string' },
      channels: { type: 'string' },
      order: { type: 'string', default: 'column' },
      normalize: { type: 'string', default: 'filter' },
      rounding: { type: 'string', default: 'truncate' },
      scale: { type: 'string' },
      output: { type: 'string', short: 'o' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { command: 'help', model: '', checkpoints: [], options: { order: 'column', normalize: 'filter', rounding: 'truncate', json: false } };
  const [command, model, ...rest] = positionals;
  if (!command) throw new UsageError('no command given');
  if (!['info', 'grid', 'filters', 'report', 'timeline'].includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (!model) throw new UsageError(command === 'timeline' ? 'timeline needs a folder, a glob or checkpoint files' : `${command} needs a model`);
  if (rest.length > 0 && command !== 'timeline') throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined => {
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not "${value}"`);
    return value as T;
  };
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && (!Number.isInteger(scale) || scale < 1 || scale > 64)) throw new UsageError(`--scale must be a whole number from 1 to 64, not "${values.scale}"`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0 && timeout <= 86_400)) throw new UsageError(`--timeout must be a number of seconds above 0, not "${values.timeout}"`);
  return {
    command,
    model: model === 'resnet50' ? DEFAULT_MODEL : model,
    checkpoints: [model, ...rest],
    options: {
      layer: values.layer,
      channels: oneOf('channels', values.channels, ['rgb', 'bgr']),
      order: oneOf('order', values.order, ['column', 'row'])!,
      normalize: oneOf('normalize', values.normalize, NORMALIZATIONS)!,
      rounding: oneOf('rounding', values.rounding, PIXEL_ROUNDINGS)!,
      scale,
      output: values.output,
      json: values.json,
      timeout,
    },
  };
}

/** What reading a model tells the user on stderr: downloads, slow remote reads, redirects. */
function progress(timeoutSeconds: number | undefined): Pick<ReadKernelOptions, 'onProgress' | 'onDownload' | 'readTimeoutMs' | 'onReadProgress' | 'onRedirect'> {
  let shown = -1;
  return {
    readTimeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
    onReadProgress: ({ url, received, elapsedMs }) =>
      process.stderr.write(`  still reading ${e(url)}: ${received.toLocaleString('en')} bytes received after ${Math.round(elapsedMs / 1000)} s\n`),
    onRedirect: ({ from, to }) => process.stderr.write(`redirected: ${e(from)} → ${e(to)}\n`),
    onDownload: (url) => process.stderr.write(`downloading ${e(url)} (once; cached afterwards)\n`),
    onProgress: ({ received, total }) => {
      const step = total ? Math.floor((received / total) * 10) : Math.floor(received / 1e7);
      if (step === shown) return;
      shown = step;
      process.stderr.write(total ? `  ${step * 10}% of ${(total / 1e6).toFixed(1)} MB\n` : `  ${(received / 1e6).toFixed(1)} MB\n`);
    },
  };
}

/** Writes next to the target and renames, so an interrupted run never leaves half a PNG. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new Conv1Error(path, `cannot be written (${describeError(error)})`, 'Choose an output path in a folder you can write to.', { cause: error });
  }
}

function describe(summary: ModelSummary): string {
  const { kernel, convolutions, filesRead, redirects, notes } = summary;
  const lines = [
    `model       ${e(kernel.source)}`,
    ...redirects.map(({ from, to }) => `redirected  ${e(from)} → ${e(to)}`),
    `format      ${kernel.format}`,
    `layer       ${e(kernel.layer)} (${e(kernel.layerType)})`,
    `shape       ${kernel.shape.join(' × ')}  (height, width, input channels, filters)`,
    `strides     ${kernel.strides.join(' × ')}`,
    `channels    ${kernel.channelOrder.toUpperCase()} (${kernel.channelOrderSource})`,
    `bytes read  ${kernel.bytesRead.toLocaleString('en')} from ${e(filesRead.join(', '))}`,
    ...notes.map((note) => `note        ${e(note)}`),
    `convolutions (${convolutions.length}, from the input):`,
    ...convolutions.slice(0, 12).map((c) => `  ${c === convolutions.find((x) => x.name === kernel.layer) ? '*' : ' '} ${e(c.name)}  ${c.shape.join('×')}  stride ${c.strides.join('×')}  ${e(c.layerType)}`),
  ];
  if (convolutions.length > 12) lines.push(`    … ${convolutions.length - 12} more`);
  return `${lines.join('\n')}\n`;
}

/**
 * Verdicts that fail the report's exit status: positive evidence the layer never learned. The others
 * pass: "partly-noisy" is what a layer still training, or a trained one with a few noisy filters,
 * looks like (a warning, worth reading, not a broken run); "few-edges" is a smooth layer that learned
 * something other than edges, which the rule of thumb cannot call wrong; "too-small" means the
 * filters cannot be judged, and no evidence is not evidence of a fault.
 */
const UNTRAINED: readonly VerdictKind[] = ['noisy', 'dead'];

function describeReport(report: LayerReport): string {
  const fixed = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '—' : v.toFixed(digits));
  const { noise, strength } = report;
  // Decimals for about three significant digits on a typical filter, the same for all, so the column lines up.
  const l2Digits = Math.max(0, 2 - Math.floor(Math.log10(strength.medianL2 || 1)));
  // Past a dozen, indices are a wall of numbers; the table's marks say which.
  const which = (list: readonly number[]): string => (list.length === 0 ? 'none' : list.length <= 12 ? list.join(', ') : `${list.length} of ${report.filters.length}, marked in the table`);
  const pairs = (list: LayerReport['duplicates']): string => list.map(({ a, b, cosine }) => `${a}–${b} (${cosine.toFixed(2)})`).join(', ');
  const table = [
    ['#', 'family', 'orient°', 'select', 'freq', 'Gabor R²', 'colour', 'noise', 'L2', 'marks'],
    ...report.filters.map((f) => [
      String(f.index),
      f.family,
      fixed(f.spectrum.orientationDeg, 1),
      fixed(f.spectrum.selectivity),
      fixed(f.spectrum.frequency),
      fixed(f.gabor?.r2),
      fixed(f.colour.colourShare),
      fixed(f.noise.score),
      f.strength.l2.toFixed(l2Digits),
      [f.strength.dead ? 'dead' : '', f.noise.noisy ? 'noisy' : ''].filter(Boolean).join(' '),
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  // Names and marks left-aligned, numbers right-aligned so their decimal points line up.
  const left = new Set([1, table[0]!.length - 1]);
  const rows = table.map((row) => row.map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());

  const summary = [
    ['layer', `${e(report.layer)}  ${report.shape.join(' × ')}, ${report.channelOrder.toUpperCase()}`],
    ['families', FAMILIES.map((family) => `${family} ${report.families[family]}`).join(', ')],
    ['edge share', `${Math.round(report.edgeShare * 100)}% of live filters are edge or colour-contrast`],
    [
      'noise',
      noise
        ? `median ${fixed(noise.median)}, mean ${fixed(noise.mean)}, max ${fixed(noise.max)}; noisy filters: ${which(noise.noisyFilters)}`
        : 'not measured (filters too small, or all dead)',
    ],
    ['dead', `${which(strength.deadFilters)} (L2 under ${strength.deadBelowL2.toFixed(l2Digits + 1)}, ${DEAD_NORM_RATIO} × the median ${strength.medianL2.toFixed(l2Digits)})`],
    ['duplicates', report.duplicates.length ? `${pairs(report.duplicates)}: redundant capacity` : 'none'],
    ['negated pairs', report.negatedPairs.length ? `${pairs(report.negatedPairs)}: expected, not a fault` : 'none'],
    ['verdict', report.verdict.summary],
  ];
  const labelWidth = Math.max(...summary.map(([label]) => label!.length));
  return `${rows.join('\n')}\n\n${summary.map(([label, text]) => `${label!.padEnd(labelWidth)}  ${text}`).join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    process.stderr.write(`astro-conv1: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  const { command, model, checkpoints, options } = parsed;
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (command === 'timeline') return await timelineCommand(checkpoints, { layer: options.layer, channels: options.channels, json: options.json, ...progress(options.timeout) });
    const summary = await readModel(model, { layer: options.layer, channels: options.channels, ...progress(options.timeout) });
    const { kernel } = summary;
    if (command === 'info') {
      const { data, ...facts } = kernel;
      process.stdout.write(options.json ? `${jsonForTerminal({ ...facts, convolutions: summary.convolutions, filesRead: summary.filesRead, redirects: summary.redirects, notes: summary.notes })}\n` : describe(summary));
    } else if (command === 'report') {
      const report = analyseLayer(kernel);
      process.stdout.write(options.json ? `${jsonForTerminal(report)}\n` : describeReport(report));
      return UNTRAINED.includes(report.verdict.kind) ? 1 : 0;
    } else if (command === 'grid') {
      const path = resolve(options.output ?? 'conv1-grid.png');
      const image = enlarge(renderGrid(kernel, { order: options.order, normalize: options.normalize, rounding: options.rounding }), options.scale ?? 8);
      await writeAtomically(path, encodePng(image));
      process.stdout.write(`${path}  ${image.width}×${image.height}  ${e(kernel.layer)} ${kernel.shape.join('×')}, ${options.order} order, ${options.normalize} normalisation\n`);
    } else {
      const folder = resolve(options.output ?? 'conv1-filters');
      const count = kernel.shape[3];
      for (let f = 0; f < count; f++) {
        await writeAtomically(join(folder, `filter-${String(f).padStart(String(count - 1).length, '0')}.png`), encodePng(enlarge(filterImage(kernel, f, options.normalize, { rounding: options.rounding }), options.scale ?? 16)));
        if (process.stderr.isTTY) process.stderr.write(`\r  ${f + 1}/${count}`);
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`${folder}  ${count} filters of ${e(kernel.layer)}, ${options.normalize} normalisation\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof Conv1Error)) throw error;
    process.stderr.write(`astro-conv1: ${error.message}\n  hint: ${error.hint}\n`);
    return 3;
  }
}

// A reader that closes the pipe early (astro-conv1 report … | head) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A bug, not a verdict: keep exit status 1 for "looks untrained".
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`astro-conv1: unexpected error, please report it:\n${text.split('\n').map(e).join('\n')}\n`);
  process.exitCode = 4;
}
