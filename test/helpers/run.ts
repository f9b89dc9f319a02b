import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the project's own astro CLI (on the Node that runs the tests) and collects its output. */
export function runAstro(args: string[], options: { cwd: URL; env?: Record<string, string> }): Promise<RunResult> {
  const cli = fileURLToPath(new URL('../../node_modules/astro/bin/astro.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: fileURLToPath(options.cwd),
      env: { ...cleanEnv(), ASTRO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
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
