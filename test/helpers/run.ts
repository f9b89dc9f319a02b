import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the project's own astro CLI (on the Node that runs the tests) and collects its output. */
export function runAstro(args: string[], options: { cwd: URL; env?: Record<string, string> }): Promise<RunResult> {
  const cli = fileURLToPath(new URL('../../node_modules/astro/bin/astro.mjs', import.meta.url));
  return collectOutput(
    spawn(process.execPath, [cli, ...args], {
      cwd: fileURLToPath(options.cwd),
      env: { ...cleanEnv(), ASTRO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0', ...options.env },
    }),
  );
}

/** A child's exit code and its whole stdout and stderr, once it has ended. */
export function collectOutput(child: ChildProcess): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Vitest puts its own import.meta.env into process.env (BASE_URL, MODE, NODE_ENV=test, ...); a
 * child astro would take them for the user's, so they are left out.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['BASE_URL', 'MODE', 'DEV', 'PROD', 'SSR', 'NODE_ENV', 'TEST']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('VITEST')) delete env[name];
  return env;
}

export interface RunningProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects if the process ends first or `timeoutMs` passes. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The exit, with the output collected. */
  done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node <args>` (the Node that runs the tests, with the same clean environment as runAstro)
 * and hands back the process, so a test can watch its output and kill it at a chosen moment.
 */
export function startNode(args: string[], options: { cwd: URL; env?: Record<string, string> }): RunningProcess {
  const child = spawn(process.execPath, args, {
    cwd: fileURLToPath(options.cwd),
    env: { ...cleanEnv(), ASTRO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  let both = '';
  const listeners = new Set<() => void>();
  const collect = (append: (text: string) => void) => (chunk: Buffer) => {
    append(chunk.toString());
    both += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', collect((text) => (stdout += text)));
  child.stderr.on('data', collect((text) => (stderr += text)));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(both)) finish();
        else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`the process ended before its output matched ${pattern}:\n${both}`));
      };
      const timer = setTimeout(() => finish(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${both}`)), timeoutMs);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      listeners.add(check);
      check();
    });
  return { child, output: () => both, waitFor, done };
}
