import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs-core';
import { glorotUniformWeights } from '../lib/analyse/random-init.ts';
import { Conv1Error } from '../lib/errors.ts';
import type { Tf } from './engine.ts';
import { streamSeed } from './random.ts';

/**
 * A small ResNet-style classifier, forward and backward written out by hand:
 *
 *   conv1  7×7, stride 2, same padding, + bias, ReLU     (the first layer the site draws)
 *   pool   3×3 max, stride 2, same padding
 *   conv2  3×3, stride 1, same padding, + bias, ReLU
 *   cells  the feature map averaged over a grid of cells (one cell: global average pooling)
 *   fc     the cells' features, flattened, to one logit per class (+ bias); softmax cross-entropy.
 *
 * tfjs-core registers no gradients in Node, and its wasm backend has no Conv2DBackpropFilter kernel,
 * so each gradient is expressed in forward ops that wasm runs through XNNPACK: a convolution's weight
 * gradient is a dilated convolution of its input by the output gradient, its input gradient a
 * convolution of the output gradient by the flipped, transposed kernel.
 */

export interface NetworkShape {
  conv1Filters: number;
  conv2Filters: number;
  /** Cells per side of the grid the last feature map is averaged over; it must divide the map. */
  grid: number;
  classes: number;
}

/** Parameter names as a PyTorch state dict has them; values in tfjs' layouts (HWIO kernels, [in, out] dense). */
export type ParameterName = 'conv1.weight' | 'conv1.bias' | 'conv2.weight' | 'conv2.bias' | 'fc.weight' | 'fc.bias';
export type Parameters = Record<ParameterName, Variable>;
export type Gradients = Record<ParameterName, Tensor>;

export const PARAMETER_NAMES: readonly ParameterName[] = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'];
/** Kernels; biases are not decayed. */
export const KERNEL_NAMES: readonly ParameterName[] = ['conv1.weight', 'conv2.weight', 'fc.weight'];

const CONV1 = { size: 7, stride: 2 } as const;
const POOL = { size: 3, stride: 2 } as const;
const CONV2 = { size: 3 } as const;

/** Keras' defaults: glorot-uniform kernels, zero biases. */
export function initialParameters(tf: Tf, shape: NetworkShape, seed: number): Parameters {
  const glorot = (name: ParameterName, dims: [number, number, number, number]) => glorotUniformWeights(dims, streamSeed(seed, `init ${name}`));
  const kernel = (name: ParameterName, dims: [number, number, number, number]) => tf.variable(tf.tensor(glorot(name, dims), dims), true, name);
  const zeros = (name: ParameterName, count: number) => tf.variable(tf.zeros([count]), true, name);
  const { conv2Filters, grid, classes } = shape;
  const features = grid * grid * conv2Filters;
  return {
    'conv1.weight': kernel('conv1.weight', [CONV1.size, CONV1.size, 3, shape.conv1Filters]),
    'conv1.bias': zeros('conv1.bias', shape.conv1Filters),
    'conv2.weight': kernel('conv2.weight', [CONV2.size, CONV2.size, shape.conv1Filters, shape.conv2Filters]),
    'conv2.bias': zeros('conv2.bias', shape.conv2Filters),
    // A dense kernel is a 1×1 convolution's: fan-in and fan-out as Keras counts them for Dense.
    'fc.weight': tf.variable(tf.tensor(glorot('fc.weight', [1, 1, features, classes]), [features, classes]), true, 'fc.weight'),
    'fc.bias': zeros('fc.bias', shape.classes),
  };
}

/** Network input from 0–255 RGB bytes: scaled to [−1, 1], as Keras' "tf" preprocessing does. */
export function imagesToInput(tf: Tf, pixels: Uint8Array, count: number, size: number): Tensor4D {
  const values = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) values[i] = pixels[i]! / 127.5 - 1;
  return tf.tensor4d(values, [count, size, size, 3]);
}

interface Forward {
  conv1In: Tensor4D;
  conv1Out: Tensor4D;
  relu1: Tensor4D;
  pooled: Tensor4D;
  conv2In: Tensor4D;
  conv2Out: Tensor4D;
  relu2: Tensor4D;
  cells: Tensor4D;
  features: Tensor2D;
  logits: Tensor2D;
}

function forward(tf: Tf, p: Parameters, input: Tensor4D, grid: number): Forward {
  const conv1In = padSame(tf, input, CONV1.size, CONV1.stride);
  const conv1Out = tf.add<Tensor4D>(tf.conv2d(conv1In, p['conv1.weight'] as Tensor4D, CONV1.stride, 'valid'), p['conv1.bias']);
  const relu1 = tf.relu(conv1Out);
  const pooled = tf.maxPool(relu1, POOL.size, POOL.stride, 'same');
  const conv2In = padSame(tf, pooled, CONV2.size, 1);
  const conv2Out = tf.add<Tensor4D>(tf.conv2d(conv2In, p['conv2.weight'] as Tensor4D, 1, 'valid'), p['conv2.bias']);
  const relu2 = tf.relu(conv2Out);
  const cell = cellSize(relu2, grid);
  const cells = tf.avgPool(relu2, cell, cell, 'valid');
  const features = tf.reshape(cells, [cells.shape[0], -1]) as Tensor2D;
  const logits = tf.add<Tensor2D>(tf.matMul(features, p['fc.weight'] as Tensor2D), p['fc.bias']);
  return { conv1In, conv1Out, relu1, pooled, conv2In, conv2Out, relu2, cells, features, logits };
}

