import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readKernel, readModel } from '../../src/lib/index.ts';
import {
  constNode,
  convNode,
  opNode,
  placeholderNode,
  planWeights,
  randomWeight,
  shardName,
  shardsTouched,
  TempDirs,
  writeTfjsGraphModel,
  type FixtureWeight,
  type GraphConvOp,
  type GraphModelJson,
  type GraphNodeJson,
  type ManifestEntry,
  type Quantization,
} from '../helpers/tfjs-fixture.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

function weightNamed(weights: FixtureWeight[], name: string): FixtureWeight {
  const found = weights.find((w) => w.name === name);
  if (!found) throw new Error(`test bug: no weight ${name}`);
  return found;
}

async function fileSize(url: URL): Promise<number> {
  return (await stat(url)).size;
}

/** input -> conv (op, filter "w", bias "b" for fused ops) -> Relu, with `before` and `after` weights around w in the manifest. */
function inputThenConv(op: GraphConvOp, filter: FixtureWeight, options: { before?: FixtureWeight[]; after?: FixtureWeight[]; strides?: [number, number] } = {}) {
  const cout = filter.shape[3]!;
  const fused = op.startsWith('_Fused') || op.startsWith('Fused');
  const nodes: GraphNodeJson[] = [
    placeholderNode('input'),
    constNode(filter.name, filter.shape),
    ...(fused ? [constNode('b', [cout])] : []),
    convNode(op, 'conv', 'input', filter.name, { ...(fused ? { extraInputs: ['b'] } : {}), ...(options.strides ? { strides: options.strides } : {}) }),
    opNode('Relu', 'relu', ['conv']),
    ...(options.before ?? []).concat(options.after ?? []).map((w) => constNode(w.name, w.shape)),
  ];
  const weights = [...(options.before ?? []), filter, ...(fused ? [randomWeight('b', [cout], 98)] : []), ...(options.after ?? [])];
  return { nodes, weights };
}

