import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { VerdictKind } from '../lib/analyse/index.ts';
import type { ReadKernelOptions } from '../lib/read-kernel.ts';
import { resolveSeries, type SeriesSpec } from '../lib/timeline/series.ts';
import { measureSeries, type TimelinePoint } from '../lib/timeline/timeline.ts';

/**
 * `astro-conv1 timeline`: one line per checkpoint, printed as each is measured, so a long series shows
 * progress. The exit status follows the last checkpoint only: a run is judged by where it ended, and a
 * training pipeline can gate on it.
 */

/** One folder or glob is listed; anything else is taken as the checkpoint files themselves. */
async function seriesSpec(paths: readonly string[]): Promise<SeriesSpec> {
  if (paths.length === 1) {
    const [only] = paths as [string];
    if (/[*?[\]{}]/.test(only) || (await stat(only).catch(() => undefined))?.isDirectory()) return only;
  }
  return paths;
}

function line(point: TimelinePoint, stepWidth: number): string {
  const noise = point.report.noise ? point.report.noise.median.toFixed(3) : '—';
  const edges = `${Math.round(point.report.edgeShare * 100)}%`;
  return `${String(point.step).padStart(stepWidth)}  ${noise.padStart(12)}  ${edges.padStart(10)}  ${point.report.verdict.kind}`;
}

/** JSON of one point: what a script gating on a run needs, without the per-filter table. */
function asJson({ file, step, report, meanL2 }: TimelinePoint) {
  return { file, step, noise: report.noise, edgeShare: report.edgeShare, families: report.families, meanL2, verdict: report.verdict };
}

export async function timelineCommand(paths: readonly string[], options: ReadKernelOptions & { json: boolean }): Promise<number> {
  const series = await resolveSeries(await seriesSpec(paths), pathToFileURL(`${process.cwd()}/`));
  const stepWidth = Math.max(4, ...series.map(({ step }) => String(step).length));
  const points: TimelinePoint[] = [];
  if (!options.json) process.stdout.write(`${'step'.padStart(stepWidth)}  median noise  edge share  verdict\n`);
  for await (const { filters: _filters, ...point } of measureSeries(series, options)) {
    points.push(point);
    if (!options.json) process.stdout.write(`${line(point, stepWidth)}\n`);
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ checkpoints: points.map(asJson) }, null, 2)}\n`);
  const last: VerdictKind = points.at(-1)!.report.verdict.kind;
  return last === 'trained-looking' ? 0 : 1;
}
