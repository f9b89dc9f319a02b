import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { float16ToFloat32 } from '../../src/lib/formats/dtypes.ts';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { looksLikeOnnx, onnxReader } from '../../src/lib/formats/onnx.ts';
import { ProtobufError, ProtoReader, readPackedSigned, readVarint } from '../../src/lib/formats/protobuf.ts';
import { Conv1Error, encodePng, readKernel, readModel, renderGrid } from '../../src/lib/index.ts';
import { kernelIndex, oihwToHwio } from '../../src/lib/kernel.ts';
import { LocalModelFiles } from '../../src/lib/sources/model-files.ts';
import {
  BFLOAT16,
  bytesField,
  concat,
  DOUBLE,
  encodeValues,
  FLOAT16,
  graphProto,
  modelProto,
  stringField,
  tag,
  varint,
  varintField,
  writeOnnxModel,
  type GraphSpec,
  type NodeSpec,
  type TensorSpec,
} from '../helpers/onnx-fixture.ts';
import { bfloat16Bits, hwioToOihw, writeSafetensors } from '../helpers/safetensors-fixture.ts';
import { conv2dLayer, elementCount, float16Bits, inputLayer, randomValues, randomWeight, TempDirs, writeTfjsModel } from '../helpers/tfjs-fixture.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

const CONV1: [number, number, number, number] = [4, 3, 3, 3];
const CONV2: [number, number, number, number] = [8, 4, 3, 3];

function weight(name: string, dims: number[], seed: number, spec: Partial<TensorSpec> = {}): TensorSpec & { values: Float32Array } {
  return { name, dims, values: randomValues(elementCount(dims), seed), ...spec };
}

/**
 * input → conv1 (stride 2) → relu → conv2, with conv2's weight listed before conv1's among the
 * initializers. `conv1` replaces fields of conv1's weight; `node` of conv1's node.
 */
