/**
 * The timeline's budget: figures for 12 checkpoints of a 64-filter layer add at most 2 s to a cold
 * build and nothing measurable to a warm one.
 *
 * The checkpoints: ResNet50's conv1 under Gaussian noise that fades over 12 log-spaced steps, written
 * as safetensors under bench/results/timeline/run/ (a benchmark input of the right size and kind, not
 * a training run; the site's own timeline shows the real run of `npm run train`). The sites:
 * - one: the repository's site as it is (bench/build-configs/ours.astro.config.mjs);
 * - timeline: the same site with `checkpoints` added to the default model's options and one more
 *   page, /timeline/, that shows <Conv1Timeline /> (bench/build-configs/extended.astro.config.mjs).
 * Kinds, interleaved in a rotating order each round: cold-one and cold-timeline (figure cache
 * emptied), warm-one and warm-timeline. Everything is written under bench/results/timeline/.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_MODEL, readModel } from '../src/lib/index.ts';
import { withGaussianNoise } from '../src/lib/analyse/index.ts';
import { hwioToOihw, writeSafetensors } from '../test/helpers/safetensors-fixture.ts';
import { linkModels, runBuild, stats, type BuildRun, type BuildSpec, type BuildStats } from './build.ts';

const STEPS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];
export const TIMELINE_BUDGET = { coldAddedMs: 2000, warmRatio: 1.03 };
type Kind = 'cold-one' | 'cold-timeline' | 'warm-one' | 'warm-timeline';
const KINDS: Kind[] = ['cold-one', 'cold-timeline', 'warm-one', 'warm-timeline'];

export interface TimelineBenchResult {
  runs: number;
  builds: Partial<Record<Kind, BuildStats>>;
  addedColdMs?: number | undefined;
  warmRatio?: number | undefined;
  training: { run: string; wallMs: number; cpuMs: number; steps: number }[];
  /** Both runs side by side, as `npm run train` timed them. */
  trainingWallMs?: number | undefined;
  notes: string[];
  loadBefore: number;
  loadAfter: number;
}

/** Noise from 2× the kernel's standard deviation at step 0 down to none at the last step. */
async function writeCheckpoints(root: URL, folder: URL): Promise<void> {
  const { kernel } = await readModel(DEFAULT_MODEL, { packageCache: new URL('node_modules/.astro/conv1/models/', root) });
  await mkdir(folder, { recursive: true });
  for (const [i, step] of STEPS.entries()) {
    const strength = 2 * (1 - i / (STEPS.length - 1)) ** 2;
    const noisy = withGaussianNoise(kernel, strength, 5);
    const [h, w, cin, cout] = noisy.shape;
    await writeSafetensors(new URL(`step-${step}.safetensors`, folder), [{ name: 'conv1.weight', shape: [cout, cin, h, w], values: hwioToOihw(noisy.data, noisy.shape) }]);
  }
}

function spec(root: URL, dir: URL, run: URL, kind: Kind): BuildSpec {
  const side = kind.endsWith('one') ? 'one' : 'timeline';
  const cacheDir = new URL(`cache-${side}/`, dir);
  const clear = kind.startsWith('cold') ? [new URL('conv1/figures/', cacheDir)] : [];
  const extended = { BENCH_CONV1_EXTRA: JSON.stringify({ checkpoints: fileURLToPath(run) }), BENCH_EXTRA_PAGE: 'timeline' };
  return {
    kind,
    config: new URL(`bench/build-configs/${side === 'one' ? 'ours' : 'extended'}.astro.config.mjs`, root),
    cacheDir,
    outDir: new URL(`out-${side}/`, dir),
    env: side === 'one' ? {} : extended,
    clear,
  };
}

/** The training runs' own records (training/runs/*.json), as `npm run train` wrote them with the checkpoints the site shows. */
async function trainingTimes(root: URL): Promise<Pick<TimelineBenchResult, 'training' | 'trainingWallMs'>> {
  const read = (path: string) => readFile(new URL(path, root), 'utf8').then(JSON.parse, () => undefined);
  const timing = await read('training/runs/timing.json');
  const training: TimelineBenchResult['training'] = [];
  for (const run of ['real', 'shuffled']) {
    const record = await read(`training/runs/${run}/run.json`);
    if (record && typeof record.wallSeconds === 'number')
      training.push({ run, wallMs: record.wallSeconds * 1000, cpuMs: record.cpuSeconds * 1000, steps: record.checkpoints?.at(-1)?.step ?? 0 });
  }
  return { training, trainingWallMs: typeof timing?.wallSeconds === 'number' ? timing.wallSeconds * 1000 : undefined };
}

