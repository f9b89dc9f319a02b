import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { toSnakeCase } from '../../src/lib/formats/keras-zip.ts';
import { encodePng, readKernel, readModel, renderGrid } from '../../src/lib/index.ts';
import { keras3Config, writeKeras3Weights, writeKerasH5, writeKerasZip, zipBytes, type ZipMember } from '../helpers/h5-fixture.ts';
import {
  conv2dLayer,
  convWeights,
  denseLayer,
  denseWeights,
  inputLayer,
  kerasLayer,
  keras3Inbound,
  randomWeight,
  TempDirs,
  withInbound,
  withoutInbound,
  writeTfjsModel,
  type FixtureWeight,
} from '../helpers/tfjs-fixture.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** Keras 3 layer with __keras_tensor__ inbound nodes. */
const k3 = (layer: object, from: string | null) => withInbound(layer, keras3Inbound(from));

/**
 * config.json lists conv_late before conv_early, so saving_lib numbers conv_late "conv2d" and
 * conv_early "conv2d_1"; the topology (input → conv_early → conv_late) still makes conv_early first.
 */
function functionalModel() {
  const early = convWeights('conv_early', [3, 3], 3, 4, 101);
  const late = convWeights('conv_late', [3, 3], 4, 6, 102);
  const fc = denseWeights('fc', 6, 2, 103);
  const layers = [
    k3(inputLayer('input_layer'), null),
    k3(conv2dLayer('conv_late', 'conv_early', [3, 3], 6), 'conv_early'),
    k3(conv2dLayer('conv_early', 'input_layer', [3, 3], 4, [2, 2]), 'input_layer'),
    k3(kerasLayer('Flatten', 'flat', 'conv_late'), 'conv_late'),
    k3(denseLayer('fc', 'flat', 2), 'flat'),
  ];
  return {
    config: keras3Config(layers, ['input_layer']),
    weights: [
      { key: 'conv2d', vars: late },
      { key: 'conv2d_1', vars: early },
      { key: 'dense', vars: fc },
    ],
    early,
    late,
  };
}

async function writeModel(options: { config: object | string; weights: { key: string; vars: FixtureWeight[] }[]; method?: 'stored' | 'deflate'; prefix?: string; zip64?: boolean }) {
  const dir = fileURLToPath(await dirs.make());
  const weights = await writeKeras3Weights(join(dir, 'weights.h5'), options.weights, options.prefix);
  const path = join(dir, 'model.keras');
  await writeKerasZip(path, { config: options.config, weights, method: options.method ?? 'stored', zip64: options.zip64 ?? false });
  return { path, url: pathToFileURL(path), dir };
}

/** Each member's compressed size, from the central directory (found through the end record, which has no comment here). */
function compressedSizes(archive: Buffer): Map<string, number> {
  const sizes = new Map<string, number>();
  const end = archive.length - 22;
  for (let at = archive.readUInt32LE(end + 16), i = 0; i < archive.readUInt16LE(end + 10); i++) {
    const nameLength = archive.readUInt16LE(at + 28);
    sizes.set(archive.toString('utf8', at + 46, at + 46 + nameLength), archive.readUInt32LE(at + 20));
    at += 46 + nameLength + archive.readUInt16LE(at + 30) + archive.readUInt16LE(at + 32);
  }
  return sizes;
}