function net(conv1: Partial<TensorSpec> = {}, node: Partial<NodeSpec> = {}) {
  const w1 = weight('conv1.weight', CONV1, 1, conv1);
  const w2 = weight('conv2.weight', CONV2, 2);
  const graph: GraphSpec = {
    nodes: [
      { name: 'conv1', opType: 'Conv', inputs: ['input', 'conv1.weight', 'conv1.bias'], outputs: ['c1'], attributes: { strides: [2, 2], pads: [1, 1, 1, 1], group: 1, dilations: [1, 1], kernel_shape: [3, 3] }, ...node },
      { name: 'relu1', opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { name: 'conv2', opType: 'Conv', inputs: ['r1', 'conv2.weight'], outputs: ['c2'] },
    ],
    initializers: [w2, w1, weight('conv1.bias', [4], 3)],
  };
  return { graph, w1, w2 };
}

async function write(graph: GraphSpec, options: Parameters<typeof writeOnnxModel>[2] = {}) {
  const dir = await dirs.make();
  const written = await writeOnnxModel(dir, graph, options);
  return { dir, ...written, path: fileURLToPath(written.url) };
}

async function writeBytes(bytes: Uint8Array, name = 'model.onnx') {
  const dir = await dirs.make();
  const url = new URL(name, dir);
  await writeFile(url, bytes);
  return { dir, url, path: fileURLToPath(url) };
}

function expectOihw(data: Float32Array, oihw: Float32Array, shape: [number, number, number, number]) {
  expect(Array.from(data)).toEqual(Array.from(oihwToHwio(oihw, shape)));
}

describe('onnx: reading a kernel', () => {
  it('reads the first Conv as HWIO, value for value, with its strides', async () => {
    const { graph, w1 } = net();
    const { url } = await write(graph);
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.format).toBe('onnx');
    expect(kernel.layer).toBe('conv1');
    expect(kernel.layerType).toBe('Conv');
    expect(kernel.shape).toEqual([3, 3, 3, 4]);
    expect(kernel.strides).toEqual([2, 2]);
    expect(kernel.channelOrder).toBe('rgb');
    const at = (f: number, c: number, y: number, x: number) => w1.values[((f * 3 + c) * 3 + y) * 3 + x]!;
    for (const [y, x, c, f] of [[0, 0, 0, 0], [2, 1, 0, 3], [1, 2, 2, 1], [2, 2, 2, 3]] as const) expect(kernel.data[kernelIndex(kernel, y, x, c, f)]).toBe(at(f, c, y, x));
    expect(convolutions.map((c) => [c.name, c.shape, c.strides])).toEqual([
      ['conv1', [3, 3, 3, 4], [2, 2]],
      ['conv2', [3, 3, 4, 8], [1, 1]],
    ]);
  });

  it('reads FLOAT16 and BFLOAT16 kernels from raw_data and from int32_data', async () => {
    for (const dataType of [FLOAT16, BFLOAT16])
      for (const storage of ['raw', 'int32_data'] as const) {
        const { graph, w1 } = net({ dataType, storage });
        const { url } = await write(graph);
        const kernel = await readKernel(url);
        const decode = (v: number) =>
          dataType === FLOAT16 ? float16ToFloat32(float16Bits(v)) : new Float32Array(new Uint32Array([bfloat16Bits(v) << 16]).buffer)[0]!;
        expectOihw(kernel.data, Float32Array.from(w1.values, decode), CONV1);
      }
  });

  it('reads float_data, packed or one field per value', async () => {
    for (const storage of ['float_data', 'float_data_unpacked'] as const) {
      const { graph, w1 } = net({ storage });
      const { url } = await write(graph);
      expectOihw((await readKernel(url)).data, w1.values, CONV1);
    }
  });

  it('follows Identity nodes from the Conv to its initializer', async () => {
    const { graph, w1 } = net({}, { inputs: ['input', 'w_b', 'conv1.bias'] });
    graph.nodes.unshift({ name: 'id_a', opType: 'Identity', inputs: ['conv1.weight'], outputs: ['w_a'] }, { name: 'id_b', opType: 'Identity', inputs: ['w_a'], outputs: ['w_b'] });
    const { url } = await write(graph);
    expectOihw((await readKernel(url)).data, w1.values, CONV1);
  });

  it('draws a depthwise convolution (group = channels) as single-channel filters', async () => {
    const dw = weight('dw.weight', [6, 1, 3, 3], 5);
    const { url } = await write({ nodes: [{ name: 'dw', opType: 'Conv', inputs: ['input', 'dw.weight'], outputs: ['y'], attributes: { group: 6 } }], initializers: [dw] });
    const kernel = await readKernel(url);
    expect(kernel.shape).toEqual([3, 3, 1, 6]);
    expectOihw(kernel.data, dw.values, [6, 1, 3, 3]);
  });

  it('with external data, reads the .onnx file and the kernel bytes only', async () => {
    const big = encodeValues(randomValues(1 << 20, 9)); // 4 MiB before and after the kernel
    const w1 = weight('conv1.weight', CONV1, 1);
    const kernelBytes = encodeValues(w1.values);
    const { graph } = net({ external: [['location', 'weights.bin'], ['offset', String(big.length)], ['length', String(kernelBytes.length)]] });
    const { url, bytes } = await write(graph, { files: { 'weights.bin': concat(big, kernelBytes, big) } });
    const files = new LocalModelFiles(url);
    const opened = await onnxReader.open(files);
    const data = await opened.readKernel(opened.convolutions[0]!);
    expectOihw(data, w1.values, CONV1);
    expect(files.bytesRead).toBeLessThanOrEqual(bytes.length + kernelBytes.length);
    expect(files.filesRead).toEqual(['model.onnx', 'weights.bin']);
    const kernel = await readKernel(url);
    expect(kernel.bytesRead).toBeLessThanOrEqual(bytes.length + kernelBytes.length + 64);
  });

  it('with inline weights, skips the large initializers instead of reading them', async () => {
    const before = weight('a_big', [1 << 20], 7);
    const after = weight('z_big', [1 << 20], 8);
    const { graph, w1 } = net();
    graph.initializers = [before, w1, after, weight('conv2.weight', CONV2, 2)];
    const { url, bytes } = await write(graph);
    const kernel = await readKernel(url);
    expectOihw(kernel.data, w1.values, CONV1);
    expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
    // Structure in a few 64 KiB chunks, plus the kernel: far below the 8 MiB of the file.
    expect(kernel.bytesRead).toBeLessThan(4 * 64 * 1024 + 4 * elementCount(CONV1));
  });
});

