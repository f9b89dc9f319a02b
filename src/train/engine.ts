import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Conv1Error } from '../lib/errors.ts';

/**
 * tfjs-core on its WebAssembly backend (XNNPACK), one thread, or on the plain JavaScript cpu backend.
 * Never @tensorflow/tfjs-node, whose kernels depend on how libtensorflow was built: the same seed must
 * give the same bytes. One thread per run keeps every sum in one order (two runs take the two cores).
 */
export type Tf = typeof import('@tensorflow/tfjs-core');
export type TrainBackend = 'wasm' | 'cpu';

export async function loadEngine(backend: TrainBackend): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  if (!(await tf.setBackend(backend)))
    throw new Conv1Error(`@tensorflow/tfjs-backend-${backend}`, 'did not start, so there is nothing to train on', 'Reinstall the dependencies (npm install), or train on the other backend (backend: "cpu" or "wasm" in src/train/main.ts).');
  return tf;
}