function cellSize(map: Tensor4D, grid: number): [number, number] {
  const [, height, width] = map.shape;
  if (height % grid !== 0 || width % grid !== 0)
    throw new Conv1Error('network', `has a ${height}×${width} last feature map, which cannot be split into ${grid}×${grid} equal cells`, 'Choose a grid that divides the map: the crop size divided by 4.');
  return [height / grid, width / grid];
}

/** The class scores, for evaluation. */
export function logits(tf: Tf, parameters: Parameters, input: Tensor4D, grid: number): Tensor2D {
  return forward(tf, parameters, input, grid).logits;
}

/** Mean softmax cross-entropy over the batch, its gradient for every parameter, and the class scores. */
export function lossAndGradients(tf: Tf, p: Parameters, input: Tensor4D, labels: Tensor1D, grid: number): { loss: Scalar; gradients: Gradients; logits: Tensor2D } {
  const f = forward(tf, p, input, grid);
  const [batch] = f.logits.shape;
  const { total, oneHot, logProbabilities } = crossEntropy(tf, f.logits, labels);
  const loss = tf.div(total, batch);

  const dLogits = tf.div<Tensor2D>(tf.sub(tf.exp(logProbabilities), oneHot), batch);
  const dFeatures = tf.matMul(dLogits, p['fc.weight'] as Tensor2D, false, true);
  const cell = cellSize(f.relu2, grid);
  // Each cell's mean spreads its gradient evenly over the cell; ReLU passes it where it was open.
  const dRelu2 = tf.engine().runKernel('AvgPoolGrad', { dy: tf.reshape(dFeatures, f.cells.shape), input: f.relu2 }, { filterSize: cell, strides: cell, pad: 'valid' }) as Tensor4D;
  const dConv2 = tf.mul<Tensor4D>(dRelu2, tf.step(f.conv2Out));
  const dPooled = convInputGradient(tf, dConv2, p['conv2.weight'] as Tensor4D);
  const dRelu1 = tf.engine().runKernel('MaxPoolGrad', { dy: dPooled, input: f.relu1, output: f.pooled }, { filterSize: POOL.size, strides: POOL.stride, pad: 'same' }) as Tensor4D;
  const dConv1 = tf.mul<Tensor4D>(dRelu1, tf.step(f.conv1Out));

  const gradients: Gradients = {
    'conv1.weight': convWeightGradient(tf, f.conv1In, dConv1, CONV1.stride, CONV1.size),
    'conv1.bias': tf.sum(dConv1, [0, 1, 2]),
    'conv2.weight': convWeightGradient(tf, f.conv2In, dConv2, 1, CONV2.size),
    'conv2.bias': tf.sum(dConv2, [0, 1, 2]),
    'fc.weight': tf.matMul(f.features, dLogits, true, false),
    'fc.bias': tf.sum(dLogits, 0),
  };
  return { loss: loss as Scalar, gradients, logits: f.logits };
}

/** Softmax cross-entropy summed over the batch, with the one-hot labels and log-probabilities behind it. */
export function crossEntropy(tf: Tf, logits: Tensor2D, labels: Tensor1D): { total: Scalar; oneHot: Tensor2D; logProbabilities: Tensor2D } {
  // Cast from int32: the wasm backend's OneHot fills a float32 output with integer bit patterns.
  const oneHot = tf.cast(tf.oneHot(labels, logits.shape[1]) as Tensor2D, 'float32');
  const logProbabilities = tf.logSoftmax(logits);
  return { total: tf.neg(tf.sum(tf.mul(oneHot, logProbabilities))), oneHot, logProbabilities };
}

/**
 * TensorFlow's "same" padding made explicit (any odd pixel at the bottom and right), so that the
 * forward convolution and its weight gradient see the very same padded input.
 */
export function padSame(tf: Tf, x: Tensor4D, size: number, stride: number): Tensor4D {
  const pads = (extent: number): [number, number] => {
    const total = Math.max((Math.ceil(extent / stride) - 1) * stride + size - extent, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return tf.pad(x, [[0, 0], pads(x.shape[1]), pads(x.shape[2]), [0, 0]]);
}

/**
 * dL/dW[i, j, c, f] = Σ over images n and outputs (y, x) of input[n, s·y + i, s·x + j, c] · dOut[n, y, x, f]:
 * a convolution of the input, with its channels as the batch and its images as the channels, by the
 * output gradient dilated by the stride. `input` is the padded input of a "valid" convolution.
 */
export function convWeightGradient(tf: Tf, input: Tensor4D, dOut: Tensor4D, stride: number, size: number): Tensor4D {
  const byChannel = tf.transpose(input, [3, 1, 2, 0]);
  const filter = tf.transpose(dOut, [1, 2, 0, 3]);
  const correlation = tf.conv2d(byChannel, filter, 1, 'valid', 'NHWC', stride);
  // When the stride skips the last rows or columns, the correlation runs past the kernel: cut it.
  const kernel = tf.slice(correlation, [0, 0, 0, 0], [-1, size, size, -1]);
  return tf.transpose(kernel, [1, 2, 0, 3]);
}

/**
 * dL/dInput of a stride-1 convolution with same padding and an odd kernel: the output gradient,
 * padded to a full convolution, convolved by the kernel flipped in space with its channel axes swapped.
 */
export function convInputGradient(tf: Tf, dOut: Tensor4D, kernel: Tensor4D): Tensor4D {
  const [size] = kernel.shape;
  // The forward pass padded `before` in front (padSame); the gradient's padding mirrors it.
  const before = Math.floor((size - 1) / 2);
  const padded = tf.pad(dOut, [[0, 0], [size - 1 - before, before], [size - 1 - before, before], [0, 0]]);
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
  return tf.conv2d(padded, flipped, 1, 'valid');
}
