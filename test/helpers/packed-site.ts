/**
 * The package as a new user gets it: `npm pack` of this repository (which runs `prepare`, i.e. the
 * compile into compiled/), installed with npm into a fresh site in the system's temporary folder,
 * outside the repository, next to the Astro version and integrations the site asks for. The site's
 * model cache is a symlink to the repository's, so ResNet50 is downloaded once for every test.
 *
 * KEEP_FIXTURES=1 keeps the temporary folders (their paths are printed) to look into a failure.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PACKAGE_CACHE, PROJECT_ROOT } from './default-model.ts';
import { collectOutput, startNode, type RunningProcess, type RunResult } from './run.ts';

export const KEEP_FIXTURES = process.env.KEEP_FIXTURES === '1';

/** The oldest Node the package (engines) and Astro 7.4 accept. */
const MINIMUM_NODE = [22, 12] as const;

/** Throws unless the Node running the tests (and so every child started here) is new enough. */
export function assertModernNode(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1]))
    throw new Error(`Node ${process.versions.node} runs the tests; these need ≥ ${MINIMUM_NODE.join('.')} (run them with npx vitest, which takes the project's node)`);
}

/**
 * The environment of the children: that of the tests without what Vitest and a parent `npm run`
 * put in it (an npm started from an npm script would otherwise take the repository's package for
 * its own), with the Node that runs the tests first on PATH, so npm, its install scripts and
 * `#!/usr/bin/env node` binaries all run on it, whatever /usr/bin/node is.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['BASE_URL', 'MODE', 'DEV', 'PROD', 'SSR', 'NODE_ENV', 'TEST', 'INIT_CWD']) delete env[name];
  for (const name of Object.keys(env))
    if (name.startsWith('VITEST') || name.startsWith('npm_lifecycle_') || name.startsWith('npm_package_') || name === 'npm_config_local_prefix') delete env[name];
  env.PATH = [dirname(process.execPath), env.PATH].filter(Boolean).join(delimiter);
  return { ...env, ASTRO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

/** `npm <args>` in `cwd`, with its output collected. */
export function npm(args: string[], cwd: URL | string): Promise<RunResult> {
  return collectOutput(spawn('npm', args, { cwd: typeof cwd === 'string' ? cwd : fileURLToPath(cwd), env: childEnv() }));
}

/** Temporary folders under os.tmpdir(), removed by cleanup() unless KEEP_FIXTURES=1. */
export class FixtureDirs {
  private readonly made: string[] = [];

  async make(prefix: string): Promise<URL> {
    const path = await mkdtemp(join(tmpdir(), prefix));
    this.made.push(path);
    return pathToFileURL(`${path}/`);
  }

  async cleanup(): Promise<void> {
    const paths = this.made.splice(0);
    if (KEEP_FIXTURES) {
      for (const path of paths) console.log(`KEEP_FIXTURES: kept ${path}`);
      return;
    }
    // rm does not follow symlinks: the shared model cache behind node_modules/.astro/conv1/models stays.
    await Promise.all(paths.map((path) => rm(path, { recursive: true, force: true })));
  }
}

export interface Tarball {
  /** Absolute path of the .tgz. */
  path: string;
  /** npm pack's output (the prepare script's compile included). */
  log: string;
  ms: number;
}

