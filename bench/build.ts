/**
 * The build of the whole site (`astro build`), ours against a peer that builds the same pages without
 * the integration.
 *
 * - peer: plain Astro on the same root, src/ and content/ (bench/build-configs/peer.astro.config.mjs):
 *   no conv1 integration; `virtual:conv1` is the static module text the integration served in a normal
 *   build (captured by that build), and the figures are static files in the peer's public folder at the
 *   same URLs (copied from that build's _astro/conv1/).
 * - ours, warm: the repository's astro.config.mjs unchanged (bench/build-configs/ours.astro.config.mjs
 *   only moves outDir and cacheDir under bench/results/build/), models downloaded, figures cached.
 * - ours, cold: the same, with the figure cache emptied before each run (models still downloaded).
 *
 * Every build runs in a fresh process (`node node_modules/astro/bin/astro.mjs build`) and its wall time
 * covers everything from process start to exit. The three kinds of build are interleaved, rotating
 * their order each round, so that load from other work on the machine falls on all of them alike;
 * medians are reported. Each kind has its own cacheDir, warmed by an untimed build first, so that Astro's
 * content store and Vite caches are as warm for the peer as for us; only the figure cache differs.
 * The benchmark never writes the repository's dist/ nor the shared node_modules/.astro/: models
 * already downloaded there are symlinked (read only) into bench/results/build/models/.
 *
 * The peer's output is compared file by file with ours (it must be the same site). To explain the
 * warm build's difference, the time to import the integration's code is measured apart.
 *
 * Also: the large figures, recomputed with the pipeline's functions, encoded as the pipeline does
 * (WebP) and as AVIF (a fast setting, and the quality giving the WebP's PSNR), to see for which
 * figures AVIF would pay for itself.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { median } from '../src/lib/analyse/analyse-filter.ts';

export type BuildKind = 'peer' | 'warm' | 'cold';

/** What the integration logged about one model's pipeline in one build. */
export interface ModelLog {
  /** Phase timings ("read done in 12 ms"…), by phase. */
  phases: Record<string, number>;
  /** The pipeline's own total ("… figures from cache in 80 ms"), when logged. */
  pipelineMs?: number | undefined;
  cached?: boolean | undefined;
  backend?: string | undefined;
  /** How many figures the model has ("474 figures rendered…"). */
  figures?: number | undefined;
  /** The layer drawn, as logged: its name and shape ("conv1 7×7×3×64"). */
  layer?: string | undefined;
}

export interface BuildRun {
  /** Which kind of build (peer, warm, cold… as each benchmark names them). */
  kind: string;
  ok: boolean;
  wallMs: number;
  /** user + system CPU time of the build process and its children, from /usr/bin/time. */
  cpuMs?: number | undefined;
  maxRssMb?: number | undefined;
  /** The default model's phase timings as logged ("read done in 12 ms"…), by phase. */
  phases: Record<string, number>;
  /** The default model's pipeline total ("… figures from cache in 80 ms"), when logged. */
  pipelineMs?: number | undefined;
  cached?: boolean | undefined;
  backend?: string | undefined;
  /** Every model's log, by name ("default" for the top-level one). */
  models: Record<string, ModelLog>;
  /** "wrote N figures in X ms". */
  figuresWritten?: number | undefined;
  writeMs?: number | undefined;
  /** Astro's "N page(s) built in X". */
  pagesMs?: number | undefined;
  /** Astro's own steps, as it logs their durations. */
  astro: Partial<Record<AstroStep, number>>;
  error?: string | undefined;
}

/**
 * Astro's steps as its build log times them: setup (config, content sync, types: "Collecting build
 * info… Completed in"), server (the Vite build of the pages, which waits for virtual:conv1), client
 * (the Vite build for the browser, which also copies public/), routes (generating the static pages),
 * build (everything after setup).
 */
export const ASTRO_STEPS = ['setup', 'server', 'client', 'routes', 'build'] as const;
export type AstroStep = (typeof ASTRO_STEPS)[number];

/** Summed over every model a build drew (the gallery's too), with the moment the last one was done. */
export interface FigureWork {
  models: number;
  figures: number;
  /** Each phase's logged time, summed over the models (they run side by side, so more than wall time). */
  phases: Record<string, number>;
  /** The longest pipeline as logged, from the config's load (when every model is queued) to its last figure. */
  lastMs: number;
}

export interface BuildStats {
  kind: string;
  runs: BuildRun[];
  medianAstro: Partial<Record<AstroStep, number>>;
  /** Medians over the runs of each FigureWork field. */
  medianFigureWork: FigureWork | undefined;
  medianWallMs: number;
  medianCpuMs: number | undefined;
  medianPhases: Record<string, number>;
  medianPipelineMs: number | undefined;
  medianWriteMs: number | undefined;
  medianPagesMs: number | undefined;
}

/** One figure encoded three ways: as the pipeline encodes it (WebP), as a fast AVIF, and as the smallest AVIF as faithful as that WebP. */
export interface FormatResult {
  figure: string;
  width: number;
  height: number;
  webp: { bytes: number; psnr: number; ms: number };
  avif: { bytes: number; psnr: number; ms: number };
  /** The lowest AVIF quality on the ladder whose PSNR reaches the WebP's (at the pipeline's effort). */
  matched: { quality: number; bytes: number; psnr: number } | undefined;
}

