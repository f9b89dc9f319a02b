import { availableParallelism } from 'node:os';
import type { Kernel } from '../kernel.ts';
import { loadTf } from './backend.ts';
import { loadNativeConv } from './native.ts';
import type { FeatureMap } from './response.ts';

/**
 * All filters over one preprocessed input, stride 1, HWC out. The figures use `valid` (no border
 * artefacts); `same` pads with zeros as TensorFlow does (the extra row or column of an even kernel
 * at the bottom and right), for comparisons with frameworks. The native convolution runs when it
 * was built (one thread per core); otherwise one tfjs conv2d call. Both compute in float32 and agree
 * with a plain loop to float rounding (see the tests), so figures do not depend on which one ran.
 */
export async function convolveAll(input: FeatureMap, kernel: Kernel, { padding = 'valid' }: { padding?: 'valid' | 'same' } = {}): Promise<{ map: FeatureMap; backend: string }> {
  const [kh, kw, cin, cout] = kernel.shape;
  // CONV1_BACKEND=wasm|cpu|tensorflow forces a tfjs backend, e.g. to compare engines.
  const preferred = process.env.CONV1_BACKEND;
  const native = !preferred || preferred === 'native' ? loadNativeConv() : undefined;
  if (native) {
    // The native loop has no borders of its own, so `same` is `valid` over a zero-padded copy.
    const padded = padding === 'same' ? padWithZeros(input, kh - 1, kw - 1) : input;
    const threads = availableParallelism();
    const data = native.conv2d(padded.data, padded.height, padded.width, cin, kernel.data, kh, kw, cout, threads);
    return { map: { width: padded.width - kw + 1, height: padded.height - kh + 1, channels: cout, data }, backend: `native ${native.kernelName(cout)}, ${threads} threads` };
  }
  const { tf, backend } = await loadTf();
  const result = tf.tidy(() => {
    const x = tf.tensor4d(input.data, [1, input.height, input.width, cin]);
    const w = tf.tensor4d(kernel.data, [kh, kw, cin, cout]);
    return tf.conv2d(x, w, 1, padding);
  });
  const data = (await result.data()) as Float32Array;
  const [, height, width] = result.shape as number[];
  result.dispose();
  return { map: { width: width!, height: height!, channels: cout, data }, backend };
}

/** `rows` and `columns` more of them, in zeros, split as TensorFlow splits `same` padding: the odd one at the bottom and right. */
function padWithZeros(input: FeatureMap, rows: number, columns: number): FeatureMap {
  const top = rows >> 1;
  const left = columns >> 1;
  const width = input.width + columns;
  const height = input.height + rows;
  const data = new Float32Array(width * height * input.channels);
  const rowLength = input.width * input.channels;
  for (let y = 0; y < input.height; y++) data.set(input.data.subarray(y * rowLength, (y + 1) * rowLength), ((y + top) * width + left) * input.channels);
  return { width, height, channels: input.channels, data };
}