/** `npm pack` of the repository into a new temporary folder: what `npm publish` would upload. */
export async function packRepository(dirs: FixtureDirs): Promise<Tarball> {
  const destination = await dirs.make('astro-conv1-pack-');
  const started = performance.now();
  const run = await npm(['pack', '--pack-destination', fileURLToPath(destination)], PROJECT_ROOT);
  const log = `${run.stdout}\n${run.stderr}`;
  if (run.code !== 0) throw new Error(`npm pack failed (exit ${run.code}):\n${log}`);
  const tarballs = (await readdir(destination)).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.join(', ') || 'no tarball'} in ${fileURLToPath(destination)}:\n${log}`);
  return { path: join(fileURLToPath(destination), tarballs[0]!), log, ms: performance.now() - started };
}

export interface PackedSite {
  root: URL;
  /** npm install's output. */
  install: RunResult;
  installMs: number;
  /** Writes files of the site, by path relative to its root; folders are made as needed. */
  write(files: Record<string, string>): Promise<void>;
  /** The site's own astro CLI (node_modules/astro), on the Node that runs the tests; resolves at its exit. */
  astro(args: string[], env?: Record<string, string>): Promise<RunResult & { ms: number }>;
  /** The same, for a long-running command (astro dev): the caller kills it. */
  startAstro(args: string[], env?: Record<string, string>): RunningProcess;
  /** A binary of node_modules/.bin, as `npx <name>` would run it (through its #! line, Node first on PATH). */
  bin(name: string, args: string[], env?: Record<string, string>): Promise<RunResult>;
}

export interface SiteOptions {
  /** Prefix of the temporary folder's name. */
  prefix: string;
  /** What `npm install` gets beside the tarball, as npm specs (`astro@7.4.7`, `@astrojs/mdx`: the latest), … */
  packages: string[];
  /** More arguments for npm install (e.g. --ignore-scripts). */
  npmArgs?: string[];
}

/**
 * A new site in a temporary folder: its package.json (private, ESM), then one `npm install` of the
 * tarball and `packages`, then the model cache shared with the repository. Throws with npm's
 * output when the install fails.
 */
export async function createPackedSite(dirs: FixtureDirs, tarball: Tarball, options: SiteOptions): Promise<PackedSite> {
  const root = await dirs.make(options.prefix);
  await writeFile(new URL('package.json', root), `${JSON.stringify({ name: options.prefix.replace(/[^a-z0-9-]/g, '').replace(/-+$/, '') || 'site', private: true, type: 'module' }, null, 2)}\n`);
  const started = performance.now();
  const packages = await Promise.all(options.packages.map(resolveVersion));
  const args = ['install', '--no-audit', '--no-fund', ...(options.npmArgs ?? []), tarball.path, ...packages];
  // The versions are fresh from the registry; the rest may come from npm's cache, which takes the
  // install from about 40 s to 10 s. A cache too old for one of them fails: then npm asks online.
  let install = await npm([...args, '--prefer-offline'], root);
  if (install.code !== 0) install = await npm([...args, '--prefer-online'], root);
  const installMs = performance.now() - started;
  if (install.code !== 0) throw new Error(`npm install ${packages.join(' ')} failed (exit ${install.code}) in ${fileURLToPath(root)}:\n${install.stdout}\n${install.stderr}`);
  await shareModelCache(root);

  const astroCli = fileURLToPath(new URL('node_modules/astro/bin/astro.mjs', root));
  const startAstro = (args: string[], env: Record<string, string> = {}) => startNode([astroCli, ...args], { cwd: root, env: { NO_COLOR: '1', ...env } });
  return {
    root,
    install,
    installMs,
    async write(files) {
      for (const [path, text] of Object.entries(files)) {
        const file = new URL(path, root);
        await mkdir(new URL('./', file), { recursive: true });
        await writeFile(file, text);
      }
    },
    async astro(args, env) {
      const begun = performance.now();
      const { code, stdout, stderr } = await startAstro(args, env).done;
      return { code, stdout, stderr, ms: performance.now() - begun };
    },
    startAstro,
    bin(name, args, env = {}) {
      return collectOutput(spawn(fileURLToPath(new URL(`node_modules/.bin/${name}`, root)), args, { cwd: fileURLToPath(root), env: childEnv(env) }));
    },
  };
}

/**
 * `name@version` for an npm spec (`astro`, `astro@7.4.7`, `@astrojs/mdx@^8`): the highest version
 * that matches, asked of the registry (npm view does not trust its cache), as a new user's
 * `npm install <spec>` would pick it.
 */
export async function resolveVersion(spec: string): Promise<string> {
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const view = await npm(['view', spec, 'version', '--json'], tmpdir());
  const versions = view.code === 0 ? (JSON.parse(view.stdout || 'null') as string | string[] | null) : null;
  const version = Array.isArray(versions) ? versions.at(-1) : versions;
  if (!version) throw new Error(`npm view ${spec} found no version (exit ${view.code}):\n${view.stdout}\n${view.stderr}`);
  return `${name}@${version}`;
}

/**
 * Points the site's model cache (Astro's default cacheDir, node_modules/.astro/, + conv1/models)
 * at the repository's, made first if absent, so the real ResNet50 is downloaded once for all tests.
 */
export async function shareModelCache(root: URL): Promise<void> {
  await mkdir(PACKAGE_CACHE, { recursive: true });
  const parent = new URL('node_modules/.astro/conv1/', root);
  await mkdir(parent, { recursive: true });
  await symlink(fileURLToPath(PACKAGE_CACHE).replace(/\/$/, ''), fileURLToPath(new URL('models', parent)), 'dir');
}

/** Lines of a log that warn: Astro's [WARN] tag, the word (warn, warning, warnings), or Vite's "(!)". */
export function warningLines(log: string): string[] {
  return log.split('\n').filter((line) => /\[WARN\]|warn|^\s*\(!\)/i.test(line));
}

/** Every file under `dir`, as paths relative to it with "/". */
export async function listFiles(dir: URL, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) names.push(...(await listFiles(new URL(`${encodeURIComponent(entry.name)}/`, dir), `${prefix}${entry.name}/`)));
    else names.push(`${prefix}${entry.name}`);
  }
  return names.sort();
}

/** A duration in seconds with one decimal, for logs of how long a step took. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