export interface BuildBenchResult {
  /** Timed builds of each kind. */
  runs: number;
  peer?: BuildStats | undefined;
  warm?: BuildStats | undefined;
  cold?: BuildStats | undefined;
  warmRatio?: number | undefined;
  coldRatio?: number | undefined;
  warmMet?: boolean | undefined;
  coldMet?: boolean | undefined;
  /** Whether the peer's output is byte for byte the same as ours. */
  identical?: { same: boolean; files: number; differences: string[] } | undefined;
  formats?: { results: FormatResult[]; conclusions: string[] } | undefined;
  /** Median time to import the integration's code in a fresh Node process that has already loaded what the peer's config loads. */
  integrationLoadMs?: number | undefined;
  /** The module `import('astro-conv1')` loaded there, relative to the root. */
  integrationEntry?: string | undefined;
  notes: string[];
  loadBefore: number;
  loadAfter: number;
}

/** The whole site, gallery included: warm and cold builds against the peer, and the build's peak memory. */
export const TARGETS = { warm: 1.15, cold: 1.5, peakMemoryMb: 1024 };

const BUILD_TIMEOUT_MS = 20 * 60_000;

export const medianOf = (values: (number | undefined)[]) => {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length ? median(present) : undefined;
};

const path = (url: URL) => fileURLToPath(url);
export const exists = (url: URL) => lstat(url).then(() => true, () => false);
// eslint-disable-next-line no-control-regex
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Parses the integration's and Astro's log lines of one build. The integration logs each model's
 * phases under [astro-conv1/<phase>] (the default model) or [astro-conv1/<name>/<phase>], and one
 * total line per model under [astro-conv1], prefixed with "<name>: " except for the default model.
 */
export function parseBuildLog(log: string): Pick<BuildRun, 'phases' | 'pipelineMs' | 'cached' | 'backend' | 'models' | 'figuresWritten' | 'writeMs' | 'pagesMs' | 'astro'> {
  const models: Record<string, ModelLog> = {};
  const model = (name: string) => (models[name] ??= { phases: {} });
  const run: Omit<ReturnType<typeof parseBuildLog>, 'phases' | 'models' | 'astro'> = {};
  const astro: BuildRun['astro'] = {};
  const ms = (value: string, unit: string) => Number(value) * (unit === 's' ? 1000 : 1);
  for (const line of stripAnsi(log).split('\n')) {
    const pages = /\[build\] \d+ page\(s\) built in ([\d.]+)(m?s)/.exec(line);
    if (pages) run.pagesMs = ms(pages[1]!, pages[2]!);
    const step = /(\[build\] |\[vite\] |\s)✓ (?:Completed|built) in ([\d.]+)(m?s)/.exec(line);
    if (step) {
      const tag = step[1]!.trim();
      const name = tag === '[build]' ? (astro.setup === undefined ? 'setup' : 'build') : tag === '[vite]' ? (astro.server === undefined ? 'server' : 'client') : 'routes';
      astro[name] ??= ms(step[2]!, step[3]!);
    }
    const conv1 = /\[astro-conv1(?:\/([\w-]+))?(?:\/([\w-]+))?\]\s+(.*)$/.exec(line);
    if (!conv1) continue;
    const [, first, second, message] = conv1 as unknown as [string, string | undefined, string | undefined, string];
    const phase = /^([\w-]+) done in (\d+) ms/.exec(message);
    if (phase && first !== undefined) {
      const phases = model(second === undefined ? 'default' : first).phases;
      phases[phase[1]!] = (phases[phase[1]!] ?? 0) + Number(phase[2]);
    }
    const total = /^(?:([A-Za-z][\w-]*): )?(.+?) from .*; (\d+) figures (from cache|rendered, convolved on (.+?)) in (\d+) ms/.exec(message);
    if (total && first === undefined) {
      const entry = model(total[1] ?? 'default');
      entry.layer = total[2];
      entry.figures = Number(total[3]);
      entry.pipelineMs = Number(total[6]);
      entry.cached = total[4] === 'from cache';
      if (total[5]) entry.backend = total[5];
    }
    const wrote = /wrote (\d+) figures in (\d+) ms/.exec(message);
    if (wrote) {
      run.figuresWritten = Number(wrote[1]);
      run.writeMs = Number(wrote[2]);
    }
  }
  const main = models['default'];
  return { ...run, phases: main?.phases ?? {}, pipelineMs: main?.pipelineMs, cached: main?.cached, backend: main?.backend, models, astro };
}

/** What a build's log says of its figure work, all models together; undefined for a build without the integration. */
export function figureWork(run: BuildRun): FigureWork | undefined {
  const logged = Object.values(run.models).filter((m) => m.pipelineMs !== undefined);
  if (logged.length === 0) return undefined;
  const phases: Record<string, number> = {};
  for (const m of logged) for (const [phase, ms] of Object.entries(m.phases)) phases[phase] = (phases[phase] ?? 0) + ms;
  return { models: logged.length, figures: logged.reduce((sum, m) => sum + (m.figures ?? 0), 0), phases, lastMs: Math.max(...logged.map((m) => m.pipelineMs!)) };
}

interface Layout {
  root: URL;
  dir: URL;
  models: URL;
  capture: URL;
  peerPublic: URL;
  cache: Record<'peer' | 'ours', URL>;
  out: Record<'peer' | 'ours', URL>;
  config: Record<'peer' | 'ours', URL>;
}

