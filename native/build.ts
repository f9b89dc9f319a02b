/**
 * Builds the native convolution (native/conv2d.cc) with node-gyp after `npm install`. It is an
 * accelerator, not a requirement: without a C++ compiler the build is skipped with a note, and the
 * pipeline convolves with tfjs instead.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const folder = fileURLToPath(new URL('.', import.meta.url));
const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn'], { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status === 0) {
  process.stdout.write('astro-conv1: built the native convolution (native/build/Release/conv1_native.node)\n');
} else {
  process.stdout.write(
    'astro-conv1: the native convolution was not built (a C++ compiler and Node headers are needed); ' +
      'figures are computed with tfjs instead, only slower.\n' +
      `${(result.stderr || result.stdout || String(result.error)).split('\n').slice(-6).join('\n')}\n`,
  );
}