describe('onnx: which convolution comes first', () => {
  it('walks from the graph input, breadth first, whatever the order of nodes and initializers', async () => {
    const a = weight('a.weight', [2, 3, 3, 3], 1);
    const b = weight('b.weight', [5, 3, 1, 1], 2);
    const orphan = weight('orphan.weight', [2, 3, 3, 3], 3);
    const graph: GraphSpec = {
      nodes: [
        // Listed first, but fed by an initializer only: no path from the input reaches it.
        { name: 'orphan_conv', opType: 'Conv', inputs: ['const_in', 'orphan.weight'], outputs: ['o'] },
        { name: 'pre', opType: 'Relu', inputs: ['input'], outputs: ['p'] },
        { name: 'deep_conv', opType: 'Conv', inputs: ['p', 'a.weight'], outputs: ['d'] },
        { name: 'near_conv', opType: 'Conv', inputs: ['input', 'b.weight'], outputs: ['n'] },
      ],
      initializers: [orphan, a, b, weight('const_in', [1, 3, 4, 4], 4)],
      // IR < 4 lists initializers among the inputs; the walk must not start from them.
      inputs: ['orphan.weight', 'const_in', 'a.weight', 'input', 'b.weight'],
    };
    const { url } = await write(graph);
    const { kernel, convolutions } = await readModel(url);
    expect(convolutions.map((c) => c.name)).toEqual(['near_conv', 'deep_conv']);
    expect(kernel.layer).toBe('near_conv');
    expectOihw(kernel.data, b.values, [5, 3, 1, 1]);
  });

  it('names an unnamed Conv after its output', async () => {
    const { graph } = net({}, { name: '' });
    const { url } = await write(graph);
    expect((await readKernel(url)).layer).toBe('c1');
  });

  it('the layer option selects a later Conv, and tells other nodes from unknown names', async () => {
    const { graph, w2 } = net();
    const { url } = await write(graph);
    const kernel = await readKernel(url, { layer: 'conv2' });
    expect(kernel.shape).toEqual([3, 3, 4, 8]);
    expectOihw(kernel.data, w2.values, CONV2);
    expect((await conv1Error(readKernel(url, { layer: 'relu1' }))).reason).toContain('not a convolution');
    const missing = await conv1Error(readKernel(url, { layer: 'conv9' }));
    expect(missing.reason).toContain('no layer named "conv9"');
    expect(missing.hint).toContain('conv1, conv2');
  });

  it('a graph whose input reaches no Conv has no convolution', async () => {
    const { url } = await write({ nodes: [{ name: 'r', opType: 'Relu', inputs: ['input'], outputs: ['y'] }], initializers: [] });
    expect((await conv1Error(readKernel(url))).reason).toContain('no convolution');
  });
});