function layout(root: URL): Layout {
  const dir = new URL('bench/results/build/', root);
  return {
    root,
    dir,
    models: new URL('models/', dir),
    capture: new URL('virtual-conv1.mjs', dir),
    peerPublic: new URL('peer-public/', dir),
    cache: { peer: new URL('cache-peer/', dir), ours: new URL('cache-ours/', dir) },
    out: { peer: new URL('out-peer/', dir), ours: new URL('out-ours/', dir) },
    config: { peer: new URL('bench/build-configs/peer.astro.config.mjs', root), ours: new URL('bench/build-configs/ours.astro.config.mjs', root) },
  };
}

/**
 * The cacheDirs get conv1/models → `models` (e.g. bench/results/build/models/), which holds symlinks
 * to the packages already unpacked in the shared cache (complete ones only: those with their
 * integrity marker). A package missing there is downloaded by the first build into our own folder
 * and kept for later runs.
 */
export async function linkModels(root: URL, models: URL, caches: URL[]): Promise<string[]> {
  const shared = new URL('node_modules/.astro/conv1/models/', root);
  await mkdir(models, { recursive: true });
  const linked: string[] = [];
  for (const name of await readdir(shared).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    const target = new URL(`${name}/`, shared);
    if (!(await exists(new URL('.conv1-integrity', target)))) continue;
    const link = new URL(name, models);
    if (!(await exists(link))) await symlink(path(target), path(link), 'dir');
    linked.push(decodeURIComponent(name));
  }
  for (const cache of caches) {
    await mkdir(new URL('conv1/', cache), { recursive: true });
    const link = new URL('conv1/models', cache);
    if (!(await exists(link))) await symlink(path(models), path(link), 'dir');
  }
  return linked;
}

/** One `astro build` to run: its config (a wrapper in bench/build-configs/), folders and environment. */
export interface BuildSpec {
  kind: string;
  config: URL;
  cacheDir: URL;
  outDir: URL;
  env?: Record<string, string> | undefined;
  /** Folders deleted before the build (and before its clock starts), e.g. a figure cache. */
  clear?: URL[] | undefined;
}

/**
 * Runs one build in a fresh process (`node node_modules/astro/bin/astro.mjs build`) and times it from
 * process start to exit; CPU time and peak memory from /usr/bin/time when there is one. The log of
 * the latest build of each kind is kept in `logDir`, for reading.
 */
export async function runBuild(root: URL, logDir: URL, spec: BuildSpec): Promise<BuildRun> {
  for (const folder of spec.clear ?? []) await rm(folder, { recursive: true, force: true });
  const timeFile = new URL(`time-${spec.kind}.txt`, logDir);
  await rm(timeFile, { force: true });
  const astro = path(new URL('node_modules/astro/bin/astro.mjs', root));
  // Astro joins --config to the root, so it must be relative.
  const args = ['build', '--config', relative(path(root), path(spec.config)), '--root', path(root)];
  const useTime = await exists(new URL('file:///usr/bin/time'));
  const [command, argv] = useTime ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', path(timeFile), process.execPath, astro, ...args]] : [process.execPath, [astro, ...args]];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BASE: '/',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    BENCH_OUT_DIR: path(spec.outDir),
    BENCH_CACHE_DIR: path(spec.cacheDir),
    ...spec.env,
  };
  const started = performance.now();
  const { code, log } = await new Promise<{ code: number | null; log: string }>((resolve, reject) => {
    const child = spawn(command, argv as string[], { cwd: path(root), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, log });
    });
  });
  const wallMs = performance.now() - started;
  await writeFile(new URL(`log-${spec.kind}.txt`, logDir), log);
  const times = useTime ? (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop()?.split(' ').map(Number) : undefined;
  const run: BuildRun = {
    kind: spec.kind,
    ok: code === 0,
    wallMs,
    cpuMs: times && times.length === 3 && times.every(Number.isFinite) ? (times[0]! + times[1]!) * 1000 : undefined,
    maxRssMb: times && times.length === 3 ? times[2]! / 1024 : undefined,
    ...parseBuildLog(log),
  };
  if (!run.ok) {
    const lines = stripAnsi(log).split('\n').map((s) => s.trim()).filter(Boolean);
    const at = lines.findIndex((s) => /\[ERROR\]|Error:|error/.test(s));
    run.error = (at >= 0 ? lines.slice(at, at + 3) : lines.slice(-3)).join(' / ').slice(0, 400);
  }
  return run;
}

function astroBuild(l: Layout, kind: BuildKind, extraEnv: Record<string, string> = {}): Promise<BuildRun> {
  const side = kind === 'peer' ? 'peer' : 'ours';
  return runBuild(l.root, l.dir, {
    kind,
    config: l.config[side],
    cacheDir: l.cache[side],
    outDir: l.out[side],
    env: { ...(side === 'peer' ? { BENCH_PUBLIC_DIR: path(l.peerPublic), BENCH_CONV1_MODULE: path(l.capture) } : {}), ...extraEnv },
    clear: kind === 'cold' ? [new URL('conv1/figures/', l.cache.ours)] : [],
  });
}

/** The models of a `virtual:conv1` module captured from a build (see ours.astro.config.mjs), by name. */
export async function readCapture(capture: URL): Promise<Record<string, { data: { key: string; photoWidth: number; model: { source: string } } }>> {
  const { models } = (await import(`${pathToFileURL(path(capture)).href}?${Date.now()}`)) as { models: Record<string, { data: { key: string; photoWidth: number; model: { source: string } } }> };
  return models;
}