describe('the first convolution', () => {
  it('Placeholder -> Conv2D: the filter, HWIO, with its strides and the bytes it needed', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 8], 1);
    const url = await writeTfjsGraphModel(dir, { ...inputThenConv('Conv2D', filter, { strides: [2, 2] }), shardBytes: 4096 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel).toMatchObject({ format: 'tfjs-graph', layer: 'conv', layerType: 'Conv2D', shape: [3, 3, 3, 8], strides: [2, 2] });
    expect(kernel.data).toBeInstanceOf(Float32Array);
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
    expect(convolutions).toEqual([{ name: 'conv', layerType: 'Conv2D', shape: [3, 3, 3, 8], strides: [2, 2], weight: 'w' }]);
    expect(kernel.bytesRead).toBe((await fileSize(url)) + 3 * 3 * 3 * 8 * 4);
  });

  it('_FusedConv2D: the filter is input 1, not the bias that follows it', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [5, 5, 3, 4], 2);
    const url = await writeTfjsGraphModel(dir, { ...inputThenConv('_FusedConv2D', filter), shardBytes: 4096 });
    const kernel = await readKernel(url);
    expect(kernel).toMatchObject({ layer: 'conv', layerType: '_FusedConv2D', shape: [5, 5, 3, 4], strides: [1, 1] });
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
  });

  it('follows the graph, not node or manifest order: a deeper conv listed first does not win', async () => {
    const dir = await dirs.make();
    const weights = [randomWeight('deep/w', [3, 3, 6, 4], 3), randomWeight('stem/w', [7, 7, 3, 6], 4)];
    const nodes = [
      convNode('Conv2D', 'deep', 'pool', 'deep/w'),
      constNode('deep/w', [3, 3, 6, 4]),
      opNode('MaxPool', 'pool', ['stem']),
      convNode('Conv2D', 'stem', 'sub', 'stem/w', { strides: [2, 2] }),
      constNode('stem/w', [7, 7, 3, 6]),
      opNode('Sub', 'sub', ['input', 'mean']),
      constNode('mean', [3]),
      placeholderNode('input'),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights: [...weights, randomWeight('mean', [3], 5)], shardBytes: 512 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('stem');
    expect(kernel.strides).toEqual([2, 2]);
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'stem/w').values));
    expect(convolutions.map((c) => c.name)).toEqual(['stem', 'deep']);
  });

  // As in Robust Video Matting: the image is concatenated into the output block a few ops from
  // the input, while the stem lies behind more ops; the output conv also has convs upstream.
  it('a skip connection bringing the input nearer a late conv does not make it the first', async () => {
    const dir = await dirs.make();
    const nodes = [
      placeholderNode('src'),
      opNode('Mul', 'scaled', ['src', 'scale']),
      opNode('Sub', 'normalised', ['scaled', 'mean']),
      opNode('Pad', 'padded', ['normalised', 'paddings']),
      convNode('_FusedConv2D', 'stem', 'padded', 'stem/w', { strides: [2, 2], extraInputs: ['stem/b'] }),
      convNode('Conv2D', 'body', 'stem', 'body/w'),
      opNode('ConcatV2', 'concat', ['src', 'body', 'axis']),
      convNode('Conv2D', 'out', 'concat', 'out/w'),
      ...[
        ['scale', [1]],
        ['mean', [3]],
        ['paddings', [4, 2]],
        ['stem/w', [3, 3, 3, 4]],
        ['stem/b', [4]],
        ['body/w', [1, 1, 4, 4]],
        ['axis', [1]],
        ['out/w', [3, 3, 7, 2]],
      ].map(([name, shape]) => constNode(name as string, shape as number[])),
    ];
    const weights = [
      randomWeight('out/w', [3, 3, 7, 2], 6),
      randomWeight('body/w', [1, 1, 4, 4], 7),
      randomWeight('stem/w', [3, 3, 3, 4], 8),
      randomWeight('stem/b', [4], 9),
      randomWeight('scale', [1], 10),
      randomWeight('mean', [3], 11),
      randomWeight('paddings', [8], 12),
      randomWeight('axis', [1], 13),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights, shardBytes: 256 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('stem');
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'stem/w').values));
    expect(convolutions.map((c) => c.name)).toEqual(['stem', 'out', 'body']);
  });

  it('of two convs the input reaches directly, takes the one more convs lie behind', async () => {
    const dir = await dirs.make();
    const nodes = [
      placeholderNode('input'),
      convNode('DepthwiseConv2dNative', 'box', 'input', 'box/w'),
      opNode('Sub', 'sub', ['input', 'mean']),
      convNode('Conv2D', 'stem', 'sub', 'stem/w'),
      convNode('Conv2D', 'next', 'stem', 'next/w'),
      opNode('AddV2', 'add', ['box', 'next']),
      ...[
        ['box/w', [3, 3, 3, 1]],
        ['mean', [3]],
        ['stem/w', [3, 3, 3, 3]],
        ['next/w', [1, 1, 3, 3]],
      ].map(([name, shape]) => constNode(name as string, shape as number[])),
    ];
    const weights = [randomWeight('box/w', [3, 3, 3, 1], 14), randomWeight('mean', [3], 15), randomWeight('stem/w', [3, 3, 3, 3], 16), randomWeight('next/w', [1, 1, 3, 3], 17)];
    const url = await writeTfjsGraphModel(dir, { nodes, weights, shardBytes: 1024 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('stem');
    expect(convolutions.map((c) => c.name)).toEqual(['stem', 'box', 'next']);
  });

  it('traces the filter through Identity, and Identity -> Switch as tf.cond leaves it', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 2], 18);
    const nodes = [
      placeholderNode('input'),
      placeholderNode('flag', []),
      constNode('w', [3, 3, 3, 2]),
      opNode('Identity', 'w/read', ['w']),
      opNode('Switch', 'cond/switch', ['w/read', 'flag']),
      opNode('Identity', 'cond/w', ['cond/switch:1']),
      convNode('Conv2D', 'conv', 'input', 'cond/w'),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights: [filter], shardBytes: 1024 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv');
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
    expect(convolutions[0]).toMatchObject({ weight: 'w' });
  });

  it('strips ^control inputs and :k output suffixes; a control edge from the input does not reach a conv', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 2], 19);
    const nodes = [
      placeholderNode('input'),
      constNode('w', [3, 3, 3, 2]),
      constNode('other', [1, 8, 8, 3]),
      opNode('NoOp', 'init', []),
      opNode('Identity', 'w/read', ['w:0', '^init']),
      // Runs after the input arrives but computes on a constant: not fed by the input.
      convNode('Conv2D', 'unrelated', 'other:0', 'w/read:0', { extraInputs: ['^input'] }),
      opNode('Relu', 'relu', ['input:0', '^init']),
      convNode('Conv2D', 'conv', 'relu:0', 'w/read:0', { extraInputs: ['^init', '^unrelated'] }),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights: [filter, randomWeight('other', [1, 8, 8, 3], 20)], shardBytes: 1024 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv');
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
    expect(convolutions.map((c) => c.name)).toEqual(['conv']);
  });

  it('a graph model without format: "graph-model" is still recognised by its nodes', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [1, 1, 3, 1], 21);
    const url = await writeTfjsGraphModel(dir, {
      ...inputThenConv('Conv2D', filter),
      shardBytes: 1024,
      editModelJson: (json) => {
        delete (json as Partial<GraphModelJson>).format;
      },
    });
    expect(await readKernel(url)).toMatchObject({ format: 'tfjs-graph', layer: 'conv' });
  });

  it('a model.json that starts with more whitespace than detection first looks at is still recognised', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 2], 24);
    const url = await writeTfjsGraphModel(dir, { ...inputThenConv('Conv2D', filter), shardBytes: 1024 });
    const padding = '\n    '.repeat(1000);
    await writeFile(url, padding + (await readFile(url, 'utf8')));
    const kernel = await readKernel(url);
    expect(kernel).toMatchObject({ format: 'tfjs-graph', layer: 'conv' });
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
    // Detection reads on through the whitespace in growing pieces (4 KiB, then as much as it has read), not the whole file.
    expect(kernel.bytesRead).toBeLessThanOrEqual((await fileSize(url)) + 2 * (padding.length + 4096) + 3 * 3 * 3 * 2 * 4);
  });

  it('the layer option picks a later conv by node name, and lists the convs for an unknown one', async () => {
    const dir = await dirs.make();
    const weights = [randomWeight('stem/w', [3, 3, 3, 4], 22), randomWeight('next/w', [1, 1, 4, 2], 23)];
    const nodes = [
      placeholderNode('input'),
      constNode('stem/w', [3, 3, 3, 4]),
      constNode('next/w', [1, 1, 4, 2]),
      convNode('Conv2D', 'stem', 'input', 'stem/w'),
      convNode('Conv2D', 'next', 'stem', 'next/w', { strides: [1, 2] }),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights, shardBytes: 1024 });
    const kernel = await readKernel(url, { layer: 'next' });
    expect(kernel).toMatchObject({ layer: 'next', shape: [1, 1, 4, 2], strides: [1, 2] });
    expect(Array.from(kernel.data)).toEqual(Array.from(weightNamed(weights, 'next/w').values));
    const error = await conv1Error(readKernel(url, { layer: 'input' }));
    expect(error.reason).toMatch(/"input".*not a convolution/);
    expect(error.hint).toContain('stem, next');
  });
});