describe('onnx: bad models are refused with a Conv1Error naming the file', () => {
  async function expectRefused(promise: Promise<unknown>, path: string, ...reasonParts: string[]): Promise<Conv1Error> {
    const error = await conv1Error(promise);
    expect(error.file).toBe(path);
    expect(error.message).toContain(path);
    for (const part of reasonParts) expect(error.reason).toContain(part);
    expect(error.hint.length).toBeGreaterThan(20);
    return error;
  }

  it('both raw_data and float_data set', async () => {
    const { graph } = net({ extra: bytesField(4, encodeValues(new Float32Array(108))) });
    const { url, path } = await write(graph);
    await expectRefused(readKernel(url), path, '"conv1.weight"', 'both raw_data and float_data', 'exactly one');
  });

  it('an element count that does not match the dims', async () => {
    const short = randomValues(100, 1);
    let { graph } = net({ values: short });
    let written = await write(graph);
    await expectRefused(readKernel(written.url), written.path, '400 bytes of raw_data', 'call for 108 FLOAT values');
    ({ graph } = net({ values: short, storage: 'float_data' }));
    written = await write(graph);
    await expectRefused(readKernel(written.url), written.path, '100 FLOAT values in the float_data', 'dims [4, 3, 3, 3] call for 108');
  });

  it('external data outside the folder: absolute, "..", a URL, or a symlink out', async () => {
    for (const location of ['/etc/passwd', '../secret.bin', 'sub/../../secret.bin', 'file:///etc/passwd']) {
      const { graph } = net({ external: [['location', location]] });
      const { url, path } = await write(graph);
      const error = await expectRefused(readKernel(url), path, `"${location}"`, 'not a plain relative path');
      expect(error.hint).toContain('..');
    }
    const dir = await dirs.make();
    await writeFile(new URL('secret.bin', dir), new Uint8Array(432));
    const modelDir = new URL('model/', dir);
    await mkdir(modelDir);
    await symlink(fileURLToPath(new URL('secret.bin', dir)), fileURLToPath(new URL('weights.bin', modelDir)));
    const { graph } = net({ external: [['location', 'weights.bin']] });
    const { url, path } = await writeOnnxModel(modelDir, graph).then((w) => ({ ...w, path: fileURLToPath(w.url) }));
    const error = await expectRefused(readKernel(url), path, '"weights.bin"', 'outside the model\'s folder');
    expect(error.hint).toContain('regular file');
  });

  it('external data that is too short, or whose length disagrees with the dims', async () => {
    let { graph } = net({ external: [['location', 'weights.bin'], ['offset', '8']] });
    let written = await write(graph, { files: { 'weights.bin': new Uint8Array(100) } });
    const error = await conv1Error(readKernel(written.url));
    expect(error.file).toBe(fileURLToPath(new URL('weights.bin', written.url)));
    expect(error.reason).toContain('has 100 bytes');
    expect(error.reason).toContain('bytes 8–440');
    expect(error.hint).toContain('truncated');
    ({ graph } = net({ external: [['location', 'weights.bin'], ['length', '400']] }));
    written = await write(graph, { files: { 'weights.bin': new Uint8Array(432) } });
    await expectRefused(readKernel(written.url), written.path, 'length of 400 bytes', 'call for 432');
    ({ graph } = net({ external: [['location', 'weights.bin'], ['offset', '-4']] }));
    written = await write(graph, { files: { 'weights.bin': new Uint8Array(432) } });
    await expectRefused(readKernel(written.url), written.path, 'offset "-4"');
  });

  it('external_data without data_location EXTERNAL, and the reverse', async () => {
    let { graph } = net({ external: [['location', 'weights.bin']], dataLocation: 0 });
    let written = await write(graph, { files: { 'weights.bin': new Uint8Array(432) } });
    await expectRefused(readKernel(written.url), written.path, 'does not set its data_location to EXTERNAL');
    ({ graph } = net({ dataLocation: 1 }));
    written = await write(graph);
    await expectRefused(readKernel(written.url), written.path, 'EXTERNAL without external_data');
  });

  it('a truncated file', async () => {
    const { graph } = net();
    const { url, path } = await write(graph, { edit: (bytes) => bytes.subarray(0, Math.floor(bytes.length * 0.6)) });
    const error = await expectRefused(readKernel(url), path, 'not a well-formed ONNX protobuf', 'truncated');
    expect(error.hint).toContain('download or export');
  });

  it('overlong varints and lengths', async () => {
    const { graph } = net();
    const good = graphProto(graph);
    // An 11-byte varint inside the graph (the 10th byte keeps within 64 bits but says "more follows").
    let written = await writeBytes(modelProto(concat(good, Uint8Array.of(0x10, ...new Array<number>(9).fill(0xff), 0x81, 0x01))));
    await expectRefused(readKernel(written.url), written.path, 'longer than 10 bytes', 'overlong');
    // A varint whose 10th byte sets bits above 63.
    written = await writeBytes(modelProto(concat(good, Uint8Array.of(0x10, ...new Array<number>(9).fill(0xff), 0x02))));
    await expectRefused(readKernel(written.url), written.path, 'does not fit in 64 bits');
    // A node that claims more bytes than its graph holds.
    written = await writeBytes(modelProto(concat(good, tag(1, 2), varint(1000), Uint8Array.of(1, 2, 3))));
    await expectRefused(readKernel(written.url), written.path, 'declares 1000 bytes', 'has only 3 left');
  });

  it('group wire types and a missing graph', async () => {
    let written = await writeBytes(concat(modelProto(graphProto(net().graph)), tag(9, 3 as 2)));
    await expectRefused(readKernel(written.url), written.path, 'deprecated group encoding');
    written = await writeBytes(concat(varintField(1, 8), stringField(2, 'nothing')));
    await expectRefused(readKernel(written.url), written.path, 'without a graph');
  });

  it('a kernel in an unsupported data type, a segmented kernel, two initializers with one name', async () => {
    let { graph } = net({ dataType: DOUBLE, values: new Float32Array(0), storage: 'none', extra: bytesField(10, new Uint8Array(864)) });
    let written = await write(graph);
    await expectRefused(readKernel(written.url), written.path, 'as DOUBLE', 'FLOAT, FLOAT16 and BFLOAT16');
    ({ graph } = net({ extra: bytesField(3, concat(varintField(1, 0), varintField(2, 4))) }));
    written = await write(graph);
    await expectRefused(readKernel(written.url), written.path, 'segments');
    ({ graph } = net());
    graph.initializers.push(weight('conv1.weight', CONV1, 9));
    written = await write(graph);
    await expectRefused(readKernel(written.url), written.path, 'two initializers named "conv1.weight"');
  });

  it('a first convolution whose weights cannot be drawn: quantised, computed, a graph input, 1-D', async () => {
    const cases: [GraphSpec, string][] = [
      [{ nodes: [{ name: 'q', opType: 'QLinearConv', inputs: ['input', 's', 'z', 'w', 'ws', 'wz', 'ys', 'yz'], outputs: ['y'] }], initializers: [] }, 'QLinearConv whose weights are quantised'],
      [
        {
          nodes: [
            { name: 'dq', opType: 'DequantizeLinear', inputs: ['w_q', 'w_s'], outputs: ['w'] },
            { name: 'c', opType: 'Conv', inputs: ['input', 'w'], outputs: ['y'] },
          ],
          initializers: [weight('w_s', [], 1)],
          inputs: ['input'],
        },
        'a DequantizeLinear node ("dq"), i.e. quantised weights',
      ],
      [{ nodes: [{ name: 'c', opType: 'Conv', inputs: ['input', 'w'], outputs: ['y'] }], initializers: [], inputs: ['input', 'w'] }, 'a graph input, so the file holds no values'],
      [{ nodes: [{ name: 'c', opType: 'Conv', inputs: ['input', 'w'], outputs: ['y'] }], initializers: [weight('w', [4, 3, 5], 1)] }, 'a 1-D convolution'],
    ];
    for (const [graph, part] of cases) {
      const { url, path } = await write(graph);
      await expectRefused(readKernel(url), path, part);
    }
  });

  it('a later convolution that cannot be drawn is left out, not fatal', async () => {
    const { graph } = net();
    graph.nodes.push({ name: 'conv3', opType: 'Conv', inputs: ['c2', 'computed'], outputs: ['c3'] }, { name: 'make', opType: 'Transpose', inputs: ['conv2.weight'], outputs: ['computed'] });
    const { url } = await write(graph);
    expect((await readModel(url)).convolutions.map((c) => c.name)).toEqual(['conv1', 'conv2']);
  });

  it('detection: no magic, so structure decides; the .onnx extension names what was expected', async () => {
    const { graph } = net();
    const model = modelProto(graphProto(graph));
    expect(looksLikeOnnx(model.subarray(0, HEAD_BYTES))).toBe(true);
    expect(looksLikeOnnx(model.subarray(0, 5))).toBe(true);
    // A TensorFlow SavedModel also starts with field 1 = 1, then a MetaGraphDef (binary) as field 2.
    expect(looksLikeOnnx(concat(varintField(1, 1), bytesField(2, concat(bytesField(1, stringField(1, 'serve')), new Uint8Array(60)))).subarray(0, 64))).toBe(false);
    expect(looksLikeOnnx(concat(varintField(1, 1000), stringField(2, 'x')))).toBe(false); // implausible ir_version
    expect(looksLikeOnnx(concat(varintField(1, 8), stringField(3, 'x'), stringField(2, 'y')))).toBe(false); // fields out of order
    expect(looksLikeOnnx(Uint8Array.of(0x7b, 0x22))).toBe(false);
    const { url, path } = await writeBytes(Uint8Array.from({ length: 200 }, (_, i) => (i * 37) % 256));
    const error = await expectRefused(readKernel(url), path, 'extension .onnx but its content is not onnx');
    expect(error.hint).toContain('onnx (.onnx)');
    // Bytes no detector accepts, given straight to the reader, are still a Conv1Error.
    const { url: u2, path: p2 } = await writeBytes(Uint8Array.of(0x08, ...new Array<number>(70).fill(0xff)));
    await expectRefused(onnxReader.open(new LocalModelFiles(u2)), p2, 'overlong');
  });
});