describe('Keras 3 .keras', () => {
  it('numbers layers as saving_lib does and still takes the first convolution by topology', async () => {
    const model = functionalModel();
    const { url } = await writeModel(model);
    const { kernel, convolutions } = await readModel(url);
    expect(convolutions.map((c) => c.name)).toEqual(['conv_early', 'conv_late']);
    expect(kernel.format).toBe('keras');
    expect(kernel.layer).toBe('conv_early');
    expect(kernel.shape).toEqual([3, 3, 3, 4]);
    expect(kernel.strides).toEqual([2, 2]);
    expect(Array.from(kernel.data)).toEqual(Array.from(model.early[0]!.values));

    const late = await readKernel(url, { layer: 'conv_late' });
    expect(late.shape).toEqual([3, 3, 4, 6]);
    expect(Array.from(late.data)).toEqual(Array.from(model.late[0]!.values));
  });

  it('reads a Sequential model with a depthwise convolution, deflated, from tf.keras 2.13 layout', async () => {
    const depthwise = [randomWeight('dw/depthwise_kernel', [3, 3, 3, 2], 111), randomWeight('dw/bias', [6], 112)];
    const layers = [
      inputLayer('input_layer'),
      kerasLayer('DepthwiseConv2D', 'dw', null, { kernel_size: [3, 3], strides: [1, 1], depth_multiplier: 2 }),
      conv2dLayer('pw', null, [1, 1], 8),
    ].map(withoutInbound);
    const { url } = await writeModel({
      config: keras3Config(layers, [], 'Sequential'),
      weights: [
        { key: 'depthwise_conv2d', vars: depthwise },
        { key: 'conv2d', vars: convWeights('pw', [1, 1], 6, 8, 113) },
      ],
      method: 'deflate',
      prefix: '_layer_checkpoint_dependencies',
    });
    const k = await readKernel(url);
    expect(k.layer).toBe('dw');
    expect(k.layerType).toBe('DepthwiseConv2D');
    expect(k.shape).toEqual([3, 3, 1, 6]);
    expect(Array.from(k.data)).toEqual(Array.from(depthwise[0]!.values));
  });

  it('reads an archive with ZIP64 end records and member offsets', async () => {
    const model = functionalModel();
    const k = await readKernel((await writeModel({ ...model, zip64: true })).url);
    expect(Array.from(k.data)).toEqual(Array.from(model.early[0]!.values));
  });

  it("spells class names as Keras' to_snake_case", () => {
    expect(toSnakeCase('Conv2D')).toBe('conv2d');
    expect(toSnakeCase('DepthwiseConv2D')).toBe('depthwise_conv2d');
    expect(toSnakeCase('SeparableConv2D')).toBe('separable_conv2d');
    expect(toSnakeCase('BatchNormalization')).toBe('batch_normalization');
  });

  it('goes by content, not extension: a .keras renamed .h5 or .pt is still read as .keras', async () => {
    const model = functionalModel();
    const { path, dir } = await writeModel(model);
    for (const name of ['renamed.h5', 'renamed.pt']) {
      await copyFile(path, join(dir, name));
      const k = await readKernel(pathToFileURL(join(dir, name)));
      expect(k.format).toBe('keras');
      expect(Array.from(k.data)).toEqual(Array.from(model.early[0]!.values));
    }
  });

  it('reads model.weights.h5 in place, through ranges of the archive: not the 4 MiB dense kernel beside the convolution', async () => {
    const conv = convWeights('conv1', [3, 3], 3, 4, 104);
    const layers = [k3(inputLayer('input_layer'), null), k3(conv2dLayer('conv1', 'input_layer', [3, 3], 4), 'input_layer'), k3(kerasLayer('Flatten', 'flat', 'conv1'), 'conv1'), k3(denseLayer('fc', 'flat', 1024), 'flat')];
    const { url, path, dir } = await writeModel({ config: keras3Config(layers, ['input_layer']), weights: [{ key: 'conv2d', vars: conv }, { key: 'dense', vars: denseWeights('fc', 1024, 1024, 105) }] });
    const { kernel, filesRead } = await readModel(url);
    expect(Array.from(kernel.data)).toEqual(Array.from(conv[0]!.values));
    expect(filesRead).toEqual(['model.keras']);
    const weights = (await readFile(join(dir, 'weights.h5'))).length;
    expect(weights).toBeGreaterThan(4 * 1024 * 1024);
    // Detection, the zip's end and directory, config.json, the weights member's local header; then
    // HDF5's metadata (in 2 KiB blocks) and the kernel: a few dozen KiB of the 4 MiB archive.
    expect(kernel.bytesRead).toBeGreaterThan(HEAD_BYTES + 3 * 3 * 3 * 4 * 4);
    expect(kernel.bytesRead).toBeLessThan(64 * 1024);
    expect((await stat(path)).size).toBeGreaterThan(weights);
  });

  it('counts the bytes read from the archive: a deflated model.weights.h5 is inflated once, in memory, from its compressed bytes', async () => {
    const model = functionalModel();
    const { url, path } = await writeModel({ ...model, method: 'deflate' });
    const k = await readKernel(url);
    expect(Array.from(k.data)).toEqual(Array.from(model.early[0]!.values));
    const names = ['metadata.json', 'config.json', 'model.weights.h5'];
    const directory = names.reduce((sum, name) => sum + 46 + name.length, 0);
    const sizes = compressedSizes(await readFile(path));
    const compressed = (name: string) => sizes.get(name)!;
    // Format detection, the end record (no comment), the 20 bytes before it (where a ZIP64
    // locator would be), the directory, then each member's local header, name and compressed data.
    const expected = HEAD_BYTES + 22 + 20 + directory + (30 + 11 + compressed('config.json')) + (30 + 16 + compressed('model.weights.h5'));
    expect(k.bytesRead).toBe(expected);
  });
});