describe('depthwise first', () => {
  // A depthwise filter [kh, kw, cin, m] is already HWIO with one input channel and cin·m filters.
  it.each(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative'] as const)('%s [3,3,3,2] reads as [3,3,1,6], memory unchanged', async (op) => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 2], 24);
    const url = await writeTfjsGraphModel(dir, { ...inputThenConv(op, filter, { strides: [2, 2] }), shardBytes: 1024 });
    const kernel = await readKernel(url);
    expect(kernel).toMatchObject({ layerType: op, shape: [3, 3, 1, 6], strides: [2, 2] });
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
  });
});

describe('strides', () => {
  it.each([
    { label: 'NHWC', dataFormat: 'NHWC' as const, strides: [2, 3] as [number, number] },
    { label: 'NCHW', dataFormat: 'NCHW' as const, strides: [3, 1] as [number, number] },
  ])('reads height and width strides in $label', async ({ dataFormat, strides }) => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 1], 25);
    const nodes = [placeholderNode('input'), constNode('w', filter.shape), convNode('Conv2D', 'conv', 'input', 'w', { dataFormat, strides })];
    const url = await writeTfjsGraphModel(dir, { nodes, weights: [filter], shardBytes: 1024 });
    expect((await readKernel(url)).strides).toEqual(strides);
  });

  it('without data_format, NHWC', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 1], 26);
    const conv = convNode('Conv2D', 'conv', 'input', 'w', { strides: [4, 2] });
    delete conv.attr!.data_format;
    const url = await writeTfjsGraphModel(dir, { nodes: [placeholderNode('input'), constNode('w', filter.shape), conv], weights: [filter], shardBytes: 1024 });
    expect((await readKernel(url)).strides).toEqual([4, 2]);
  });
});

