import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readModel } from '../../src/lib/index.ts';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { encodeWeight, planWeights, shardName, shardsTouched, TempDirs, writeWeightsManifest, type Quantization, type WeightSpec } from '../helpers/tfjs-fixture.ts';
import { runCli } from '../helpers/cli.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

/**
 * Bare weights manifests, written from a real tfjs-layers model saved through tf.io, and checked
 * against tfjs' own loader (tf.io.weightsLoaderFactory, which fetches whole groups and decodes
 * them, quantised or not).
 */

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

let tf: typeof import('@tensorflow/tfjs-core');
/** The model's weights as tf.io saved them: specs in manifest order and one byte stream. */
let saved: { specs: WeightSpec[]; data: Uint8Array };

beforeAll(async () => {
  tf = await import('@tensorflow/tfjs-core');
  tf.env().set('IS_TEST', true);
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  const tfl = await import('@tensorflow/tfjs-layers');
  const init = (seed: number) => tfl.initializers.randomUniform({ minval: -1, maxval: 1, seed });
  // Batch norm first, so the first 4-D weight is not the first weight; the stem's stride 2 is not in the manifest.
  const model = tfl.sequential({
    layers: [
      tfl.layers.batchNormalization({ inputShape: [12, 12, 3], name: 'bn' }),
      tfl.layers.conv2d({ name: 'stem', filters: 8, kernelSize: 5, strides: 2, kernelInitializer: init(1) }),
      tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, depthwiseInitializer: init(2) }),
      tfl.layers.conv2d({ name: 'head', filters: 4, kernelSize: 1, kernelInitializer: init(3) }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ name: 'fc', units: 3, kernelInitializer: init(4) }),
    ],
  });
  let artifacts: import('@tensorflow/tfjs-core').io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (result) => {
      artifacts = result;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const data = artifacts!.weightData!;
  saved = { specs: artifacts!.weightSpecs! as WeightSpec[], data: new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data) };
  model.dispose();
});

/** Byte offset of each weight in a stream of `specs`, stored as listed (quantised or not). */
function offsets(specs: WeightSpec[]): Map<string, { offset: number; bytes: number }> {
  const width: Record<string, number> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };
  const out = new Map<string, { offset: number; bytes: number }>();
  let at = 0;
  for (const spec of specs) {
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * width[spec.quantization?.dtype ?? spec.dtype]!;
    out.set(spec.name, { offset: at, bytes });
    at += bytes;
  }
  return out;
}

/** The weight `name` as tfjs itself loads it from the manifest at `url`: every shard of its group, decoded. */
async function tfjsLoads(url: URL, name: string): Promise<Float32Array> {
  const manifest = JSON.parse(await readFile(url, 'utf8')) as import('@tensorflow/tfjs-core').io.WeightsManifestConfig;
  const load = tf.io.weightsLoaderFactory(async (paths) => Promise.all(paths.map(async (path) => new Uint8Array(await readFile(new URL(path, url))).slice().buffer)));
  const tensors = await load(manifest, './', [name]);
  const values = tensors[name]!.dataSync() as Float32Array;
  Object.values(tensors).forEach((tensor) => tensor.dispose());
  return values;
}

/** The saved weights as two groups: bn … dw/bias (3096 bytes, shards of 1500), then the rest (shards of 256). */
async function twoGroups() {
  const dir = await dirs.make();
  const cut = saved.specs.findIndex((spec) => spec.name === 'head/kernel');
  const split = [...offsets(saved.specs).values()][cut]!.offset;
  const { url, paths } = await writeWeightsManifest(dir, [
    { weights: saved.specs.slice(0, cut), bytes: saved.data.subarray(0, split), shardBytes: 1500 },
    { weights: saved.specs.slice(cut), bytes: saved.data.subarray(split), shardBytes: 256 },
  ]);
  return { dir, url, paths, manifestBytes: (await stat(url)).size };
}