describe('protobuf decoder', () => {
  it('decodes varints up to 64 bits, and int64 negatives', () => {
    for (const value of [0n, 1n, 127n, 128n, 300n, 2n ** 35n, 2n ** 63n, 2n ** 64n - 1n]) expect(readVarint(varint(value), 0, 10, 0).value).toBe(value);
    expect(readPackedSigned(concat(varint(-1), varint(5), varint(-300)), 0)).toEqual([-1, 5, -300]);
  });

  it('refuses truncated varints and length-delimited fields that run past their message', () => {
    expect(() => readVarint(Uint8Array.of(0x80, 0x80), 0, 2, 100)).toThrow(ProtobufError);
    const reader = new ProtoReader(concat(tag(1, 2), varint(5), Uint8Array.of(1, 2)), 40);
    try {
      [...reader.fields()];
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProtobufError);
      expect((error as ProtobufError).offset).toBe(40);
    }
  });

  it('reads nested messages with absolute offsets', () => {
    const inner = concat(stringField(1, 'w'), varintField(2, 7));
    const outer = new ProtoReader(concat(varintField(3, 1), bytesField(5, inner)), 1000);
    const fields = [...outer.fields()];
    expect(fields.map((f) => f.field)).toEqual([3, 5]);
    const nested = outer.nested(fields[1]!);
    const innerFields = [...nested.fields()];
    expect(nested.string(innerFields[0]!)).toBe('w');
    expect(innerFields[1]!.value).toBe(7n);
    expect(innerFields[0]!.start).toBe(1000 + 2 + 2 + 2);
  });
});