describe('quantised filters', () => {
  let tf: typeof import('@tensorflow/tfjs-core');
  beforeAll(async () => {
    tf = await import('@tensorflow/tfjs-core');
    tf.env().set('IS_TEST', true);
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  });

  // tfjs itself is the reference: io.decodeWeights over the whole stream. A uint8 weight of 13
  // bytes ahead of the filter puts it at an odd offset, and shards of 256 bytes cut it several times.
  it.each(['float16', 'uint8', 'uint16'] as const)('%s: equals tfjs decoding bit for bit', async (quantization: Quantization) => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [5, 5, 3, 8], 27, quantization);
    const before = [randomWeight('pad', [13], 28, 'uint8')];
    const url = await writeTfjsGraphModel(dir, { ...inputThenConv('_FusedConv2D', filter, { before }), shardBytes: 256 });
    const json = JSON.parse(await readFile(url, 'utf8')) as GraphModelJson;
    const group = json.weightsManifest[0]!;
    expect(group.paths.length).toBeGreaterThan(1);
    const stream = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(new URL(p, dir)))));
    const decoded = tf.io.decodeWeights(stream.buffer.slice(stream.byteOffset, stream.byteOffset + stream.byteLength), group.weights as Parameters<typeof tf.io.decodeWeights>[1]);
    const reference = decoded['w']!.dataSync();
    const entry = group.weights.find((w: ManifestEntry) => w.name === 'w')!;
    expect(entry.quantization?.dtype).toBe(quantization);

    const kernel = await readKernel(url);
    expect(Array.from(kernel.data)).toEqual(Array.from(reference));
    const bytesPerValue = quantization === 'uint8' ? 1 : 2;
    expect(kernel.bytesRead).toBe((await fileSize(url)) + 5 * 5 * 3 * 8 * bytesPerValue);
  });
});

describe('shards', () => {
  it('reads only the shard the filter lies in: others may be missing or garbage', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [2, 2, 3, 4], 29);
    // 320 floats before the filter (bytes 0..1280), 192 bytes of filter, 192 floats after: 9 shards of 256.
    const model = inputThenConv('Conv2D', filter, { before: [randomWeight('fc/w', [64 * 5], 30)], after: [randomWeight('fc/b', [64 * 3], 31)] });
    const url = await writeTfjsGraphModel(dir, { ...model, shardBytes: 256 });
    const plan = planWeights(model.weights);
    expect(plan.weights.find((w) => w.name === 'w')!.offset).toBe(1280);
    expect(shardsTouched(1280, 192, 256, plan.totalBytes)).toEqual([shardName(5, 9)]);
    for (const i of [1, 2, 3, 4, 6, 7, 8]) await rm(new URL(shardName(i, 9), dir));
    await writeFile(new URL(shardName(0, 9), dir), new Uint8Array(256).fill(0xff));
    const kernel = await readKernel(url);
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
    expect(kernel.bytesRead).toBe((await fileSize(url)) + 192);
  });

  it('a filter spanning two shards reads both, exactly', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 4], 32);
    const model = inputThenConv('Conv2D', filter, { before: [randomWeight('fc/w', [231], 33)] });
    const url = await writeTfjsGraphModel(dir, { ...model, shardBytes: 1024 });
    expect(shardsTouched(924, 432, 1024, planWeights(model.weights).totalBytes)).toEqual([shardName(0, 2), shardName(1, 2)]);
    const kernel = await readKernel(url);
    expect(Array.from(kernel.data)).toEqual(Array.from(filter.values));
  });
});

