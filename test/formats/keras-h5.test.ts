import { existsSync } from 'node:fs';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { kerasH5Reader } from '../../src/lib/formats/keras-h5.ts';
import { Conv1Error, readKernel, readModel } from '../../src/lib/index.ts';
import { LocalModelFiles, type ModelFiles } from '../../src/lib/sources/model-files.ts';
import { EXTERNAL_FILE_FIXTURES, writeKeras3Weights, writeKerasH5, writeSourceDataset, type KerasH5Options } from '../helpers/h5-fixture.ts';
import {
  conv2dLayer,
  convWeights,
  denseLayer,
  denseWeights,
  elementCount,
  inputLayer,
  kerasLayer,
  randomValues,
  randomWeight,
  TempDirs,
  type FixtureWeight,
} from '../helpers/tfjs-fixture.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

function weight(weights: FixtureWeight[], name: string): FixtureWeight {
  const found = weights.find((w) => w.name === name);
  if (!found) throw new Error(`test bug: no weight ${name}`);
  return found;
}

/**
 * input_1 → conv_a (3×3, 3→4, stride 2) → conv_b (3×3, 4→5) → flat → fc. layer_names lists the
 * layers in an order that puts conv_b before conv_a, so only the topology gets conv_a first.
 */
function twoConvModel(fcInputs = 8): KerasH5Options & { weights: FixtureWeight[] } {
  return {
    layers: [
      inputLayer('input_1'),
      conv2dLayer('conv_a', 'input_1', [3, 3], 4, [2, 2]),
      conv2dLayer('conv_b', 'conv_a', [3, 3], 5),
      kerasLayer('Flatten', 'flat', 'conv_b'),
      denseLayer('fc', 'flat', 1024),
    ],
    inputLayers: ['input_1'],
    layerNames: ['fc', 'conv_b', 'flat', 'conv_a', 'input_1'],
    weights: [...convWeights('conv_a', [3, 3], 3, 4, 11), ...convWeights('conv_b', [3, 3], 4, 5, 21), ...denseWeights('fc', fcInputs, 1024, 31)],
  };
}

async function writeModel(options: KerasH5Options, name = 'model.h5'): Promise<{ url: URL; path: string }> {
  const dir = await dirs.make();
  const url = new URL(name, dir);
  const path = fileURLToPath(url);
  await writeKerasH5(path, options);
  return { url, path };
}

describe('Keras HDF5: full model', () => {
  it('reads the first convolution by topology, not by layer_names order, with exact HWIO values', async () => {
    const model = twoConvModel();
    const { url } = await writeModel(model);
    const { kernel, convolutions } = await readModel(url);
    expect(convolutions.map((c) => c.name)).toEqual(['conv_a', 'conv_b']);
    expect(kernel.layer).toBe('conv_a');
    expect(kernel.format).toBe('keras-h5');
    expect(kernel.layerType).toBe('Conv2D');
    expect(kernel.shape).toEqual([3, 3, 3, 4]);
    expect(kernel.strides).toEqual([2, 2]);
    expect(kernel.data).toBeInstanceOf(Float32Array);
    expect(Array.from(kernel.data)).toEqual(Array.from(weight(model.weights, 'conv_a/kernel').values));
  });

  it('reads another convolution with the `layer` option, and tells non-convolutions from missing layers', async () => {
    const model = twoConvModel();
    const { url } = await writeModel(model);
    const k = await readKernel(url, { layer: 'conv_b' });
    expect(k.shape).toEqual([3, 3, 4, 5]);
    expect(k.strides).toEqual([1, 1]);
    expect(Array.from(k.data)).toEqual(Array.from(weight(model.weights, 'conv_b/kernel').values));

    const dense = await conv1Error(readKernel(url, { layer: 'fc' }));
    expect(dense.reason).toContain('not a convolution');
    expect(dense.hint).toContain('conv_a, conv_b');
    const missing = await conv1Error(readKernel(url, { layer: 'nope' }));
    expect(missing.reason).toContain('no layer named "nope"');
  });

  it('reads a Sequential model, and a depthwise kernel as one input channel per filter', async () => {
    const depthwise = randomWeight('dw/depthwise_kernel', [3, 3, 3, 2], 41);
    const { url } = await writeModel({
      className: 'Sequential',
      layers: [kerasLayer('DepthwiseConv2D', 'dw', null, { kernel_size: [3, 3], strides: [1, 1], depth_multiplier: 2 }), kerasLayer('Flatten', 'flat', null)],
      inputLayers: [],
      weights: [depthwise, randomWeight('dw/bias', [6], 42)],
    });
    const k = await readKernel(url);
    expect(k.layerType).toBe('DepthwiseConv2D');
    expect(k.shape).toEqual([3, 3, 1, 6]);
    expect(Array.from(k.data)).toEqual(Array.from(depthwise.values));
  });

  it('explains a nested model instead of reporting no convolution', async () => {
    const inner = { name: 'backbone', class_name: 'Functional', config: { name: 'backbone', layers: [inputLayer('in'), conv2dLayer('conv', 'in', [3, 3], 4)] }, inbound_nodes: [[['input_1', 0, 0, {}]]] };
    const { url } = await writeModel({ layers: [inputLayer('input_1'), inner], inputLayers: ['input_1'], weights: [] });
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toContain('nested model "backbone"');
    expect(error.hint).toContain('get_layer("backbone")');
  });
});

