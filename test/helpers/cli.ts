import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PACKAGE_CACHE } from './default-model.ts';

const CLI = fileURLToPath(new URL('../../src/cli/astro-conv1.ts', import.meta.url));

/**
 * Runs `astro-conv1 …` as a user or a training script would, on the Node that runs the tests.
 * ASTRO_CONV1_CACHE points npm: models at the cache the tests share, so ResNet50 is fetched once.
 */
export function runCli(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ASTRO_CONV1_CACHE: fileURLToPath(PACKAGE_CACHE) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
