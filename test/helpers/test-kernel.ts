import type { Kernel } from '../../src/lib/kernel.ts';

/** A Kernel made in a test from its weights: neutral metadata, overridable where a test cares. */
export function testKernel(data: Float32Array, shape: Kernel['shape'], overrides: Partial<Kernel> = {}): Kernel {
  return {
    data,
    shape,
    layer: 'test',
    layerType: 'Conv2D',
    strides: [1, 1],
    channelOrder: 'rgb',
    channelOrderSource: 'test',
    inputMean: [0, 0, 0],
    format: 'test',
    source: 'test',
    bytesRead: 0,
    ...overrides,
  };
}