async function listFiles(dir: URL, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(new URL(`${entry.name}/`, dir), `${rel}/`)));
    else files.push(rel);
  }
  return files.sort();
}

export async function compareOutputs(a: URL, b: URL): Promise<{ same: boolean; files: number; differences: string[] }> {
  const [left, right] = await Promise.all([listFiles(a), listFiles(b)]);
  const differences = [...left.filter((f) => !right.includes(f)).map((f) => `only in ours: ${f}`), ...right.filter((f) => !left.includes(f)).map((f) => `only in peer: ${f}`)];
  const digest = async (url: URL) => createHash('sha256').update(await readFile(url)).digest('hex');
  for (const file of left.filter((f) => right.includes(f)))
    if ((await digest(new URL(file, a))) !== (await digest(new URL(file, b)))) differences.push(`differs: ${file}`);
  return { same: differences.length === 0, files: left.length, differences };
}

export function stats(kind: string, runs: BuildRun[]): BuildStats {
  const ok = runs.filter((r) => r.ok);
  const phaseNames = [...new Set(ok.flatMap((r) => Object.keys(r.phases)))];
  const works = ok.map(figureWork).filter((w): w is FigureWork => w !== undefined);
  const workPhases = [...new Set(works.flatMap((w) => Object.keys(w.phases)))];
  return {
    kind,
    runs,
    medianAstro: Object.fromEntries(ASTRO_STEPS.flatMap((step) => {
      const value = medianOf(ok.map((r) => r.astro[step]));
      return value === undefined ? [] : [[step, value]];
    })),
    medianFigureWork: works.length
      ? {
          models: median(works.map((w) => w.models)),
          figures: median(works.map((w) => w.figures)),
          phases: Object.fromEntries(workPhases.map((p) => [p, median(works.map((w) => w.phases[p] ?? 0))])),
          lastMs: median(works.map((w) => w.lastMs)),
        }
      : undefined,
    medianWallMs: median(ok.map((r) => r.wallMs)),
    medianCpuMs: medianOf(ok.map((r) => r.cpuMs)),
    medianPhases: Object.fromEntries(phaseNames.map((p) => [p, medianOf(ok.map((r) => r.phases[p]))!])),
    medianPipelineMs: medianOf(ok.map((r) => r.pipelineMs)),
    medianWriteMs: medianOf(ok.map((r) => r.writeMs)),
    medianPagesMs: medianOf(ok.map((r) => r.pagesMs)),
  };
}

const psnr = (a: Uint8Array, b: Uint8Array) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
};

interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The large figures of the default site, as the build draws them, recomputed with the pipeline's own functions: each photo and filter 0's response to it. */
async function largeFigures(l: Layout): Promise<{ name: string; pixels: Pixels }[]> {
  const conv1 = (await readCapture(l.capture))['default']!.data;
  const [{ readModel }, photo, response, { convolveAll }] = await Promise.all([
    import('../src/lib/read-kernel.ts'),
    import('../src/lib/convolve/photo.ts'),
    import('../src/lib/convolve/response.ts'),
    import('../src/lib/convolve/convolve-all.ts'),
  ]);
  const { kernel } = await readModel(conv1.model.source, { packageCache: l.models, root: l.root });
  const figures: { name: string; pixels: Pixels }[] = [];
  for (const src of photo.DEFAULT_PHOTOS) {
    const { id, file } = await photo.resolvePhoto({ src }, l.root);
    const pixels = await photo.loadPhoto(file, conv1.photoWidth);
    const { map } = await convolveAll(response.preprocess(pixels, kernel), kernel);
    figures.push({ name: `photo-${id}`, pixels: response.cropToResponse(pixels, kernel) }, { name: `response-${id}-00`, pixels: response.responseImage(map, 0) });
  }
  return figures;
}

const AVIF_LADDER = [50, 55, 60, 65, 70, 75, 80, 85, 90];
/** Effort 1 makes files as small as effort 2 in about two thirds of the time. */
const AVIF = { quality: 65, effort: 1 };

/**
 * Which format pays for which figures. Each large figure (photos, filter 0's responses) encoded as the
 * pipeline encodes it, as a fast AVIF, and at the lowest AVIF quality on a ladder whose PSNR reaches
 * the pipeline's: bytes, PSNR against the exact pixels, encode time (median of 3). Then, for each kind
 * of figure the build wrote, what AVIF instead of WebP costs a cold build and saves, judged at equal
 * fidelity (the ladder's AVIF against the WebP, all figures summed). The rule: AVIF where it saves at
 * least 10% of the bytes with the cold build still within its target.
 */
