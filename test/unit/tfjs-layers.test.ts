import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Conv1Error, readKernel, readModel } from '../../src/lib/index.ts';
import {
  conv2dLayer,
  convWeights,
  denseLayer,
  denseWeights,
  elementCount,
  float16Bits,
  inputLayer,
  kerasLayer,
  keras3Inbound,
  planWeights,
  randomWeight,
  shardName,
  shardsTouched,
  TempDirs,
  withInbound,
  withoutInbound,
  writeTfjsModel,
  type FixtureWeight,
  type ManifestEntry,
  type Quantization,
} from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

async function fileSize(url: URL): Promise<number> {
  return (await stat(url)).size;
}

function weightNamed(weights: FixtureWeight[], name: string): FixtureWeight {
  const found = weights.find((w) => w.name === name);
  if (!found) throw new Error(`test bug: no weight ${name}`);
  return found;
}

async function expectConv1Error(promise: Promise<unknown>): Promise<Conv1Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Conv1Error);
  return error as Conv1Error;
}

/**
 * input_1 -> conv1 (-> fc when there are other weights), with `before` weights ahead of conv1's in the
 * manifest and `after` weights behind conv1/bias.
 */
function inputThenConv(kernel: FixtureWeight, before: FixtureWeight[] = [], after: FixtureWeight[] = []) {
  const [kh, kw, , cout] = kernel.shape as [number, number, number, number];
  const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [kh, kw], cout)];
  const dense = before.length + after.length > 0 ? [denseLayer('fc', 'conv1', 1)] : [];
  return { layers: [...layers, ...dense], inputLayers: ['input_1'], weights: [...before, kernel, randomWeight('conv1/bias', [cout], 99), ...after] };
}

describe('shards', () => {
  it('reads a kernel whose bytes span a shard boundary, exactly', async () => {
    const dir = await dirs.make();
    // fc/kernel [32,7] + fc/bias [7] = 231 floats = 924 bytes: conv1/kernel starts 100 bytes before the end of shard 1.
    const fc = denseWeights('fc', 32, 7, 1);
    const kernel = randomWeight('conv1/kernel', [3, 3, 3, 4], 2);
    const model = inputThenConv(kernel, fc);
    const plan = planWeights(model.weights);
    const placed = plan.weights.find((w) => w.name === 'conv1/kernel')!;
    expect(placed.offset).toBe(1024 - 100);
    expect(shardsTouched(placed.offset, placed.byteLength, 1024, plan.totalBytes)).toEqual([shardName(0, 2), shardName(1, 2)]);

    const url = await writeTfjsModel(dir, { ...model, shardBytes: 1024 });
    const k = await readKernel(url);
    expect(k.shape).toEqual([3, 3, 3, 4]);
    expect(k.data).toBeInstanceOf(Float32Array);
    expect(Array.from(k.data)).toEqual(Array.from(kernel.values));
    expect(k.bytesRead).toBe((await fileSize(url)) + placed.byteLength);
  });

  // Shards of 256 bytes; 8 shards. The kernel (192 bytes) lies inside shard 3, or spans shards 3 and 4.
  it.each([
    { where: 'inside shard 3', kernelOffset: 2 * 256 + 16, touched: [2] },
    { where: 'across shards 3 and 4', kernelOffset: 2 * 256 + 200, touched: [2, 3] },
  ])('reads only the shards the kernel touches ($where)', async ({ kernelOffset, touched }) => {
    const dir = await dirs.make();
    const shardBytes = 256;
    const padding = randomWeight('fc/kernel', [kernelOffset / 4], 3);
    const kernel = randomWeight('conv1/kernel', [2, 2, 3, 4], 4);
    const tail = randomWeight('fc/bias', [(8 * shardBytes - kernelOffset - 192 - 16) / 4], 5);
    const model = inputThenConv(kernel, [padding], [tail]);
    const plan = planWeights(model.weights);
    const placed = plan.weights.find((w) => w.name === 'conv1/kernel')!;
    expect(placed.offset).toBe(kernelOffset);
    expect(plan.totalBytes).toBe(8 * shardBytes);
    const touchedNames = touched.map((i) => shardName(i, 8));
    expect(shardsTouched(placed.offset, placed.byteLength, shardBytes, plan.totalBytes)).toEqual(touchedNames);

    const url = await writeTfjsModel(dir, { ...model, shardBytes });
    // Untouched shards: the first keeps its size (the reader stats it for the shard size) but not its
    // content; shard 2 and the shard right after the kernel become garbage of the same size (0xff
    // bytes are NaNs as float32); every later shard is deleted.
    const after = Math.max(...touched) + 1;
    for (let i = 0; i < 8; i++) {
      if (touched.includes(i)) continue;
      const shard = new URL(shardName(i, 8), dir);
      if (i <= after) await writeFile(shard, new Uint8Array(shardBytes).fill(0xff));
      else await rm(shard);
    }
    const k = await readKernel(url);
    expect(Array.from(k.data)).toEqual(Array.from(kernel.values));
    expect(k.bytesRead).toBe((await fileSize(url)) + 192);
  });

  it('needs no shard file but the first (stat only) and the touched ones: a model whose only other shards are missing still reads', async () => {
    const dir = await dirs.make();
    const kernel = randomWeight('conv1/kernel', [2, 2, 3, 4], 6);
    const model = inputThenConv(kernel, [randomWeight('fc/kernel', [64 * 5], 7)], [randomWeight('fc/bias', [64 * 3], 8)]);
    const url = await writeTfjsModel(dir, { ...model, shardBytes: 256 });
    // The kernel sits in shard 6 of 9 (bytes 1280..1472); delete 2-5 and 7-9, garble 1.
    expect(shardsTouched(1280, 192, 256, planWeights(model.weights).totalBytes)).toEqual([shardName(5, 9)]);
    for (const i of [1, 2, 3, 4, 6, 7, 8]) await rm(new URL(shardName(i, 9), dir));
    await writeFile(new URL(shardName(0, 9), dir), new Uint8Array(256));
    const k = await readKernel(url);
    expect(Array.from(k.data)).toEqual(Array.from(kernel.values));
    expect(k.bytesRead).toBe((await fileSize(url)) + 192);
  });

  it('reads a single-shard model whose shard is smaller than shardBytes', async () => {
    const dir = await dirs.make();
    const kernel = randomWeight('conv1/kernel', [5, 5, 3, 2], 9);
    const model = inputThenConv(kernel);
    const url = await writeTfjsModel(dir, { ...model, shardBytes: 4 * 1024 * 1024 });
    expect(await fileSize(new URL(shardName(0, 1), dir))).toBe(5 * 5 * 3 * 2 * 4 + 2 * 4);
    const k = await readKernel(url);
    expect(Array.from(k.data)).toEqual(Array.from(kernel.values));
  });
});