describe('the same kernel in three formats', () => {
  it('tfjs, safetensors and ONNX give identical kernels and identical PNG grids', async () => {
    const dir = await dirs.make();
    const hwio = randomWeight('conv1/kernel', [5, 5, 3, 6], 42);
    const tfjsUrl = await writeTfjsModel(new URL('tfjs/', dir), {
      layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [5, 5], 6)],
      inputLayers: ['input_1'],
      weights: [hwio, randomWeight('conv1/bias', [6], 43)],
      shardBytes: 4096,
    });
    const oihw = hwioToOihw(hwio.values, [5, 5, 3, 6]);
    const safetensorsUrl = new URL('model.safetensors', dir);
    await writeSafetensors(safetensorsUrl, [{ name: 'conv1.weight', shape: [6, 3, 5, 5], values: oihw }]);
    await mkdir(new URL('onnx/', dir));
    const { url: onnxUrl } = await writeOnnxModel(new URL('onnx/', dir), {
      nodes: [{ name: 'conv1', opType: 'Conv', inputs: ['input', 'conv1.weight'], outputs: ['y'] }],
      initializers: [{ name: 'conv1.weight', dims: [6, 3, 5, 5], values: oihw }],
    });
    const kernels = await Promise.all([tfjsUrl, safetensorsUrl, onnxUrl].map((url) => readKernel(url, { channels: 'rgb' })));
    expect(kernels.map((k) => k.format)).toEqual(['tfjs-layers', 'safetensors', 'onnx']);
    for (const kernel of kernels) {
      expect(kernel.shape).toEqual([5, 5, 3, 6]);
      expect(Array.from(kernel.data)).toEqual(Array.from(hwio.values));
    }
    const pngs = await Promise.all(kernels.map((kernel) => encodePng(renderGrid(kernel))));
    expect(pngs[0]!.length).toBeGreaterThan(50);
    expect(Buffer.from(pngs[1]!).equals(Buffer.from(pngs[0]!))).toBe(true);
    expect(Buffer.from(pngs[2]!).equals(Buffer.from(pngs[0]!))).toBe(true);
  });
});
