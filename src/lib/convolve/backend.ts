import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * One tfjs engine per process. @tensorflow/tfjs-node is optional (it needs libtensorflow, fetched at
 * install time); when it does not load, the wasm backend runs, and the plain cpu backend is the last
 * resort. All compute float32 convolutions; the results agree to float rounding.
 */
export type Tf = typeof import('@tensorflow/tfjs-core');

let engine: Promise<{ tf: Tf; backend: string }> | undefined;

export function loadTf(): Promise<{ tf: Tf; backend: string }> {
  engine ??= pickBackend();
  return engine;
}

async function pickBackend(): Promise<{ tf: Tf; backend: string }> {
  const preferred = process.env.CONV1_BACKEND;
  if (!preferred || preferred === 'tensorflow') {
    try {
      const moduleName = '@tensorflow/tfjs-node';
      const node = (await import(/* @vite-ignore */ moduleName)) as Tf;
      await node.ready();
      if (node.getBackend() === 'tensorflow') return { tf: node, backend: 'tensorflow (tfjs-node)' };
    } catch {
      // Not installed or libtensorflow missing: fall through to wasm.
    }
  }
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  if (!preferred || preferred !== 'cpu') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    try {
      if (await tf.setBackend('wasm')) return { tf, backend: 'wasm' };
    } catch {
      // Fall back to the cpu backend below.
    }
  }
  await tf.setBackend('cpu');
  return { tf, backend: 'cpu' };
}
