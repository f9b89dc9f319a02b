import { availableParallelism } from 'node:os';
import type { Kernel } from '../kernel.ts';
import { loadTf } from './backend.ts';
import { loadNativeConv } from './native.ts';
import type { FeatureMap } from './response.ts';

/**
 * All filters over one preprocessed input (stride 1, valid), HWC out. The native convolution runs
 * when it was built (one thread per core); otherwise one tfjs conv2d call. Both compute in float32
 * and agree with a plain loop to float rounding (see the tests), so figures do not depend on which
 * one ran.
 */
export async function convolveAll(input: FeatureMap, kernel: Kernel): Promise<{ map: FeatureMap; backend: string }> {
  const [kh, kw, cin, cout] = kernel.shape;
  // CONV1_BACKEND=wasm|cpu|tensorflow forces a tfjs backend, e.g. to compare engines.
  const preferred = process.env.CONV1_BACKEND;
  const native = !preferred || preferred === 'native' ? loadNativeConv() : undefined;
  if (native) {
    const threads = availableParallelism();
    const data = native.conv2d(input.data, input.height, input.width, cin, kernel.data, kh, kw, cout, threads);
    return { map: { width: input.width - kw + 1, height: input.height - kh + 1, channels: cout, data }, backend: `native ${native.kernelName(cout)}, ${threads} threads` };
  }
  const { tf, backend } = await loadTf();
  const result = tf.tidy(() => {
    const x = tf.tensor4d(input.data, [1, input.height, input.width, cin]);
    const w = tf.tensor4d(kernel.data, [kh, kw, cin, cout]);
    return tf.conv2d(x, w, 1, 'valid');
  });
  const data = (await result.data()) as Float32Array;
  const [, height, width] = result.shape as number[];
  result.dispose();
  return { map: { width: width!, height: height!, channels: cout, data }, backend };
}