async function benchFormats(l: Layout, figures: URL, cold: BuildStats | undefined, peer: BuildStats | undefined): Promise<NonNullable<BuildBenchResult['formats']>> {
  const { TONE_ENCODING } = await import('../src/lib/figure-encoder.ts');
  const { small, large } = TONE_ENCODING;
  // Widened: the comparison holds whichever format the pipeline uses for each kind.
  const formatOf = (kind: 'small' | 'large'): string => TONE_ENCODING[kind].format;
  const results: FormatResult[] = [];
  for (const { name, pixels } of await largeFigures(l)) {
    const { width, height, data } = pixels;
    const raw = () => sharp(data, { raw: { width, height, channels: 3 } });
    const quality = async (bytes: Buffer) => psnr(data, new Uint8Array(await sharp(bytes).removeAlpha().raw().toBuffer()));
    const measure = async (encode: () => Promise<Buffer>) => {
      const bytes = await encode(); // warm-up, and the output measured
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await encode();
        times.push(performance.now() - started);
      }
      return { bytes: bytes.byteLength, psnr: await quality(bytes), ms: median(times) };
    };
    const webp = await measure(() => raw().webp(small).toBuffer());
    const avif = await measure(() => raw().avif(AVIF).toBuffer());
    let matched: FormatResult['matched'];
    for (const q of AVIF_LADDER) {
      const bytes = await raw().avif({ quality: q, effort: AVIF.effort }).toBuffer();
      const fidelity = await quality(bytes);
      if (fidelity >= webp.psnr) {
        matched = { quality: q, bytes: bytes.byteLength, psnr: fidelity };
        break;
      }
    }
    results.push({ figure: name, width, height, webp, avif, matched });
  }

  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const webpBytes = sum(results.map((r) => r.webp.bytes));
  // A figure no AVIF on the ladder matches counts at its WebP size: AVIF gains nothing there.
  const matchedBytes = sum(results.map((r) => r.matched?.bytes ?? r.webp.bytes));
  const saved = 1 - matchedBytes / webpBytes;
  const extraMsPerFigure = sum(results.map((r) => r.avif.ms - r.webp.ms)) / results.length;
  // What the build wrote: large figures at full and half width (the half ≈ a quarter of the work), small ones at half width.
  const written = await readdir(figures);
  const count = (pattern: RegExp) => written.filter((n) => pattern.test(n)).length;
  const kinds = [
    { kind: 'large', format: formatOf('large'), files: count(new RegExp(`^(photo|response)-.*[^w]\\.[\\w-]+\\.${large.format}$`)), work: 1.25 },
    { kind: 'small', format: formatOf('small'), files: count(new RegExp(`^response-.*-\\d+w\\.[\\w-]+\\.${small.format}$`)), work: 0.25 },
  ] as const;
  const parallel = Math.min(cpus().length, 4);
  const conclusions = kinds.map(({ kind, format, files, work }) => {
    const avifMs = (files * work * extraMsPerFigure) / parallel;
    // The cold build measured already pays for the AVIF figures; WebP figures would add avifMs.
    const withAvif = cold && peer ? (cold.medianWallMs + (format === 'avif' ? 0 : avifMs)) / peer.medianWallMs : undefined;
    const pays = saved >= 0.1 && (withAvif === undefined || withAvif <= TARGETS.cold);
    const agrees = (format === 'avif') === pays;
    return (
      `${kind === 'large' ? 'Large figures' : 'Small figures'} (${files} ${kind === 'large' ? 'photos and full-width response maps, each also at half width' : 'response maps at half width'}; ${format === 'avif' ? 'AVIF' : 'WebP'} in the build): ` +
      `AVIF as faithful as the WebP saves ${(saved * 100).toFixed(0)}% of the bytes (all ${results.length} figures above) and costs about ${s(avifMs)} of a cold build on ${parallel} cores` +
      (withAvif !== undefined ? ` (cold with AVIF ≈ ${withAvif.toFixed(2)}× the peer)` : '') +
      `: AVIF ${pays ? 'pays' : 'does not pay'} for them; ${agrees ? 'the pipeline’s choice agrees' : '**the pipeline’s choice disagrees**'}.`
    );
  });
  return { results, conclusions };
}

/**
 * What loading the integration costs a fresh build process: Astro imports astro.config.mjs natively,
 * and with it `astro-conv1`, the package's compiled entry (compiled/integrations/conv1/index.js, as a
 * user's site loads it from npm: plain JavaScript, nothing for Node to strip), before anything else
 * happens. Timed in a fresh Node, started in the repository's root, after importing what the peer's
 * config imports (astro/config, @astrojs/mdx): `import('astro-conv1')` resolves to the package itself
 * there, as the site's astro.config.mjs resolves it. Returns the median and the module it loaded.
 */
export async function measureIntegrationLoad(root: URL, runs = 5): Promise<{ ms: number; entry: string }> {
  const script = `await import('astro/config'); await import('@astrojs/mdx'); const t = performance.now(); await import('astro-conv1'); const ms = performance.now() - t; console.log(JSON.stringify({ ms, entry: import.meta.resolve('astro-conv1') }));`;
  const times: number[] = [];
  let entry = '';
  for (let i = 0; i < runs; i++) {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: path(root), stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    const measured = JSON.parse(out.trim().split('\n').pop()!) as { ms: number; entry: string };
    times.push(measured.ms);
    entry = relative(path(root), fileURLToPath(measured.entry));
  }
  return { ms: median(times), entry };
}