describe('quantised weights', () => {
  // tfjs itself is the reference for dequantisation: io.decodeWeights over the whole byte stream.
  let tf: typeof import('@tensorflow/tfjs-core');
  beforeAll(async () => {
    tf = await import('@tensorflow/tfjs-core');
    tf.env().set('IS_TEST', true); // no "install tfjs-node" banner from the cpu backend
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  });

  async function quantisedModel(quantization: Quantization) {
    const dir = await dirs.make();
    // A uint8 weight of 13 bytes ahead of the kernel puts it at an odd offset and across shards 1-2.
    const before = [randomWeight('fc/kernel', [13], 11, 'uint8'), randomWeight('fc/bias', [40], 12)];
    const kernel = randomWeight('conv1/kernel', [7, 7, 3, 8], 13, quantization);
    // Half-precision edge cases: subnormals, zero, the smallest subnormal, a tie to even.
    kernel.values.set([1e-5, -2.5e-6, 0, 2 ** -24, -(1 + 2 ** -11)], 0);
    const model = inputThenConv(kernel, before);
    const url = await writeTfjsModel(dir, { ...model, shardBytes: 512 });
    const json = JSON.parse(await readFile(url, 'utf8')) as { weightsManifest: { paths: string[]; weights: ManifestEntry[] }[] };
    const group = json.weightsManifest[0]!;
    const stream = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(new URL(p, dir)))));
    const buffer = stream.buffer.slice(stream.byteOffset, stream.byteOffset + stream.byteLength);
    const decoded = tf.io.decodeWeights(buffer, group.weights as Parameters<typeof tf.io.decodeWeights>[1]);
    const reference = decoded['conv1/kernel']!.dataSync() as Float32Array;
    const entry = group.weights.find((w) => w.name === 'conv1/kernel')!;
    return { url, kernel, reference, entry };
  }

  it.each(['uint8', 'uint16'] as const)('%s: values are within scale/2 of the originals and within float32 rounding of tfjs', async (dtype) => {
    const { url, kernel, reference, entry } = await quantisedModel(dtype);
    const q = entry.quantization!;
    expect(q).toMatchObject({ dtype, original_dtype: 'float32' });
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of kernel.values) [min, max] = [Math.min(min, v), Math.max(max, v)];
    expect(q.min).toBe(min);
    expect(q.scale).toBe((max - min) / (dtype === 'uint8' ? 255 : 65535));
    const scale = q.scale!;

    const k = await readKernel(url);
    expect(k.data.length).toBe(7 * 7 * 3 * 8);
    // Float32 rounding of values in [-1, 1] (and of q * scale, which is at most max - min) is below 2^-24 * 2.
    const rounding = 2 * (max - min) * 2 ** -24;
    for (let i = 0; i < k.data.length; i++) {
      expect(Math.abs(k.data[i]! - kernel.values[i]!)).toBeLessThanOrEqual(scale / 2 + rounding);
      expect(Math.abs(k.data[i]! - reference[i]!)).toBeLessThanOrEqual(rounding);
    }
    // The reader must have used the quantised bytes, not something that merely happens to be close:
    // with 8 bits, many values differ from the originals by more than float rounding.
    if (dtype === 'uint8') expect(k.data.some((v, i) => Math.abs(v - kernel.values[i]!) > scale / 8)).toBe(true);
  });

  // tfjs (io_utils.js decodeWeight) computes `v * scale + min` in double precision and rounds once
  // when storing into a Float32Array; rounding q * scale first differs by an ulp or more.
  it.each(['uint8', 'uint16'] as const)('%s: values equal tfjs dequantisation bit for bit', async (dtype) => {
    const { url, reference } = await quantisedModel(dtype);
    const k = await readKernel(url);
    expect(Array.from(k.data)).toEqual(Array.from(reference));
  });

  it('float16: values equal tfjs decoding bit for bit and the originals to 1e-3 relative', async () => {
    const { url, kernel, reference, entry } = await quantisedModel('float16');
    expect(entry.quantization).toEqual({ dtype: 'float16', original_dtype: 'float32' });
    const k = await readKernel(url);
    expect(Array.from(k.data)).toEqual(Array.from(reference));
    for (let i = 0; i < k.data.length; i++) {
      const original = kernel.values[i]!;
      expect(Math.abs(k.data[i]! - original)).toBeLessThanOrEqual(1e-3 * Math.abs(original) + 2 ** -25);
    }
    expect(k.data.some((v, i) => v !== kernel.values[i])).toBe(true);
  });

  it('the fixture float16 encoder rounds to nearest even (checked with tfjs decoding)', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal steps: even is 2
      [1 + 2 ** -11, 0x3c00], // tie: stays at the even mantissa 0
      [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to the even mantissa 2
      [-0, 0x8000],
    ];
    for (const [value, bits] of cases) expect(float16Bits(value), String(value)).toBe(bits);
    const values = new Float32Array([0.1, -0.333, 1e-5, -7e-6, 1234.5678, 3.14159]);
    const halves = new Uint16Array(Array.from(values, float16Bits));
    const decoded = tf.io.decodeWeights(halves.buffer, [{ name: 'w', shape: [values.length], dtype: 'float32', quantization: { dtype: 'float16' } }]);
    const back = decoded['w']!.dataSync();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ulp = Math.abs(v) < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(Math.abs(v))) - 10);
      expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(ulp / 2);
    }
  });
});