export async function benchTimeline(root: URL, runs = 3, log: (line: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<{ result: TimelineBenchResult; section: string }> {
  const dir = new URL('bench/results/timeline/', root);
  const run = new URL('run/', dir);
  const result: TimelineBenchResult = { runs: Math.max(3, runs), builds: {}, ...(await trainingTimes(root)), notes: [], loadBefore: loadavg()[0]!, loadAfter: 0 };
  await writeCheckpoints(root, run);
  await linkModels(root, new URL('models/', dir), [new URL('cache-one/', dir), new URL('cache-timeline/', dir)]);
  log('timeline: first builds (untimed), one model and with the timeline…');
  for (const kind of ['cold-one', 'cold-timeline'] as const) {
    const first = await runBuild(root, dir, spec(root, dir, run, kind));
    if (!first.ok) result.notes.push(`the ${kind} site does not build: ${first.error}`);
  }
  if (result.notes.length === 0) {
    const all: BuildRun[] = [];
    for (let round = 0; round < result.runs; round++)
      for (let i = 0; i < KINDS.length; i++) {
        const kind = KINDS[(i + round) % KINDS.length]!;
        const build = await runBuild(root, dir, spec(root, dir, run, kind));
        all.push(build);
        log(`timeline: round ${round + 1} ${kind}: ${(build.wallMs / 1000).toFixed(2)} s${build.ok ? '' : ` FAILED: ${build.error}`}`);
      }
    for (const kind of KINDS) if (all.some((r) => r.kind === kind && r.ok)) result.builds[kind] = stats(kind, all.filter((r) => r.kind === kind));
    const { 'cold-one': coldOne, 'cold-timeline': coldTimeline, 'warm-one': warmOne, 'warm-timeline': warmTimeline } = result.builds;
    if (coldOne && coldTimeline) result.addedColdMs = coldTimeline.medianWallMs - coldOne.medianWallMs;
    if (warmOne && warmTimeline) result.warmRatio = warmTimeline.medianWallMs / warmOne.medianWallMs;
  }
  result.loadAfter = loadavg()[0]!;
  return { result, section: timelineSection(result) };
}

const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const verdict = (met: boolean | undefined) => (met === undefined ? 'not judged' : met ? 'met' : '**missed**');

export function timelineSection(r: TimelineBenchResult): string {
  const lines = ['## 5. A training timeline (`astro build`, fresh process, wall time)', ''];
  lines.push(
    `The budget: timeline figures for ${STEPS.length} checkpoints of a 64-filter layer (ResNet50's conv1 under fading noise, steps ${STEPS[0]}–${STEPS.at(-1)}) add at most ${s(TIMELINE_BUDGET.coldAddedMs)} to a cold build and nothing measurable to a warm one (taken as at most ${Math.round((TIMELINE_BUDGET.warmRatio - 1) * 100)}%). ` +
      'The site is the repository\'s own with `checkpoints` added to its default model and one more page that shows `<Conv1Timeline />`.',
    '',
    '| build | median | runs (s) |',
    '|---|---|---|',
    ...KINDS.map((kind) => {
      const b = r.builds[kind];
      return `| ${kind} | ${b ? `**${s(b.medianWallMs)}**` : 'failed'} | ${b ? b.runs.filter((x) => x.ok).map((x) => (x.wallMs / 1000).toFixed(2)).join(', ') : ''} |`;
    }),
    '',
    `Cold: the timeline adds **${r.addedColdMs === undefined ? '—' : `${r.addedColdMs < 0 ? '−' : '+'}${s(Math.abs(r.addedColdMs))}`}** (target ≤ ${s(TIMELINE_BUDGET.coldAddedMs)}: ${verdict(r.addedColdMs === undefined ? undefined : r.addedColdMs <= TIMELINE_BUDGET.coldAddedMs)}). ` +
      `Warm: **${r.warmRatio === undefined ? '—' : `${r.warmRatio.toFixed(3)}×`}** the one-model warm build (target ≤ ${TIMELINE_BUDGET.warmRatio}×: ${verdict(r.warmRatio === undefined ? undefined : r.warmRatio <= TIMELINE_BUDGET.warmRatio)}). ` +
      `Medians of ${r.runs} runs of each kind, interleaved; load average ${r.loadBefore.toFixed(1)} before, ${r.loadAfter.toFixed(1)} after.`,
    '',
  );
  if (r.training.length)
    lines.push(
      `The training runs behind the site's own timeline (\`npm run train\`, as recorded in training/runs/ when the committed checkpoints were made; budget 10 minutes for both on 2 cores): ` +
        `${r.training.map((t) => `${t.run} labels ${s(t.wallMs)} wall, ${s(t.cpuMs)} CPU, ${t.steps} steps`).join('; ')}; both side by side ${s(r.trainingWallMs)} (${r.trainingWallMs !== undefined && r.trainingWallMs <= 600_000 ? 'met' : '**missed**'}).`,
      '',
    );
  if (r.notes.length) lines.push('Notes:', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

// `node bench/timeline.ts [runs]`: this benchmark alone, its section printed.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = new URL('../', import.meta.url);
  const { result, section } = await benchTimeline(root, Number(process.argv[2] ?? 3));
  await writeFile(new URL('bench/results/timeline/result.json', root), JSON.stringify(result, null, 2));
  process.stdout.write(section);
}
