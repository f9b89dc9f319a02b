import type { Kernel } from '../kernel.ts';
import { loadTf } from './backend.ts';
import type { FeatureMap } from './response.ts';

/** All filters over one preprocessed input in one tfjs conv2d call (stride 1, valid), HWC out. */
export async function convolveAll(input: FeatureMap, kernel: Kernel): Promise<{ map: FeatureMap; backend: string }> {
  const { tf, backend } = await loadTf();
  const [kh, kw, cin, cout] = kernel.shape;
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