describe('which convolution', () => {
  it('follows the topology, not the manifest or layer order: the conv fed by the input wins', async () => {
    const dir = await dirs.make();
    const layers = [inputLayer('input_1'), conv2dLayer('conv_deep', 'conv_a', [3, 3], 4), conv2dLayer('conv_a', 'input_1', [5, 5], 6, [2, 2])];
    const weights = [...convWeights('conv_deep', [3, 3], 6, 4, 21), ...convWeights('conv_a', [5, 5], 3, 6, 23)];
    const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], outputLayers: ['conv_deep'], weights, shardBytes: 300 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv_a');
    expect(kernel.shape).toEqual([5, 5, 3, 6]);
    expect(kernel.strides).toEqual([2, 2]);
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'conv_a/kernel').values));
    expect(convolutions.map((c) => c.name)).toEqual(['conv_a', 'conv_deep']);
    expect(convolutions[1]).toMatchObject({ layerType: 'Conv2D', shape: [3, 3, 6, 4], strides: [1, 1], weight: 'conv_deep/kernel' });
  });

  it('does not pick a layer for being named conv1', async () => {
    const dir = await dirs.make();
    const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'stem', [3, 3], 4), conv2dLayer('stem', 'input_1', [7, 7], 8, [2, 2])];
    const weights = [...convWeights('conv1', [3, 3], 8, 4, 31), ...convWeights('stem', [7, 7], 3, 8, 33)];
    const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], outputLayers: ['conv1'], weights, shardBytes: 1000 });
    const kernel = await readKernel(url);
    expect(kernel.layer).toBe('stem');
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'stem/kernel').values));
  });

  // input_1 -> pad -> pool -> conv_far ; input_1 -> conv_near. The manifest puts conv_far first; the layer
  // list has the far branch first or last, so neither a depth-first walk nor a stack-order walk passes both.
  it.each([
    { order: 'far branch listed first', nearFirst: false },
    { order: 'near conv listed first', nearFirst: true },
  ])('takes the conv nearest the input when a branch reaches another conv through more layers ($order)', async ({ nearFirst }) => {
    const dir = await dirs.make();
    const far = [
      kerasLayer('ZeroPadding2D', 'pad', 'input_1', { padding: [[1, 1], [1, 1]] }),
      kerasLayer('MaxPooling2D', 'pool', 'pad', { pool_size: [2, 2] }),
      conv2dLayer('conv_far', 'pool', [3, 3], 2),
    ];
    const near = [conv2dLayer('conv_near', 'input_1', [1, 1], 2)];
    const layers = [inputLayer('input_1'), ...(nearFirst ? [...near, ...far] : [...far, ...near]), kerasLayer('Add', 'add', ['conv_far', 'conv_near'])];
    const weights = [...convWeights('conv_far', [3, 3], 3, 2, 41), ...convWeights('conv_near', [1, 1], 3, 2, 43)];
    const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 64 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv_near');
    expect(convolutions.map((c) => c.name)).toEqual(['conv_near', 'conv_far']);
  });

  it('Sequential: the first conv in the chain', async () => {
    const dir = await dirs.make();
    const layers = [
      withoutInbound(kerasLayer('ZeroPadding2D', 'pad', null, { padding: [[3, 3], [3, 3]], batch_input_shape: [null, 32, 32, 3] })),
      withoutInbound(conv2dLayer('c_a', null, [7, 7], 4, [2, 2])),
      withoutInbound(kerasLayer('Activation', 'relu', null, { activation: 'relu' })),
      withoutInbound(conv2dLayer('c_b', null, [3, 3], 5)),
    ];
    const weights = [...convWeights('c_b', [3, 3], 4, 5, 51), ...convWeights('c_a', [7, 7], 3, 4, 53)];
    const url = await writeTfjsModel(dir, { layers, inputLayers: [], weights, shardBytes: 500, className: 'Sequential' });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('c_a');
    expect(kernel.strides).toEqual([2, 2]);
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'c_a/kernel').values));
    expect(convolutions.map((c) => c.name)).toEqual(['c_a', 'c_b']);
  });

  it('Sequential in the old list form (config is the list of layers)', async () => {
    const dir = await dirs.make();
    const layers = [withoutInbound(conv2dLayer('c_a', null, [3, 3], 2)), withoutInbound(conv2dLayer('c_b', null, [3, 3], 2))];
    const weights = [...convWeights('c_b', [3, 3], 2, 2, 55), ...convWeights('c_a', [3, 3], 3, 2, 57)];
    const url = await writeTfjsModel(dir, {
      layers,
      inputLayers: [],
      weights,
      shardBytes: 500,
      className: 'Sequential',
      editModelJson: (json) => {
        json.modelTopology.model_config.config = layers;
      },
    });
    const kernel = await readKernel(url);
    expect(kernel.layer).toBe('c_a');
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'c_a/kernel').values));
  });

  it('Keras 3 inbound_nodes (args holding __keras_tensor__ with keras_history)', async () => {
    const dir = await dirs.make();
    const layers = [
      withInbound(inputLayer('input_1'), []),
      withInbound(conv2dLayer('conv_b', null, [3, 3], 4), keras3Inbound('conv_a')),
      withInbound(conv2dLayer('conv_a', null, [3, 3], 4), keras3Inbound('input_1')),
      withInbound(kerasLayer('Add', 'add', null), keras3Inbound(['conv_a', 'conv_b'])),
    ];
    const weights = [...convWeights('conv_b', [3, 3], 4, 4, 61), ...convWeights('conv_a', [3, 3], 3, 4, 63)];
    const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 200 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv_a');
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'conv_a/kernel').values));
    expect(convolutions.map((c) => c.name)).toEqual(['conv_a', 'conv_b']);
  });

  // Keras 3 writes input_layers of a single-input model as one flat [name, node, tensor] triple
  // (functional.py get_config maps the input structure, a lone tensor), not a list of triples.
  it('Keras 3 single-input model: input_layers as one flat [name, 0, 0] triple', async () => {
    const dir = await dirs.make();
    const layers = [withInbound(inputLayer('input_layer'), []), withInbound(conv2dLayer('conv2d', null, [3, 3], 4), keras3Inbound('input_layer'))];
    const weights = convWeights('conv2d', [3, 3], 3, 4, 65);
    const url = await writeTfjsModel(dir, {
      layers,
      inputLayers: ['input_layer'],
      weights,
      shardBytes: 200,
      editModelJson: (json) => {
        Object.assign(json.modelTopology.model_config.config as object, { input_layers: ['input_layer', 0, 0], output_layers: ['conv2d', 0, 0] });
      },
    });
    const kernel = await readKernel(url);
    expect(kernel.layer).toBe('conv2d');
  });

  describe('the layer option', () => {
    async function twoConvModel() {
      const dir = await dirs.make();
      const layers = [
        inputLayer('input_1'),
        conv2dLayer('conv_a', 'input_1', [3, 3], 4),
        conv2dLayer('conv_b', 'conv_a', [1, 1], 2, [1, 2]),
        kerasLayer('Flatten', 'flat', 'conv_b'),
        denseLayer('fc', 'flat', 3),
      ];
      const weights = [...convWeights('conv_a', [3, 3], 3, 4, 71), ...convWeights('conv_b', [1, 1], 4, 2, 73), ...denseWeights('fc', 8, 3, 75)];
      const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 128 });
      return { url, weights };
    }

    it('picks the named layer', async () => {
      const { url, weights } = await twoConvModel();
      const kernel = await readKernel(url, { layer: 'conv_b' });
      expect(kernel.layer).toBe('conv_b');
      expect(kernel.shape).toEqual([1, 1, 4, 2]);
      expect(kernel.strides).toEqual([1, 2]);
      expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'conv_b/kernel').values));
    });

    it('refuses an unknown layer name, naming the file and listing the convolutions', async () => {
      const { url } = await twoConvModel();
      const error = await expectConv1Error(readKernel(url, { layer: 'nope' }));
      expect(error.file).toBe(fileURLToPath(url));
      expect(error.message).toContain(fileURLToPath(url));
      expect(error.reason).toContain('no layer named "nope"');
      expect(error.hint).toContain('conv_a, conv_b');
    });

    it('refuses a layer that is not a convolution, naming the file and listing the convolutions', async () => {
      const { url } = await twoConvModel();
      const error = await expectConv1Error(readKernel(url, { layer: 'fc' }));
      expect(error.file).toBe(fileURLToPath(url));
      expect(error.reason).toMatch(/"fc".*not a convolution/);
      expect(error.hint).toContain('conv_a, conv_b');
    });
  });
});

