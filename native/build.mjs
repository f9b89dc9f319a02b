// @ts-check
/**
 * Builds the native convolution (native/conv2d.cc) with node-gyp when the package is installed. It
 * is an accelerator, not a requirement: without a C++ compiler, or when npm skips install scripts
 * (npm 11 does for dependencies until the user approves them), nothing is built, and the pipeline
 * convolves with tfjs instead. JavaScript, not TypeScript: it runs from node_modules, where Node
 * does not strip types.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const folder = fileURLToPath(new URL('.', import.meta.url));

/** node-gyp as a dependency of this repository, else the copy npm puts on the PATH of install scripts. */
function nodeGyp() {
  try {
    return [process.execPath, createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

const [command, ...args] = nodeGyp();
const result = spawnSync(command, [...args, 'rebuild', '--loglevel=warn'], { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', shell: process.platform === 'win32' });
if (result.status === 0) {
  process.stdout.write('astro-conv1: built the native convolution (native/build/Release/conv1_native.node)\n');
} else {
  process.stdout.write(
    'astro-conv1: the native convolution was not built (it needs a C++ compiler and node-gyp); ' +
      'figures are computed with tfjs instead, only slower.\n' +
      `${(result.stderr || result.stdout || String(result.error)).split('\n').slice(-6).join('\n')}\n`,
  );
}