describe('Keras HDF5: weights only', () => {
  /** resnet50_weights_tf_dim_ordering_tf_kernels.h5 style: layer_names at the root, no topology. */
  function weightsOnly(extra: Partial<KerasH5Options> = {}): KerasH5Options & { weights: FixtureWeight[] } {
    const weights = [
      randomWeight('bn0/gamma', [3], 61),
      ...convWeights('conv1', [7, 7], 3, 8, 62),
      randomWeight('bn1/gamma', [8], 63),
      ...convWeights('conv2', [3, 3], 8, 8, 64),
      ...denseWeights('fc', 8, 10, 65),
    ];
    return {
      weightsOnly: true,
      layers: ['input_1', 'bn0', 'conv1', 'bn1', 'conv2', 'fc'].map((name) => ({ name })),
      inputLayers: [],
      weights,
      ...extra,
    };
  }

  it('takes the first rank-4 kernel in layer_names order, with strides 1', async () => {
    const model = weightsOnly();
    const { url } = await writeModel(model, 'weights.h5');
    const { kernel, convolutions } = await readModel(url);
    expect(convolutions.map((c) => c.name)).toEqual(['conv1', 'conv2']);
    expect(kernel.layer).toBe('conv1');
    expect(kernel.layerType).toBe('Conv2D');
    expect(kernel.shape).toEqual([7, 7, 3, 8]);
    expect(kernel.strides).toEqual([1, 1]);
    expect(Array.from(kernel.data)).toEqual(Array.from(weight(model.weights, 'conv1/kernel').values));
  });

  it('reads layer_names split into layer_names0, layer_names1, … and the `layer` option', async () => {
    const model = weightsOnly({ splitLayerNamesEvery: 2 });
    const { url } = await writeModel(model, 'weights.h5');
    const k = await readKernel(url, { layer: 'conv2' });
    expect(k.shape).toEqual([3, 3, 8, 8]);
    expect(Array.from(k.data)).toEqual(Array.from(weight(model.weights, 'conv2/kernel').values));
  });

  it('reads a float64 kernel as the same values in float32', async () => {
    const model = weightsOnly({ float64Weights: ['conv1/kernel'] });
    const { url } = await writeModel(model, 'weights.h5');
    const k = await readKernel(url);
    expect(k.data).toBeInstanceOf(Float32Array);
    expect(Array.from(k.data)).toEqual(Array.from(weight(model.weights, 'conv1/kernel').values));
  });
});