describe('layout and metadata', () => {
  it('returns HWIO data: [y,x,c,f] is at ((y*kw+x)*cin+c)*cout+f; strides from the config', async () => {
    const dir = await dirs.make();
    const [kh, kw, cin, cout] = [3, 2, 3, 5];
    const code = (y: number, x: number, c: number, f: number) => y * 1000 + x * 100 + c * 10 + f;
    const values = new Float32Array(kh * kw * cin * cout);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) for (let c = 0; c < cin; c++) for (let f = 0; f < cout; f++) values[((y * kw + x) * cin + c) * cout + f] = code(y, x, c, f);
    const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [kh, kw], cout, [3, 1])];
    const weights = [{ name: 'conv1/kernel', shape: [kh, kw, cin, cout], values }, randomWeight('conv1/bias', [cout], 1)];
    const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 100 });
    const kernel = await readKernel(url);
    expect(kernel.shape).toEqual([kh, kw, cin, cout]);
    expect(kernel.data.length).toBe(elementCount([kh, kw, cin, cout]));
    expect(kernel.strides).toEqual([3, 1]);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let c = 0; c < cin; c++) for (let f = 0; f < cout; f++) expect(kernel.data[((y * kw + x) * cin + c) * cout + f]).toBe(code(y, x, c, f));
    expect(kernel).toMatchObject({ layerType: 'Conv2D', format: 'tfjs-layers' });
  });

  it('reports the source as given: a path string, or the file for a URL', async () => {
    const dir = await dirs.make();
    const url = await writeTfjsModel(dir, { ...inputThenConv(randomWeight('conv1/kernel', [1, 1, 3, 1], 3)), shardBytes: 100 });
    expect((await readKernel('model.json', { root: dir })).source).toBe('model.json');
    expect((await readKernel(url)).source).toBe(fileURLToPath(url));
  });

  describe('channel order', () => {
    async function model(names: { conv: string; extra: string[] }): Promise<URL> {
      const dir = await dirs.make();
      const layers = [inputLayer('input_1'), conv2dLayer(names.conv, 'input_1', [3, 3], 2)];
      let previous = names.conv;
      for (const name of names.extra) {
        layers.push(name.startsWith('bn') ? kerasLayer('BatchNormalization', name, previous) : conv2dLayer(name, previous, [1, 1], 2));
        previous = name;
      }
      const weights = [names.conv, ...names.extra.filter((n) => !n.startsWith('bn'))].flatMap((name, i) => convWeights(name, name === names.conv ? [3, 3] : [1, 1], i === 0 ? 3 : 2, 2, 80 + i));
      return writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 1000 });
    }
    const rgbMean = [123.68, 116.779, 103.939];
    const bgrMean = [103.939, 116.779, 123.68];

    it('defaults to rgb', async () => {
      const kernel = await readKernel(await model({ conv: 'conv1', extra: ['bn_conv1', 'res2b_branch2a'] }));
      expect(kernel).toMatchObject({ channelOrder: 'rgb', channelOrderSource: 'default', inputMean: rgbMean });
    });

    it('takes the channels option', async () => {
      const kernel = await readKernel(await model({ conv: 'conv1', extra: [] }), { channels: 'bgr' });
      expect(kernel).toMatchObject({ channelOrder: 'bgr', channelOrderSource: 'option', inputMean: bgrMean });
    });

    it('recognises the Keras ResNet50 (conv1, bn_conv1, res2a_branch2a) as bgr', async () => {
      const url = await model({ conv: 'conv1', extra: ['bn_conv1', 'res2a_branch2a'] });
      expect(await readKernel(url)).toMatchObject({ channelOrder: 'bgr', channelOrderSource: 'preset keras-resnet50', inputMean: bgrMean });
      // The option beats the preset.
      expect(await readKernel(url, { channels: 'rgb' })).toMatchObject({ channelOrder: 'rgb', channelOrderSource: 'option', inputMean: rgbMean });
    });
  });
});

describe('fixture sanity', () => {
  // Not a reader test: guards the shard tests above against a fixture that cuts shards wrongly.
  it('cuts the stream into shards of exactly shardBytes, the last shorter', async () => {
    const dir = await dirs.make();
    const model = inputThenConv(randomWeight('conv1/kernel', [3, 3, 3, 3], 1), denseWeights('fc', 40, 5, 2));
    await writeTfjsModel(dir, { ...model, shardBytes: 300 });
    const total = planWeights(model.weights).totalBytes;
    const count = Math.ceil(total / 300);
    expect(count).toBeGreaterThan(2);
    const sizes = await Promise.all([...Array(count).keys()].map((i) => fileSize(new URL(shardName(i, count), dir))));
    expect(sizes.slice(0, -1).every((s) => s === 300)).toBe(true);
    expect(sizes.at(-1)).toBe(total - 300 * (count - 1));
  });
});