/** Runs the build benchmark (`runs` timed builds of each kind, at least 3): its numbers and its report section. */
export async function benchBuild(root: URL, runs = 5, log: (line: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<{ result: BuildBenchResult; section: string }> {
  const result = await measureBuild(root, runs, log);
  return { result, section: buildSection(result) };
}

async function measureBuild(root: URL, runs: number, log: (line: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BuildBenchResult> {
  const l = layout(root);
  const notes: string[] = [];
  const result: BuildBenchResult = { runs: Math.max(3, runs), notes, loadBefore: loadavg()[0]!, loadAfter: 0 };
  await mkdir(l.dir, { recursive: true });
  const linked = await linkModels(root, l.models, [l.cache.peer, l.cache.ours]);
  log(`build: models linked from the shared cache: ${linked.join(', ') || 'none'}`);

  // 1. A normal build of ours (untimed), which also warms its caches and captures virtual:conv1. It
  // starts without figures, so that data and figures come from the code as it is now: a cache entry
  // written by older code could carry data (e.g. bytesRead) that is not part of its key.
  await rm(l.capture, { force: true });
  log('build: first build of ours (untimed, cold; captures virtual:conv1)…');
  const first = await astroBuild(l, 'cold', { BENCH_CONV1_CAPTURE: path(l.capture) });
  if (!first.ok || !(await exists(l.capture))) {
    notes.push(`the site does not build, so the build was not measured: ${first.error ?? 'virtual:conv1 was not captured'}`);
    result.loadAfter = loadavg()[0]!;
    return result;
  }
  notes.push(`first build of ours (untimed, cold, sets up its cacheDir and captures \`virtual:conv1\` for the peer): ${(first.wallMs / 1000).toFixed(1)} s`);

  // 2. The peer's public folder: the repository's public/ plus the figures at the same URLs.
  const figures = new URL('_astro/conv1/', l.out.ours);
  await rm(l.peerPublic, { recursive: true, force: true });
  await mkdir(l.peerPublic, { recursive: true });
  const publicDir = new URL('public/', root);
  if (await exists(publicDir)) await cp(publicDir, l.peerPublic, { recursive: true });
  await cp(figures, new URL('_astro/conv1/', l.peerPublic), { recursive: true });
  log('build: first build of the peer (untimed)…');
  const peerFirst = await astroBuild(l, 'peer');
  if (!peerFirst.ok) {
    notes.push(`the peer does not build: ${peerFirst.error}`);
    result.loadAfter = loadavg()[0]!;
    return result;
  }

  // 3. Timed, interleaved: each round runs the three kinds, in an order rotated every round.
  const order: BuildKind[] = ['peer', 'warm', 'cold'];
  const all: BuildRun[] = [];
  for (let round = 0; round < result.runs; round++) {
    for (let i = 0; i < order.length; i++) {
      const kind = order[(i + round) % order.length]!;
      const run = await astroBuild(l, kind);
      all.push(run);
      log(`build: round ${round + 1} ${kind}: ${(run.wallMs / 1000).toFixed(2)} s${run.ok ? '' : ` FAILED: ${run.error}`}`);
    }
  }
  const failed = all.filter((r) => !r.ok);
  for (const r of failed) notes.push(`a ${r.kind} build failed: ${r.error}`);
  for (const kind of order) if (all.some((r) => r.kind === kind && r.ok)) result[kind] = stats(kind, all.filter((r) => r.kind === kind));
  for (const r of all.filter((r) => r.ok && r.kind !== 'peer')) {
    if (r.kind === 'warm' && r.cached === false) notes.push('a warm build rendered its figures: the figure cache was not reused');
    if (r.kind === 'cold' && r.cached === true) notes.push('a cold build found cached figures');
  }
  const { peer, warm, cold } = result;
  if (peer && warm) {
    result.warmRatio = warm.medianWallMs / peer.medianWallMs;
    result.warmMet = result.warmRatio <= TARGETS.warm;
  }
  if (peer && cold) {
    result.coldRatio = cold.medianWallMs / peer.medianWallMs;
    result.coldMet = result.coldRatio <= TARGETS.cold;
  }

  // src/ is edited by others while this runs: a changed cache key means ours no longer matches the capture.
  const capturedKey = (await readCapture(l.capture))['default']?.data.key;
  const keys = (await readdir(new URL('conv1/figures/', l.cache.ours)).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  if (capturedKey && !keys.includes(capturedKey))
    notes.push(`the figures' cache key changed while the benchmark ran (${capturedKey.slice(0, 8)} → ${keys.map((k) => k.slice(0, 8)).join(', ') || 'none'}): src/ was edited meanwhile, so the peer serves the first build's figures and data`);

  // 4. Same site? The last build of ours was a warm or cold one; figures are deterministic.
  result.identical = await compareOutputs(l.out.ours, l.out.peer).catch((error: Error) => {
    notes.push(`could not compare the outputs: ${error.message}`);
    return undefined;
  });

  log('build: encoding the large figures as WebP and AVIF…');
  result.formats = await benchFormats(l, figures, cold, peer).catch((error: Error) => {
    notes.push(`image formats not measured: ${error.message}`);
    return undefined;
  });
  if (warm) {
    const load = await measureIntegrationLoad(root).catch((error: Error) => void notes.push(`integration load time not measured: ${error.message}`));
    if (load) [result.integrationLoadMs, result.integrationEntry] = [load.ms, load.entry];
  }
  result.loadAfter = loadavg()[0]!;
  return result;
}

const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
/** A difference, with its sign: +0.25 s, −0.11 s. */
const signed = (ms: number) => (ms < 0 ? `−${s(-ms)}` : `+${s(ms)}`);
const msText = (ms: number | undefined) => (ms === undefined ? '—' : `${Math.round(ms)} ms`);
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** Where a build's time over the peer goes, from the integration's log and the measurements made apart. */
function explain(kind: 'warm' | 'cold', b: BuildStats, peer: BuildStats, r: BuildBenchResult): string {
  const overhead = b.medianWallMs - peer.medianWallMs;
  const work = b.medianFigureWork;
  const write = b.medianWriteMs ?? 0;
  const ratio = b.medianWallMs / peer.medianWallMs;
  const cpu = b.medianCpuMs !== undefined && peer.medianCpuMs !== undefined ? ` and ${signed(b.medianCpuMs - peer.medianCpuMs)} of CPU` : '';
  const head = `**${kind === 'warm' ? 'Warm' : 'Cold'}** (${ratio.toFixed(2)}×, target ≤ ${TARGETS[kind]}×: ${ratio <= TARGETS[kind] ? 'met' : '**missed**'}): ${signed(overhead)} of wall time against the peer${cpu}. `;
  const figures = b.runs.find((x) => x.figuresWritten)?.figuresWritten ?? '';
  const moved = `Moving the ${figures} figures into the output ${msText(write)} (each model's were written to a staging folder as soon as it was drawn, while Astro bundled; the folder is renamed into place at the end, where the peer copies the same files out of public/ after its bundles). `;
  const pool = work ? `The ${work.models} models' pipelines run in a pool of threads from the moment Astro loads the config, beside Astro's start-up, content sync and bundling; ` : '';
  if (kind === 'warm') {
    const load = r.integrationLoadMs;
    return (
      head +
      (load !== undefined
        ? `Loading the integration's code ≈ ${msText(load)} (Astro imports astro.config.mjs natively, and with it the package's compiled JavaScript, before the build starts; measured apart: \`import('astro-conv1')\`, which resolves to ${r.integrationEntry ? `\`${r.integrationEntry}\`` : 'the compiled entry'} as for a user's site, in a fresh Node that has already loaded astro/config and @astrojs/mdx, median of 5). `
        : '') +
      pool +
      (work ? `with every figure in the cache, the last was done ${msText(work.lastMs)} after the config loaded (the threads run compiled JavaScript and load only what finding a cache key needs). ` : '') +
      moved +
      'Ours is faster than the peer because the peer copies thousands of small files out of public/, which a warm build of ours moves with one rename.'
    );
  }
  const sums = work ? Object.entries(work.phases).map(([phase, ms]) => `${phase} ${msText(ms)}`).join(', ') : '';
  const main = Object.entries(b.medianPhases).map(([phase, ms]) => `${phase} ${msText(ms)}`).join(', ');
  return (
    head +
    pool +
    (work ? `the last of them was done ${msText(work.lastMs)} after the config loaded. Summed over the models: ${sums} (side by side in the pool, so the sums exceed the wall time); ` : '') +
    `the default model alone: ${main} (convolved on ${b.runs.find((x) => x.backend)?.backend ?? '?'}). ` +
    moved +
    `The added CPU is the figure work itself: drawing and encoding ${work ? `the ${work.figures}` : 'the'} figures (exact pixels as PNG by the pipeline's own writer on the pipeline threads, photos and responses as WebP by sharp on libuv's), the analysis of every layer shown, and the convolutions.`
  );
}

/** Astro's steps side by side for the three builds, and what the differences come from. */
function stepsTable(peer: BuildStats, warm: BuildStats | undefined, cold: BuildStats | undefined): string[] {
  const label: Record<AstroStep, string> = {
    setup: 'setup: config, content sync, types',
    server: 'server bundle (Vite; waits for `virtual:conv1`)',
    client: 'client bundle (Vite)',
    routes: 'generating the static pages',
    build: 'everything after setup',
  };
  // Not timed by Astro's log: mostly copying public/ into the output, which the peer's figures make long.
  const rest = (b: BuildStats) => {
    const { build, server, client, routes } = b.medianAstro;
    return build === undefined || server === undefined || client === undefined || routes === undefined ? undefined : build - server - client - routes;
  };
  const builds = [peer, warm, cold];
  const rows = ASTRO_STEPS.map((step) => [label[step], ...builds.map((b) => (b ? msText(b.medianAstro[step]) : '—'))]);
  rows.splice(4, 0, ['the rest of it (untimed in the log: copying public/, moving assets)', ...builds.map((b) => (b ? msText(rest(b)) : '—'))]);
  rows.push(['the whole process (wall)', ...builds.map((b) => (b ? msText(b.medianWallMs) : '—'))]);
  const lines = ['Astro\'s steps as its log times them (medians):', '', table(['step', 'peer', 'warm', 'cold'], rows), ''];
  const work = cold?.medianFigureWork;
  const [coldServer, peerServer, coldRest, peerRest] = [cold?.medianAstro.server, peer.medianAstro.server, cold && rest(cold), rest(peer)];
  if (work && coldServer !== undefined && peerServer !== undefined && coldRest !== undefined && peerRest !== undefined)
    lines.push(
      `Where the cold build's time goes: its server bundle takes ${signed(coldServer - peerServer)} over the peer's, because it waits for \`virtual:conv1\`, that is for the last of the ${work.models} pipelines (done ${msText(work.lastMs)} after the config loaded); ` +
        `after the bundles it spends ${signed(coldRest - peerRest)} against the peer, which copies its ${cold.runs.find((x) => x.figuresWritten)?.figuresWritten ?? ''} figures out of public/ there, where ours arrive with one rename at the end. ` +
        `Setup takes ${signed((cold.medianAstro.setup ?? 0) - (peer.medianAstro.setup ?? 0))} over the peer's (the pipeline threads start during it and share the two cores with it), page generation ${signed((cold.medianAstro.routes ?? 0) - (peer.medianAstro.routes ?? 0))}. What is left of the gap is the figure work itself, on the cores Astro leaves free.`,
      '',
    );
  return lines;
}

/** Median of the build process's peak resident memory, with the verdict against the target. */
function peakMemory(b: BuildStats): string {
  const mb = medianOf(b.runs.filter((x) => x.ok).map((x) => x.maxRssMb));
  return mb === undefined ? '—' : `${Math.round(mb)} MB (${mb <= TARGETS.peakMemoryMb ? 'met' : '**missed**'})`;
}

export function buildSection(r: BuildBenchResult): string {
  const { peer, warm, cold } = r;
  const lines: string[] = ['## 3. The build (the whole site, `astro build`, fresh process, wall time)', ''];
  if (peer && (warm || cold)) {
    const best = (b: BuildStats) => Math.min(...b.runs.filter((x) => x.ok).map((x) => x.wallMs));
    const row = (label: string, b: BuildStats | undefined, ratio?: number, target?: number, met?: boolean) =>
      b
        ? [
            label,
            `**${s(b.medianWallMs)}**`,
            b.runs.filter((x) => x.ok).map((x) => (x.wallMs / 1000).toFixed(2)).join(', '),
            s(b.medianCpuMs),
            msText(b.medianFigureWork?.lastMs),
            msText(b.medianWriteMs),
            ratio === undefined ? '1' : `${ratio.toFixed(2)}×`,
            ratio === undefined ? '1' : `${(best(b) / best(peer)).toFixed(2)}×`,
            target === undefined ? '—' : `≤ ${target}× (${met ? 'met' : '**missed**'})`,
            peakMemory(b),
          ]
        : [label, 'failed', '', '', '', '', '', '', '', ''];
    lines.push(
      table(
        ['build', 'median', 'runs (s)', 'CPU (user+sys, median)', 'last pipeline done (logged)', 'figures written', 'vs peer (medians)', 'vs peer (fastest runs)', 'target (on medians)', `peak memory (median; target ≤ ${TARGETS.peakMemoryMb} MB)`],
        [
          row('peer: plain Astro, figures as static files, `virtual:conv1` a static module', peer),
          row('ours, warm figure cache', warm, r.warmRatio, TARGETS.warm, r.warmMet),
          row('ours, cold figure cache (model downloaded)', cold, r.coldRatio, TARGETS.cold, r.coldMet),
        ],
      ),
      '',
    );
    lines.push('Where the time goes:', '');
    for (const [kind, b] of [['warm', warm], ['cold', cold]] as const) if (b) lines.push(`- ${explain(kind, b, peer, r)}`);
    lines.push('', ...stepsTable(peer, warm, cold));
    lines.push(
      `Medians of ${r.runs} runs of each, interleaved (peer, warm and cold in a rotating order each round) on a machine shared with other builds and tests ` +
        `(load average ${r.loadBefore.toFixed(1)} before, ${r.loadAfter.toFixed(1)} after, ${cpus().length} CPUs): wall times are noisy; the ratio of the fastest runs, the least disturbed, shows how much. ` +
        'Each kind has its own cacheDir, warmed by an untimed build, so Astro\'s content store is warm for all three; cold runs delete only their own figure cache. ' +
        `The peer builds the same root, src/ and content/ with the integration removed; ` +
        (r.identical ? (r.identical.same ? `its output is byte-identical to ours (${r.identical.files} files).` : `its output differs from ours in ${r.identical.differences.length} of ${r.identical.files} files (${r.identical.differences.slice(0, 3).join('; ')}).`) : 'its output was not compared.'),
      '',
    );
  } else {
    lines.push('Not measured: see the notes below.', '');
  }
  if (r.formats) {
    const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
    const { results, conclusions } = r.formats;
    const [first] = results;
    lines.push(
      'Image formats: the large figures (each photo and filter 0’s response to it) recomputed with the pipeline’s functions and encoded as the pipeline does ' +
        (first ? `(WebP, ${first.webp.ms.toFixed(0)} ms for the first), as AVIF at quality ${AVIF.quality}, effort ${AVIF.effort} (${first.avif.ms.toFixed(0)} ms)` : '') +
        `, and at the lowest AVIF quality of ${AVIF_LADDER.join(', ')} whose PSNR reaches the WebP’s; PSNR against the exact pixels, encode times median of 3, one at a time.`,
      '',
      table(
        ['figure', 'size', 'WebP (the pipeline’s)', `AVIF (quality ${AVIF.quality}, effort ${AVIF.effort})`, 'AVIF as faithful as the WebP', 'encode WebP / AVIF'],
        results.map((x) => [
          x.figure,
          `${x.width}×${x.height}`,
          `${kb(x.webp.bytes)}, ${x.webp.psnr.toFixed(1)} dB`,
          `${kb(x.avif.bytes)}, ${x.avif.psnr.toFixed(1)} dB`,
          x.matched ? `quality ${x.matched.quality}: ${kb(x.matched.bytes)}, ${x.matched.psnr.toFixed(1)} dB` : 'none on the ladder',
          `${x.webp.ms.toFixed(0)} / ${x.avif.ms.toFixed(0)} ms`,
        ]),
      ),
      '',
      ...conclusions.map((c) => `- ${c}`),
      '',
    );
  }
  if (r.notes.length) lines.push('Notes:', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

// `node bench/build.ts [runs]`: this benchmark alone (5 runs of each kind by default), its section printed.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.argv[2] ?? 5);
  const root = new URL('../', import.meta.url);
  const { result, section } = await benchBuild(root, runs);
  await writeFile(new URL('bench/results/build/result.json', root), JSON.stringify(result, null, 2));
  process.stdout.write(section);
}