describe('bad graph models', () => {
  async function brokenModel(edit: (json: GraphModelJson) => void, filterShape: number[] = [3, 3, 3, 2]) {
    const dir = await dirs.make();
    const url = await writeTfjsGraphModel(dir, { ...inputThenConv('Conv2D', randomWeight('w', filterShape, 34)), shardBytes: 1024, editModelJson: edit });
    return { dir, url, label: fileURLToPath(url) };
  }
  const nodeNamed = (json: GraphModelJson, name: string) => json.modelTopology.node.find((n) => n.name === name)!;

  it('the filter Const has no values in the manifest', async () => {
    const { url, label } = await brokenModel((json) => {
      json.weightsManifest[0]!.weights[0]!.name = 'renamed';
    });
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(label);
    expect(error.reason).toBe('gives the convolution "conv" the filter "w", a constant with no values in the weightsManifest');
    expect(error.hint).toMatch(/export the model again/);
  });

  it('the filter is not rank 4', async () => {
    const { url, label } = await brokenModel(() => {}, [9, 3, 2]);
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(label);
    expect(error.reason).toContain('gives the filter "w" of convolution "conv" the shape [9,3,2], not a rank-4 convolution kernel');
    expect(error.hint).toContain('choose another layer');
  });

  it('no convolution is reachable from the Placeholder', async () => {
    const { url, label } = await brokenModel((json) => {
      nodeNamed(json, 'conv').input = ['b_input', 'w'];
      json.modelTopology.node.push({ name: 'b_input', op: 'Const', attr: {} });
    });
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(label);
    expect(error.reason).toBe('has no convolution layer reachable from its input');
  });

  it('a graph without Placeholder has no convolution reachable', async () => {
    const { url } = await brokenModel((json) => {
      nodeNamed(json, 'input').op = 'Const';
    });
    expect((await conv1Error(readKernel(url))).reason).toBe('has no convolution layer reachable from its input');
  });

  it('the first conv takes its filter from a computing op: refused, naming the op', async () => {
    const dir = await dirs.make();
    const nodes = [
      placeholderNode('input'),
      constNode('w', [3, 3, 3, 4]),
      constNode('axis', []),
      opNode('Split', 'split', ['axis', 'w'], { num_split: { i: '2' } }),
      convNode('Conv2D', 'conv', 'input', 'split:1'),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights: [randomWeight('w', [3, 3, 3, 4], 35), randomWeight('axis', [], 36)], shardBytes: 1024 });
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(fileURLToPath(url));
    expect(error.reason).toBe('has a first convolution "conv" whose filter comes from the Split node "split" instead of stored weights');
    expect(error.hint).toContain('Identity');
    expect(error.hint).toContain('tensorflowjs_converter');
  });

  it('a later conv with a computed filter is left out; the first still reads', async () => {
    const dir = await dirs.make();
    const filter = randomWeight('w', [3, 3, 3, 4], 37);
    const nodes = [
      placeholderNode('input'),
      constNode('w', [3, 3, 3, 4]),
      constNode('w2', [1, 1, 4, 4]),
      convNode('Conv2D', 'conv', 'input', 'w'),
      opNode('Mul', 'w2/standardised', ['w2', 'w2']),
      convNode('Conv2D', 'conv2', 'conv', 'w2/standardised'),
    ];
    const url = await writeTfjsGraphModel(dir, { nodes, weights: [filter, randomWeight('w2', [1, 1, 4, 4], 38)], shardBytes: 1024 });
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv');
    expect(convolutions.map((c) => c.name)).toEqual(['conv']);
  });

  it('an input naming a node that does not exist', async () => {
    const { url, label } = await brokenModel((json) => {
      nodeNamed(json, 'conv').input = ['input', 'ghost:0'];
    });
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(label);
    expect(error.reason).toBe('has a node "conv" that takes its input from "ghost", which is not a node of the graph');
  });

  it.each([
    { label: 'three strides', strides: { list: { i: ['1', '2', '2'] } } },
    { label: 'a zero stride', strides: { list: { i: ['1', '0', '2', '1'] } } },
    { label: 'no strides', strides: undefined },
  ])('malformed strides ($label)', async ({ strides }) => {
    const { url } = await brokenModel((json) => {
      const attr = nodeNamed(json, 'conv').attr!;
      if (strides) attr.strides = strides;
      else delete attr.strides;
    });
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toMatch(/^gives the convolution "conv" the strides .*, not four positive integers$/);
  });

  it('an unknown data_format', async () => {
    const { url } = await brokenModel((json) => {
      nodeNamed(json, 'conv').attr!.data_format = { s: Buffer.from('HWCN').toString('base64') };
    });
    expect((await conv1Error(readKernel(url))).reason).toContain('not NHWC or NCHW');
  });

  it('two nodes with one name', async () => {
    const { url } = await brokenModel((json) => {
      json.modelTopology.node.push(placeholderNode('conv'));
    });
    expect((await conv1Error(readKernel(url))).reason).toBe('names two nodes "conv"');
  });

  it('format graph-model without nodes', async () => {
    const { url } = await brokenModel((json) => {
      (json.modelTopology as { node?: unknown }).node = undefined;
    });
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toContain('without a list of nodes');
    expect(error.hint).toContain('tensorflowjs_converter');
  });

  it('a weight path leaving the folder is refused, as for layers models', async () => {
    const { url } = await brokenModel((json) => {
      json.weightsManifest[0]!.paths = ['../outside.bin'];
    });
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toContain('"../outside.bin"');
    expect(error.reason).toContain('not a plain relative path');
  });

  it('a truncated shard is named', async () => {
    const { dir, url } = await brokenModel(() => {});
    await writeFile(new URL(shardName(0, 1), dir), new Uint8Array(10));
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(fileURLToPath(new URL(shardName(0, 1), dir)));
    expect(error.reason).toContain('is 10 bytes');
  });
});