describe('a weights manifest without a topology', () => {
  it('takes the first 4-D weight in manifest order, reads it from the two shards it spans and no other file, and says it guessed', async () => {
    const { dir, url, paths, manifestBytes } = await twoGroups();
    expect(paths).toEqual([['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'], ['group2-shard1of2.bin', 'group2-shard2of2.bin']]);
    // stem/kernel lies at bytes 24..2424 of group 1: across its shards 1 and 2.
    const stem = offsets(saved.specs).get('stem/kernel')!;
    expect(shardsTouched(stem.offset, stem.bytes, 1500, 3096)).toEqual([shardName(0, 3), shardName(1, 3)]);
    const reference = await tfjsLoads(url, 'stem/kernel');
    for (const name of [...paths[1]!, paths[0]![2]!]) await rm(new URL(name, dir));

    const { kernel, convolutions, filesRead, notes } = await readModel(url);
    expect(kernel).toMatchObject({ format: 'tfjs-weights', layer: 'stem/kernel', layerType: 'Conv2D', shape: [5, 5, 3, 8], strides: [1, 1] });
    expect(Array.from(kernel.data)).toEqual(Array.from(reference));
    expect(filesRead).toEqual(['weights_manifest.json', 'group1-shard1of3.bin', 'group1-shard2of3.bin']);
    expect(kernel.bytesRead).toBe(manifestBytes + stem.bytes);
    expect(convolutions.map(({ name, layerType, shape }) => [name, layerType, shape])).toEqual([
      ['stem/kernel', 'Conv2D', [5, 5, 3, 8]],
      ['dw/depthwise_kernel', 'DepthwiseConv2D', [3, 3, 1, 16]],
      ['head/kernel', 'Conv2D', [1, 1, 16, 4]],
    ]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`${url.pathname} is a weights manifest without a topology, so the first convolution is a guess: "stem/kernel", the first 4-D weight in manifest order`);
    expect(notes[0]).toContain('strides are not in the file and are shown as 1');
  });

  it('`layer` picks any other 4-D weight, by its name or its layer\'s, reading only its own shard', async () => {
    const { url, manifestBytes } = await twoGroups();
    const noted: string[] = [];
    const head = await readModel(url, { layer: 'head', onNote: (note) => noted.push(note) });
    expect(head.kernel).toMatchObject({ layer: 'head/kernel', shape: [1, 1, 16, 4] });
    expect(Array.from(head.kernel.data)).toEqual(Array.from(await tfjsLoads(url, 'head/kernel')));
    expect(head.filesRead).toEqual(['weights_manifest.json', 'group2-shard1of2.bin']);
    expect(head.kernel.bytesRead).toBe(manifestBytes + 16 * 4 * 4);
    expect(noted).toEqual(head.notes);
    expect(head.notes).toEqual([`${url.pathname} is a weights manifest without a topology: the strides of "head/kernel" are not in the file and are shown as 1.`]);

    const dw = await readModel(url, { layer: 'dw/depthwise_kernel' });
    expect(Array.from(dw.kernel.data)).toEqual(Array.from(await tfjsLoads(url, 'dw/depthwise_kernel')));

    const dense = await conv1Error(readModel(url, { layer: 'fc/kernel' }));
    expect(dense.reason).toBe('has a layer "fc/kernel", but it is not a convolution');
    expect(dense.hint).toContain('stem/kernel, dw/depthwise_kernel, head/kernel');
    expect((await conv1Error(readModel(url, { layer: 'nope' }))).reason).toBe('has no layer named "nope"');
  });

  it('astro-conv1 info shows the note, in text and in JSON', async () => {
    const { url } = await twoGroups();
    const text = await runCli(['info', url.pathname]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('format      tfjs-weights\n');
    expect(text.stdout).toMatch(/\nnote        .* is a weights manifest without a topology, so the first convolution is a guess: "stem\/kernel"/);
    const json = await runCli(['info', url.pathname, '--layer', 'head', '--json']);
    expect(JSON.parse(json.stdout).notes).toEqual([`${url.pathname} is a weights manifest without a topology: the strides of "head/kernel" are not in the file and are shown as 1.`]);
  });

  // tensorflowjs_converter's --quantize_uint8/uint16/float16: min and scale per weight (affine) or
  // half floats, which tfjs dequantises when it loads; the dtype stays float32.
  it.each(['uint8', 'uint16', 'float16'] as const)('%s-quantised: dequantised exactly as tfjs does, reading only the shards the kernel lies in', async (quantization: Quantization) => {
    const dir = await dirs.make();
    const stream = offsets(saved.specs);
    const weights = saved.specs.map((spec) => {
      const { offset, bytes } = stream.get(spec.name)!;
      return { name: spec.name, shape: spec.shape, values: new Float32Array(saved.data.slice(offset, offset + bytes).buffer), quantization };
    });
    const plan = planWeights(weights);
    const bytes = new Uint8Array(plan.totalBytes);
    for (const weight of plan.weights) bytes.set(weight.bytes, weight.offset);
    const specs = weights.map((weight) => encodeWeight(weight).manifest);
    expect(specs.every((spec) => spec.dtype === 'float32' && spec.quantization?.dtype === quantization)).toBe(true);
    const { url } = await writeWeightsManifest(dir, [{ weights: specs, bytes, shardBytes: 256 }]);
    const manifestBytes = (await stat(url)).size;

    const dw = offsets(specs).get('dw/depthwise_kernel')!;
    const { kernel, filesRead } = await readModel(url, { layer: 'dw' });
    expect(kernel.layer).toBe('dw/depthwise_kernel');
    expect(Array.from(kernel.data)).toEqual(Array.from(await tfjsLoads(url, 'dw/depthwise_kernel')));
    expect(filesRead).toEqual(['weights_manifest.json', ...shardsTouched(dw.offset, dw.bytes, 256, plan.totalBytes)]);
    expect(kernel.bytesRead).toBe(manifestBytes + dw.bytes);
  });

  it('reads the object form { weightsManifest } without a topology, after a byte order mark and more than HEAD_BYTES of whitespace', async () => {
    const dir = await dirs.make();
    const { url } = await writeWeightsManifest(dir, [{ weights: saved.specs, bytes: saved.data, shardBytes: 4096 }]);
    const reference = await tfjsLoads(url, 'stem/kernel');
    const padding = ' \t\r\n'.repeat(HEAD_BYTES);
    await writeFile(url, `\uFEFF${padding}{"format": "weights", "weightsManifest": ${await readFile(url, 'utf8')}}`);
    const { kernel } = await readModel(url);
    expect(kernel.layer).toBe('stem/kernel');
    expect(Array.from(kernel.data)).toEqual(Array.from(reference));
  });
});

describe('weights manifests that are refused', () => {
  async function manifestOf(json: unknown, name = 'weights_manifest.json') {
    const dir = await dirs.make();
    const url = new URL(name, dir);
    await writeFile(url, typeof json === 'string' ? json : JSON.stringify(json));
    return url;
  }

  it('JSON that is neither a model nor a manifest says what it is', async () => {
    const error = await conv1Error(readModel(await manifestOf({ name: 'classes', labels: ['cat', 'dog'] })));
    expect(error.reason).toBe(
      'is JSON but not a TensorFlow.js model (a modelTopology with a weightsManifest) nor a weights manifest (a list of { paths, weights } groups): it is an object with the keys name, labels',
    );
    const list = await conv1Error(readModel(await manifestOf([1, 2, 3])));
    expect(list.reason).toContain('it is a list of 3 items, the first being a number');
  });

  it('a manifest without a 4-D float weight, a path leaving the folder, quantisation without min and scale', async () => {
    const flat = await conv1Error(readModel(await manifestOf([{ paths: ['w.bin'], weights: [{ name: 'fc/kernel', shape: [4, 2], dtype: 'float32' }] }])));
    expect(flat.reason).toBe('is a weights manifest of 1 weights, none of them a 4-D float kernel, so it holds no convolution');

    const escaping = await conv1Error(readModel(await manifestOf([{ paths: ['../w.bin'], weights: [{ name: 'c/kernel', shape: [1, 1, 3, 1], dtype: 'float32' }] }])));
    expect(escaping.reason).toContain('"../w.bin", which is not a plain relative path');

    const url = await manifestOf([{ paths: ['w.bin'], weights: [{ name: 'c/kernel', shape: [1, 1, 3, 1], dtype: 'float32', quantization: { dtype: 'uint8', original_dtype: 'float32' } }] }]);
    await writeFile(new URL('w.bin', url), new Uint8Array(3));
    expect((await conv1Error(readModel(url))).reason).toBe('quantises "c/kernel" to uint8 without a numeric min and scale');
  });
});

describe('detection', () => {
  async function fileOf(name: string, bytes: Uint8Array | string) {
    const dir = await dirs.make();
    const url = new URL(name, dir);
    await writeFile(url, bytes);
    return url;
  }

  it('a file no reader claims: the message says what it looks like and what its extension promised', async () => {
    const html = await conv1Error(readModel(await fileOf('model.json', '<!DOCTYPE html>\n<html><body>Sign in</body></html>')));
    expect(html.reason).toBe('has the extension .json but its content is not tfjs (JSON): it is an HTML or XML page');
    expect(html.hint).toMatch(/^The URL or download gave a web page instead of the file: .* Point `model` at a file in a supported format: tfjs \(\.json\); .*; pytorch \(\.pt, \.pth/);
    expect(html.hint).not.toContain('refused');

    const lfs = await conv1Error(readModel(await fileOf('model.h5', 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 102853048\n')));
    expect(lfs.reason).toBe('has the extension .h5 but its content is not keras-h5 (an HDF5 file): it is a Git LFS pointer, a few lines standing for the real file');
    expect(lfs.hint).toContain('git lfs pull');

    const text = await conv1Error(readModel(await fileOf('model.safetensors', 'weights go here, one day')));
    expect(text.reason).toBe('has the extension .safetensors but its content is not safetensors (a length-prefixed JSON header and raw tensors): it is text beginning "weights go here, one day"');

    const binary = await conv1Error(readModel(await fileOf('model.dat', Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5))));
    expect(binary.reason).toBe('is not a model file astro-conv1 can read: it starts with the bytes de ad be ef 00 01 02 03');

    const blank = await conv1Error(readModel(await fileOf('model.json', ' '.repeat(5000))));
    expect(blank.reason).toBe('has the extension .json but its content is not tfjs (JSON): it holds nothing but whitespace');
  });
});