describe('Keras 3 .keras: bad input', () => {
  const config = () => functionalModel().config;
  const weights = async () => writeKeras3Weights(join(fileURLToPath(await dirs.make()), 'weights.h5'), functionalModel().weights);

  async function zipModel(members: ZipMember[], name = 'model.keras') {
    const dir = fileURLToPath(await dirs.make());
    const path = join(dir, name);
    await writeFile(path, zipBytes(members));
    return path;
  }
  const usual = async (): Promise<ZipMember[]> => [
    { name: 'metadata.json', data: Buffer.from('{}') },
    { name: 'config.json', data: Buffer.from(JSON.stringify(config())) },
    { name: 'model.weights.h5', data: await weights() },
  ];

  it('refuses names that leave the folder, backslashes, absolute paths and duplicates', async () => {
    const cases: [string, ZipMember[], string][] = [
      ['dot-dot', [{ name: 'assets/../../evil.txt', data: Buffer.from('x') }], '".." would leave'],
      ['backslash', [{ name: 'assets\\evil.txt', data: Buffer.from('x') }], 'with a backslash'],
      ['absolute', [{ name: '/etc/evil.txt', data: Buffer.from('x') }], 'absolute path "/etc/evil.txt"'],
      ['duplicate', [{ name: 'config.json', data: Buffer.from('{}') }], 'two members named "config.json"'],
    ];
    for (const [label, extra, reason] of cases) {
      const path = await zipModel([...(await usual()), ...extra], `${label}.keras`);
      const error = await conv1Error(readKernel(pathToFileURL(path)));
      expect(error.file, label).toBe(path);
      expect(error.reason, label).toContain(reason);
    }
  });

  it('refuses a bomb-like member, a CRC mismatch, impossible sizes and a local header that disagrees with the directory', async () => {
    const bomb = await zipModel([...(await usual()), { name: 'assets/vocab.txt', data: Buffer.alloc(1000), method: 'deflate', declaredSize: 1_500_000_000 }]);
    expect((await conv1Error(readKernel(pathToFileURL(bomb)))).reason).toMatch(/"assets\/vocab\.txt" expands from \d+ to 1500000000 bytes \(more than 100×\)/);

    const members = await usual();
    const crc = await zipModel(members.map((m) => (m.name === 'config.json' ? { ...m, crc: 12345 } : m)));
    expect((await conv1Error(readKernel(pathToFileURL(crc)))).reason).toContain('"config.json" with a CRC-32 that does not match');

    const swapped = await zipModel(members.map((m) => (m.name === 'config.json' ? { ...m, localName: 'config.jsoo' } : m)));
    expect((await conv1Error(readKernel(pathToFileURL(swapped)))).reason).toContain('names a member "config.json" in its directory but "config.jsoo" in its local header');

    const lying = await zipModel(members.map((m) => (m.name === 'config.json' ? { ...m, method: 'deflate' as const, declaredSize: m.data.length - 1 } : m)));
    expect((await conv1Error(readKernel(pathToFileURL(lying)))).reason).toContain('does not inflate to its declared');

    const storedLying = await zipModel(members.map((m) => (m.name === 'config.json' ? { ...m, declaredSize: m.data.length + 10 } : m)));
    expect((await conv1Error(readKernel(pathToFileURL(storedLying)))).reason).toMatch(/declares \d+ stored bytes for the \d+ bytes of "config.json", which its method cannot produce/);
  });

  it('refuses a truncated archive, a zip without config.json, a broken config and pickled .npz weights', async () => {
    const members = await usual();
    const whole = zipBytes(members);
    const dir = fileURLToPath(await dirs.make());
    const cut = join(dir, 'cut.keras');
    await writeFile(cut, whole.subarray(0, whole.length - 30));
    expect((await conv1Error(readKernel(pathToFileURL(cut)))).reason).toContain('no zip end-of-directory record');

    const noConfig = await zipModel(members.filter((m) => m.name !== 'config.json'));
    expect((await conv1Error(readKernel(pathToFileURL(noConfig)))).reason).toContain('without config.json');

    const badJson = await zipModel(members.map((m) => (m.name === 'config.json' ? { ...m, data: Buffer.from('{"class_name": "Functional", ') } : m)));
    const json = await conv1Error(readKernel(pathToFileURL(badJson)));
    expect(json.reason).toContain('config.json that is not valid JSON');
    expect(json.hint).toContain('model.save("model.keras")');

    const npz = await zipModel([...members.filter((m) => m.name !== 'model.weights.h5'), { name: 'model.weights.npz', data: Buffer.from('PK\u0003\u0004') }]);
    const pickled = await conv1Error(readKernel(pathToFileURL(npz)));
    expect(pickled.reason).toContain('model.weights.npz, a NumPy archive that Keras loads with pickling allowed');
  });

  it('names model.weights.h5 when it is damaged or lacks a layer', async () => {
    const members = await usual();
    const garbage = await zipModel(members.map((m) => (m.name === 'model.weights.h5' ? { ...m, data: Buffer.concat([m.data.subarray(0, 8), Buffer.alloc(2000, 7)]) } : m)));
    const damaged = await conv1Error(readKernel(pathToFileURL(garbage)));
    expect(damaged.file).toBe(`${garbage} (model.weights.h5)`);

    const model = functionalModel();
    const missing = await writeModel({ ...model, weights: model.weights.filter((w) => w.key !== 'conv2d_1') });
    expect((await conv1Error(readKernel(missing.url))).reason).toContain('has no dataset "layers/conv2d_1/vars/0"');
  });

  it('explains a nested model instead of reporting no convolution', async () => {
    const backbone = { name: 'backbone', layers: [inputLayer('in'), conv2dLayer('conv', 'in', [3, 3], 4)], input_layers: [['in', 0, 0]], output_layers: [['conv', 0, 0]] };
    const inner = { module: 'keras', class_name: 'Functional', config: backbone, name: 'backbone', inbound_nodes: keras3Inbound('input_layer') };
    const { url } = await writeModel({ config: keras3Config([k3(inputLayer('input_layer'), null), inner], ['input_layer']), weights: [] });
    expect((await conv1Error(readKernel(url))).reason).toContain('nested model "backbone" (Functional)');
  });
});