describe('Keras HDF5: bytes read', () => {
  it('reads the metadata and the one kernel, not a 4 MiB dataset beside it', async () => {
    // fc/kernel is 1024 × 1024 float32 = 4 MiB.
    const model = twoConvModel(1024);
    const { url, path } = await writeModel(model);
    const fileSize = (await stat(path)).size;
    const rawBytes = model.weights.reduce((sum, w) => sum + elementCount(w.shape) * 4, 0);
    const metadataBytes = fileSize - rawBytes;
    const kernelBytes = elementCount(weight(model.weights, 'conv_a/kernel').shape) * 4;
    expect(rawBytes).toBeGreaterThan(4 * 1024 * 1024);

    const k = await readKernel(url);
    // The account is exact (every byte fetched for the HDF5 library), but the library's small
    // reads are rounded out to the 2 KiB blocks they fall in, some of them holding raw data beside
    // the metadata: 2 KiB covers that here. The 4 MiB dataset is never read.
    const SLACK = 2048;
    expect(k.bytesRead).toBeGreaterThanOrEqual(kernelBytes);
    expect(k.bytesRead).toBeLessThanOrEqual(HEAD_BYTES + metadataBytes + kernelBytes + SLACK);
  });
});

describe('Keras HDF5: bad input', () => {
  type Group = Parameters<NonNullable<KerasH5Options['edit']>>[1];
  const groupAt = (root: Group, path: string) => root.get(path) as Group;

  it('refuses a soft link where a kernel should be', async () => {
    const { url, path } = await writeModel({
      ...twoConvModel(),
      omitWeights: ['conv_a/kernel'],
      edit: (file, root) => {
        file.create_group('hidden').create_dataset({ name: 'kernel', data: new Float32Array(108), shape: [3, 3, 3, 4], dtype: '<f' });
        groupAt(root, 'conv_a/conv_a').create_soft_link('/hidden/kernel', 'kernel:0');
      },
    });
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(path);
    expect(error.reason).toContain('"/model_weights/conv_a/conv_a/kernel:0" a soft link to "/hidden/kernel"');
    expect(error.hint).toContain('inside the one file');
  });

  it('refuses an external link, at the kernel or on the way to it, without opening the other file', async () => {
    const dir = await dirs.make();
    await writeSourceDataset(fileURLToPath(new URL('other.h5', dir)), randomValues(108, 71));
    const atKernel = fileURLToPath(new URL('at-kernel.h5', dir));
    await writeKerasH5(atKernel, { ...twoConvModel(), omitWeights: ['conv_a/kernel'], edit: (_file, root) => groupAt(root, 'conv_a/conv_a').create_external_link('other.h5', '/data', 'kernel:0') });
    const error = await conv1Error(readKernel(pathToFileURL(atKernel)));
    expect(error.file).toBe(atKernel);
    expect(error.reason).toContain('an external link to "/data" in the file "other.h5"');

    const onTheWay = fileURLToPath(new URL('on-the-way.h5', dir));
    await writeKerasH5(onTheWay, { ...twoConvModel(), omitWeights: ['conv_a/kernel', 'conv_a/bias'], edit: (_file, root) => groupAt(root, 'conv_a').create_external_link('other.h5', '/', 'conv_a') });
    expect((await conv1Error(readKernel(pathToFileURL(onTheWay)))).reason).toContain('"/model_weights/conv_a/conv_a" an external link');
  });

  it('refuses a virtual dataset', async () => {
    const dir = await dirs.make();
    await writeSourceDataset(fileURLToPath(new URL('weights-source.h5', dir)), randomValues(108, 72));
    const path = fileURLToPath(new URL('vds.h5', dir));
    await writeFile(path, EXTERNAL_FILE_FIXTURES.virtualDataset());
    const error = await conv1Error(readKernel(pathToFileURL(path)));
    expect(error.file).toBe(path);
    expect(error.reason).toContain('a virtual dataset whose values come from dataset "data" of "weights-source.h5"');
  });

  it('refuses external storage: the library is not allowed to open the raw file', async () => {
    const dir = await dirs.make();
    const path = fileURLToPath(new URL('efl.h5', dir));
    await writeFile(path, EXTERNAL_FILE_FIXTURES.externalStorage());
    const error = await conv1Error(readKernel(pathToFileURL(path)));
    expect(error.file).toBe(path);
    expect(error.reason).toMatch(/open another file, ".*raw-kernel\.bin", while reading "\/?conv1\/conv1\/kernel:0"/);
    expect(error.hint).toContain('CVE-2026-1669');
  });

  it('refuses a kernel that declares more than the file holds, or stores none of its values', async () => {
    const chunkedKernel = (shape: number[]) => (_file: unknown, root: Group) =>
      groupAt(root, 'conv_a/conv_a')
        .create_dataset({ name: 'kernel:0', data: new Float32Array(0), shape: [0, 3, 3, 4], maxshape: [null, 3, 3, null], chunks: [3, 3, 3, 4], dtype: '<f' })
        .resize(shape);
    const big = await writeModel({ ...twoConvModel(), omitWeights: ['conv_a/kernel'], edit: chunkedKernel([3, 3, 3, 40_000]) });
    const tooBig = await conv1Error(readKernel(big.url));
    expect(tooBig.reason).toMatch(/declares 4320000 bytes for ".*conv_a\/conv_a\/kernel:0" \[3,3,3,40000\], more than a \d+-byte file can hold/);

    const huge = await writeModel({ ...twoConvModel(), omitWeights: ['conv_a/kernel'], edit: chunkedKernel([3, 3, 3, 4_000_000_000]) });
    expect((await conv1Error(readKernel(huge.url))).reason).toContain('more than the 268435456 bytes a kernel may have');

    const empty = await writeModel({ ...twoConvModel(), omitWeights: ['conv_a/kernel'], edit: chunkedKernel([3, 3, 3, 4]) });
    expect((await conv1Error(readKernel(empty.url))).reason).toContain('[3,3,3,4] but stores none of its values');
  });

  it('refuses missing kernels, kernels under other names, and kernels of the wrong rank or type', async () => {
    const missing = await writeModel({ ...twoConvModel(), omitWeights: ['conv_a/kernel'] });
    expect((await conv1Error(readKernel(missing.url))).reason).toContain('has no dataset "model_weights/conv_a/conv_a/kernel:0"');

    const renamed = twoConvModel();
    renamed.weights = renamed.weights.map((w) => (w.name === 'conv_a/kernel' ? { ...w, name: 'conv_a/W' } : w));
    expect((await conv1Error(readKernel((await writeModel(renamed)).url))).reason).toContain('has no kernel among the weights of the convolution "conv_a" (conv_a/W:0, conv_a/bias:0)');

    const flat = twoConvModel();
    flat.weights = flat.weights.map((w) => (w.name === 'conv_a/kernel' ? randomWeight('conv_a/kernel', [27, 4], 81) : w));
    expect((await conv1Error(readKernel((await writeModel(flat)).url))).reason).toContain('the shape [27,4], not a rank-4 convolution kernel');

    const integers = await writeModel({
      ...twoConvModel(),
      omitWeights: ['conv_a/kernel'],
      edit: (_file, root) => groupAt(root, 'conv_a/conv_a').create_dataset({ name: 'kernel:0', data: new Int32Array(108), shape: [3, 3, 3, 4], dtype: '<i' }),
    });
    expect((await conv1Error(readKernel(integers.url))).reason).toContain('as 32-bit integers, not as 32- or 64-bit floats');
  });

  it('refuses a broken model_config, and HDF5 files that are not Keras models', async () => {
    const layers = ['conv1'].map((name) => ({ name }));
    const weights = convWeights('conv1', [3, 3], 3, 4, 91);
    const badJson = await writeModel({ weightsOnly: true, layers, inputLayers: [], weights, edit: (file) => file.create_attribute('model_config', '{"class_name": ') });
    const json = await conv1Error(readKernel(badJson.url));
    expect(json.file).toBe(badJson.path);
    expect(json.reason).toContain('model_config attribute that is not valid JSON');

    const noWeights = await writeModel({ weightsOnly: true, layers, inputLayers: [], weights, edit: (file) => file.create_attribute('model_config', JSON.stringify({ class_name: 'Sequential', config: { layers: [] } })) });
    expect((await conv1Error(readKernel(noWeights.url))).reason).toContain('has a model_config but no model_weights group');

    const dir = await dirs.make();
    const plain = join(fileURLToPath(dir), 'plain.h5');
    await writeSourceDataset(plain, randomValues(108, 92));
    expect((await conv1Error(readKernel(pathToFileURL(plain)))).reason).toContain('not a Keras model (no model_config and no layer_names)');
  });

  it('refuses Keras 3 weights without their config, pointing at .keras', async () => {
    const dir = await dirs.make();
    const path = join(fileURLToPath(dir), 'model.weights.h5');
    await writeKeras3Weights(path, [{ key: 'conv2d', vars: convWeights('conv2d', [3, 3], 3, 4, 93) }]);
    const error = await conv1Error(readKernel(pathToFileURL(path)));
    expect(error.reason).toContain('Keras 3 weights');
    expect(error.hint).toContain('model.keras');
  });

  it('turns truncated and garbled files into errors naming the file, and keeps working afterwards', async () => {
    const model = twoConvModel();
    const { url } = await writeModel(model);
    const dir = await dirs.make();
    const truncated = join(fileURLToPath(dir), 'truncated.h5');
    await writeKerasH5(truncated, model);
    await truncate(truncated, Math.floor((await stat(truncated)).size / 2));
    const cut = await conv1Error(readKernel(pathToFileURL(truncated)));
    expect(cut.file).toBe(truncated);
    expect(cut.reason).toMatch(/^could not be read while opening it: .*\(HDF5 \w+\)$/);

    const garbled = join(fileURLToPath(dir), 'garbled.h5');
    const bytes = Buffer.alloc(4096);
    Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
    randomValues(1000, 94).forEach((v, i) => bytes.writeUInt8(Math.floor((v + 1) * 127.5), 8 + i));
    await writeFile(garbled, bytes);
    expect((await conv1Error(readKernel(pathToFileURL(garbled)))).file).toBe(garbled);

    expect(Array.from((await readKernel(url)).data)).toEqual(Array.from(weight(model.weights, 'conv_a/kernel').values));
  });

  it.runIf(existsSync('/proc/self/fd'))('leaks no file descriptor per refused file', async () => {
    const dir = fileURLToPath(await dirs.make());
    const truncated = join(dir, 'truncated.h5');
    await writeKerasH5(truncated, twoConvModel());
    await truncate(truncated, 2000);
    const openDescriptors = async () => (await readdir('/proc/self/fd')).length;
    await conv1Error(readKernel(pathToFileURL(truncated)));
    const before = await openDescriptors();
    for (let i = 0; i < 20; i++) await conv1Error(readKernel(pathToFileURL(truncated)));
    expect(await openDescriptors()).toBeLessThanOrEqual(before + 2);
  });

  it('a source that cannot deliver a range: its own error, not HDF5\'s, and the thread is not asked again', async () => {
    // A 7×7×3×64 kernel (37,632 bytes) is fetched by itself, in one range, after the metadata.
    const weights = [...convWeights('conv1', [7, 7], 3, 64, 51), ...denseWeights('fc', 64, 2, 52)];
    const { path } = await writeModel({ layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [7, 7], 64), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 2)], inputLayers: ['input_1'], weights });
    const local = new LocalModelFiles(pathToFileURL(path));
    let failing = false;
    const flaky: ModelFiles = Object.assign(Object.create(local) as LocalModelFiles, {
      read: (name: string, offset: number, length: number) =>
        failing ? Promise.reject(new Conv1Error(`${path} (server)`, 'could not be fetched (HTTP 503 Service Unavailable)', 'Try again later.')) : local.read(name, offset, length),
    });
    const opened = await kerasH5Reader.open(flaky);
    try {
      failing = true;
      const error = await conv1Error(opened.readKernel(opened.convolutions[0]!));
      expect(error.file).toBe(`${path} (server)`);
      expect(error.reason).toBe('could not be fetched (HTTP 503 Service Unavailable)');
      // HDF5 may have kept what it was reading into (its sieve buffer) and would answer from it.
      failing = false;
      expect(await conv1Error(opened.readKernel(opened.convolutions[0]!))).toBe(error);
    } finally {
      await opened.close?.();
    }
  });

  it('time spent waiting for the file\'s bytes does not count against the deadline', async () => {
    const model = twoConvModel();
    const { path } = await writeModel(model);
    const local = new LocalModelFiles(pathToFileURL(path));
    let first = true;
    // One fetch that takes longer than the whole deadline, as a slow network would.
    const slow: ModelFiles = Object.assign(Object.create(local) as LocalModelFiles, {
      read: async (name: string, offset: number, length: number) => {
        if (first && offset > 0) {
          first = false;
          await new Promise((resolve) => setTimeout(resolve, 6_000));
        }
        return local.read(name, offset, length);
      },
    });
    vi.stubEnv('ASTRO_CONV1_HDF5_DEADLINE_MS', '5000');
    const started = performance.now();
    try {
      const opened = await kerasH5Reader.open(slow);
      expect(Array.from(await opened.readKernel(opened.convolutions[0]!))).toEqual(Array.from(weight(model.weights, 'conv_a/kernel').values));
      await opened.close?.();
    } finally {
      vi.unstubAllEnvs();
    }
    expect(performance.now() - started).toBeGreaterThan(6_000);
  }, 30_000);

  it('never lets a damaged file escape as anything but a Conv1Error (seeded byte flips)', async () => {
    const { path } = await writeModel(twoConvModel());
    const original = await readFile(path);
    const dir = fileURLToPath(await dirs.make());
    const flips = randomValues(60 * 3, 95, 0, 1);
    const outcomes = { read: 0, refused: 0 };
    for (let variant = 0; variant < 60; variant++) {
      const bytes = Buffer.from(original);
      // Metadata lives in the first few KiB: flip bytes there, where HDF5 has the most to parse.
      for (let j = 0; j < 3; j++) bytes[Math.floor(flips[variant * 3 + j]! * 8192)]! ^= 1 + Math.floor(flips[(variant * 3 + j + 1) % flips.length]! * 254);
      const file = join(dir, `variant-${variant}.h5`);
      await writeFile(file, bytes);
      try {
        await readKernel(pathToFileURL(file));
        outcomes.read++;
      } catch (error) {
        expect(error).toBeInstanceOf(Conv1Error);
        expect((error as Conv1Error).file).toBe(file);
        outcomes.refused++;
      }
    }
    expect(outcomes.read + outcomes.refused).toBe(60);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe('Keras HDF5: a failing library', () => {
  afterEach(() => {
    vi.doUnmock('node:worker_threads');
    vi.resetModules();
  });

  it('turns a wasm trap in the HDF5 thread into a Conv1Error, and reads the next file with a fresh library', async () => {
    const model = twoConvModel();
    const { url, path } = await writeModel(model);
    // The reader's first thread gets an h5wasm whose file reads trap, as a trap inside HDF5 reaches
    // JavaScript: a WebAssembly.RuntimeError thrown through the C frames.
    const trapping = `
      const { workerData } = require('node:worker_threads');
      import(workerData.h5wasm).then(async ({ default: h5wasm }) => {
        (await h5wasm.ready).FS.read = () => { throw new WebAssembly.RuntimeError('memory access out of bounds'); };
        await import(workerData.entry);
      });`;
    const h5wasm = import.meta.resolve('h5wasm/node');
    let threads = 0;
    vi.doMock('node:worker_threads', async (importOriginal) => {
      const real = await importOriginal<typeof import('node:worker_threads')>();
      class FirstTraps extends real.Worker {
        constructor(entry: URL, options: import('node:worker_threads').WorkerOptions) {
          if (threads++ > 0) super(entry, options);
          else super(trapping, { ...options, eval: true, workerData: { ...options.workerData, entry: entry.href, h5wasm } });
        }
      }
      return { ...real, Worker: FirstTraps };
    });
    vi.resetModules();
    const lib = await import('../../src/lib/index.ts');
    // Fresh modules, so a Conv1Error class of their own: conv1Error() would not recognise it.
    const trapped = (await lib.readKernel(url).then(
      () => undefined,
      (error: unknown) => error,
    )) as Conv1Error;
    expect(trapped).toBeInstanceOf(lib.Conv1Error);
    expect(trapped.file).toBe(path);
    expect(trapped.reason).toContain('made the HDF5 library fail while opening it (memory access out of bounds)');
    expect(trapped.hint).toContain('damaged or crafted');

    expect(Array.from((await lib.readKernel(url)).data)).toEqual(Array.from(weight(model.weights, 'conv_a/kernel').values));
    expect(threads).toBe(2);
  });
});