describe('one kernel, three formats', () => {
  it('draws the identical 63×63 grid from TensorFlow.js, .h5 and .keras', async () => {
    const weights = convWeights('conv1', [7, 7], 3, 64, 121);
    const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [7, 7], 64, [2, 2])];
    const dir = await dirs.make();
    const tfjs = await writeTfjsModel(new URL('tfjs/', dir), { layers, inputLayers: ['input_1'], weights, shardBytes: 4096 });
    const h5 = join(fileURLToPath(dir), 'model.h5');
    await writeKerasH5(h5, { layers, inputLayers: ['input_1'], weights });
    const keras = join(fileURLToPath(dir), 'model.keras');
    const k3Layers = [k3(inputLayer('input_1'), null), k3(conv2dLayer('conv1', 'input_1', [7, 7], 64, [2, 2]), 'input_1')];
    await writeKerasZip(keras, { config: keras3Config(k3Layers, ['input_1']), weights: await writeKeras3Weights(join(fileURLToPath(dir), 'w.h5'), [{ key: 'conv2d', vars: weights }]) });

    const kernels = await Promise.all([tfjs, pathToFileURL(h5), pathToFileURL(keras)].map((url) => readKernel(url, { channels: 'rgb' })));
    expect(kernels.map((k) => k.format)).toEqual(['tfjs-layers', 'keras-h5', 'keras']);
    const pngs = await Promise.all(kernels.map((k) => encodePng(renderGrid(k))));
    const grid = renderGrid(kernels[0]!);
    expect([grid.width, grid.height]).toEqual([63, 63]);
    expect(Buffer.compare(pngs[0]!, pngs[1]!)).toBe(0);
    expect(Buffer.compare(pngs[0]!, pngs[2]!)).toBe(0);
    expect(Array.from(kernels[1]!.data)).toEqual(Array.from(weights[0]!.values));
  });
});
