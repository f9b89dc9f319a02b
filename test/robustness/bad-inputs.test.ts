/**
 * A corpus of hostile and broken inputs, one table across every format (formats.md, "Bad inputs a
 * careful reader refuses"), plus wrong options and a photo that is not an image. Each case is
 * generated here, read through the public entry point, and must be refused with a Conv1Error
 * that names the file, says what is wrong and how to fix it, quickly and without allocating what
 * the file claims (several claim about 5 GB).
 */
import { mkdir, mkdtemp, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AstroError } from 'astro/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAstroError } from '../../src/integrations/conv1/errors.ts';
import conv1 from '../../src/integrations/conv1/index.ts';
import { Conv1Error, readKernel, runPipeline } from '../../src/lib/index.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { EXTERNAL_FILE_FIXTURES, keras3Config, writeKeras3Weights, writeKerasH5, writeSourceDataset, zipBytes, type KerasH5Options, type ZipMember } from '../helpers/h5-fixture.ts';
import { bytesField, concat, encodeValues, graphProto, modelProto, tag, varint, writeOnnxModel, type GraphSpec, type TensorSpec } from '../helpers/onnx-fixture.ts';
import { runAstro } from '../helpers/run.ts';
import { encodeSafetensors, withHeaderLength, writeSafetensors, type SafetensorsTensor } from '../helpers/safetensors-fixture.ts';
import { writeSite, writeTinyPhoto } from '../helpers/small-site.ts';
import {
  constNode,
  conv2dLayer,
  convNode,
  convWeights,
  denseLayer,
  denseWeights,
  inputLayer,
  keras3Inbound,
  kerasLayer,
  opNode,
  placeholderNode,
  randomValues,
  randomWeight,
  TempDirs,
  withInbound,
  writeTfjsGraphModel,
  writeTfjsModel,
} from '../helpers/tfjs-fixture.ts';
import { float32Bytes, Pickle, stateDictPickle, torchArchive, type TorchArchiveOptions, type TorchTensor } from '../helpers/torch-fixture.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** Element counts whose float32 bytes come to about 5 GB, as shapes each reader accepts. */
const FIVE_GB_HWIO = [1024, 1024, 1280, 1];
const FIVE_GB_OIHW = [1280, 1, 1024, 1024];

type Format = 'tfjs-layers' | 'tfjs-graph' | 'safetensors' | 'onnx' | 'keras-h5' | 'keras' | 'pytorch' | 'any format' | 'options' | 'photo';

interface BadInput {
  name: string;
  format: Format;
  /** Writes the input into the empty folder `dir`; returns the URL of the model (or photo) file. */
  write(dir: URL): Promise<URL>;
  /** What is read; readKernel(url) unless given. */
  read?(url: URL, dir: URL): Promise<unknown>;
  /** The file the error must name, when it is not the one `write` returned. */
  names?(url: URL): string;
  /** A part of Conv1Error.reason. */
  expect: string | RegExp;
  /** A part the hint must contain, beyond being actionable. */
  hintHas?: string;
}

// ---------------------------------------------------------------------------------------------
// Writers of valid models, each with one place to break it

type Json = Record<string, any>;

/** input_1 → conv1 (3×3, 3 → 4) → flat → fc; manifest: conv1/kernel, conv1/bias, fc/kernel, fc/bias. */
function tfjsLayers(edit: (json: Json) => void = () => {}, shardBytes = 1 << 20) {
  return (dir: URL) =>
    writeTfjsModel(dir, {
      layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [3, 3], 4), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 2)],
      inputLayers: ['input_1'],
      weights: [...convWeights('conv1', [3, 3], 3, 4, 1), ...denseWeights('fc', 4, 2, 2)],
      shardBytes,
      editModelJson: edit,
    });
}
const layersOf = (json: Json): Json[] => json.modelTopology.model_config.config.layers;
const weightsOf = (json: Json): Json[] => json.weightsManifest[0].weights;

/** Placeholder → Conv2D whose filter is the Const "w" [3,3,3,4]. */
function tfjsGraph(edit: (json: Json) => void = () => {}, filterShape = [3, 3, 3, 4]) {
  return (dir: URL) =>
    writeTfjsGraphModel(dir, {
      nodes: [placeholderNode('input'), constNode('w', filterShape), convNode('Conv2D', 'conv', 'input', 'w')],
      weights: [randomWeight('w', [3, 3, 3, 4], 3)],
      shardBytes: 1 << 20,
      editModelJson: (json) => {
        json.weightsManifest[0]!.weights[0]!.shape = filterShape;
        edit(json);
      },
    });
}

const stConv = (): SafetensorsTensor[] => [
  { name: 'conv1.weight', shape: [4, 3, 3, 3], values: randomValues(108, 4) },
  { name: 'conv1.bias', shape: [4], values: randomValues(4, 5) },
  { name: 'fc.weight', shape: [2, 4], values: randomValues(8, 6) },
];
function safetensors(editHeader?: (header: Json) => void) {
  return async (dir: URL) => {
    const url = new URL('model.safetensors', dir);
    await writeSafetensors(url, stConv(), editHeader ? { editHeader } : {});
    return url;
  };
}
const text = (s: string) => new TextEncoder().encode(s);

/** input → conv1 [4,3,3,3] → relu; `conv1` replaces fields of the weight's TensorProto. */
function onnxGraph(conv1: Partial<TensorSpec> = {}): GraphSpec {
  return {
    nodes: [
      { name: 'conv1', opType: 'Conv', inputs: ['input', 'conv1.weight'], outputs: ['c1'], attributes: { strides: [1, 1] } },
      { name: 'relu1', opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
    ],
    initializers: [{ name: 'conv1.weight', dims: [4, 3, 3, 3], values: randomValues(108, 7), ...conv1 }],
  };
}
function onnx(conv1: Partial<TensorSpec> = {}, options: Parameters<typeof writeOnnxModel>[2] = {}) {
  return async (dir: URL) => (await writeOnnxModel(dir, onnxGraph(conv1), options)).url;
}

/** input_1 → conv_a (3×3, 3 → 4) → flat → fc (4 → 2), Keras 2 full-model layout. */
function h5Model(options: Partial<KerasH5Options> = {}): KerasH5Options {
  return {
    layers: [inputLayer('input_1'), conv2dLayer('conv_a', 'input_1', [3, 3], 4), kerasLayer('Flatten', 'flat', 'conv_a'), denseLayer('fc', 'flat', 2)],
    inputLayers: ['input_1'],
    weights: [...convWeights('conv_a', [3, 3], 3, 4, 8), ...denseWeights('fc', 4, 2, 9)],
    ...options,
  };
}
type H5Group = Parameters<NonNullable<KerasH5Options['edit']>>[1];
const groupAt = (root: H5Group, path: string) => root.get(path) as H5Group;
function h5(options: Partial<KerasH5Options> = {}) {
  return async (dir: URL) => {
    const url = new URL('model.h5', dir);
    await writeKerasH5(fileURLToPath(url), h5Model(options));
    return url;
  };
}
/** The conv_a kernel replaced by a chunked dataset resized to `shape`, whose chunks are never written. */
const unwrittenKernel = (shape: number[]) => (_file: unknown, root: H5Group) =>
  groupAt(root, 'conv_a/conv_a')
    .create_dataset({ name: 'kernel:0', data: new Float32Array(0), shape: [0, 3, 3, 4], maxshape: [null, 3, 3, null], chunks: [3, 3, 3, 4], dtype: '<f' })
    .resize(shape);

/** The members of a valid .keras archive: metadata.json, config.json, model.weights.h5. */
async function kerasMembers(): Promise<ZipMember[]> {
  const k3 = (layer: object, from: string | null) => withInbound(layer, keras3Inbound(from));
  const layers = [k3(inputLayer('input_layer'), null), k3(conv2dLayer('conv', 'input_layer', [3, 3], 4), 'input_layer')];
  const scratch = await dirs.make('conv1-keras-weights-');
  const weights = await writeKeras3Weights(fileURLToPath(new URL('weights.h5', scratch)), [{ key: 'conv2d', vars: convWeights('conv', [3, 3], 3, 4, 10) }]);
  return [
    { name: 'metadata.json', data: text('{"keras_version": "3.6.0"}') },
    { name: 'config.json', data: text(JSON.stringify(keras3Config(layers, ['input_layer']))) },
    { name: 'model.weights.h5', data: weights },
  ];
}
function keras(change: (members: ZipMember[]) => ZipMember[], finish: (bytes: Uint8Array) => Uint8Array = (bytes) => bytes) {
  return async (dir: URL) => {
    const url = new URL('model.keras', dir);
    await writeFile(url, finish(zipBytes(change(await kerasMembers()))));
    return url;
  };
}
const replaceMember = (name: string, replacement: Partial<ZipMember>) => (members: ZipMember[]) => members.map((m) => (m.name === name ? { ...m, ...replacement } : m));

function bytesAs(name: string, bytes: Uint8Array) {
  return async (dir: URL) => {
    const url = new URL(name, dir);
    await writeFile(url, bytes);
    return url;
  };
}

const PNG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0);
const NOISE = Uint8Array.from(randomValues(300, 12, 0, 256), Math.floor);
/** PROTO 4, FRAME, EMPTY_DICT, MEMOIZE, STOP: pickle.dumps({}, protocol=4). */
const PICKLE = Uint8Array.of(0x80, 0x04, 0x95, 0x04, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e);
/** The pickle torch.save writes first in a legacy file: PROTO 2, LONG1 of its magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_TORCH = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e);

/** conv1.weight [4,3,3,3], bn1.num_batches_tracked, fc.weight [2,4], as torch.save lays out a state dict. */
const PT_TENSORS: TorchTensor[] = [
  { name: 'conv1.weight', key: '0', size: [4, 3, 3, 3] },
  { name: 'bn1.num_batches_tracked', key: '1', size: [], type: 'LongStorage' },
  { name: 'fc.weight', key: '2', size: [2, 4] },
];
const ptStorages = (): Record<string, Uint8Array> => ({ '0': float32Bytes(randomValues(108, 18)), '1': new Uint8Array(8), '2': float32Bytes(randomValues(8, 19)) });
/** A torch.save archive (model.pt) of `pickle` (by default the state dict of PT_TENSORS) and the storages. */
function pytorch(pickle = stateDictPickle(PT_TENSORS), storages = ptStorages(), options: TorchArchiveOptions = {}) {
  return bytesAs('model.pt', torchArchive(pickle, storages, options));
}
/** A state dict of PT_TENSORS with conv1.weight changed. */
const ptConv1 = (change: Partial<TorchTensor>) => stateDictPickle([{ ...PT_TENSORS[0]!, ...change }, ...PT_TENSORS.slice(1)]);
/** A pickle: PROTO 2, what `write` adds, STOP. */
const pickled = (write: (pickle: Pickle) => Pickle) => write(new Pickle().proto()).stop().bytes();
/** A state dict {conv1.weight: <what `value` writes>}. */
const ptValue = (value: (pickle: Pickle) => Pickle) => pickled((p) => value(p.emptyDict().str('conv1.weight')).setitem());
/** The central directory's sizes of `member` replaced by `size`, as if the member ran on past the end of the file. */
function claimSize(archive: Uint8Array, member: string, size: number): Uint8Array {
  const bytes = Uint8Array.from(archive);
  const view = new DataView(bytes.buffer);
  const name = Buffer.from(member);
  for (let at = 0; at + 46 + name.length <= bytes.length; at++)
    if (view.getUint32(at, true) === 0x02014b50 && name.equals(bytes.subarray(at + 46, at + 46 + name.length))) {
      view.setUint32(at + 20, size, true);
      view.setUint32(at + 24, size, true);
    }
  return bytes;
}
/** Reads the model and, whatever the outcome, checks that the command the pickle carries created nothing. */
const nothingRuns = (marker: string) => async (url: URL) => {
  const outcome = await readKernel(url).catch((error: unknown) => error);
  await expect(stat(new URL(marker, url))).rejects.toMatchObject({ code: 'ENOENT' });
  throw outcome;
};

// ---------------------------------------------------------------------------------------------
// The corpus

const CASES: BadInput[] = [
  // TensorFlow.js layers models
  ...[
    ['absolute', '/etc/passwd'],
    ['leaving the folder with ..', '../group1-shard1of1.bin'],
    ['with a URL scheme', 'https://example.org/group1-shard1of1.bin'],
    ['with a query ?', 'group1-shard1of1.bin?v=1'],
    ['with a fragment #', 'group1-shard1of1.bin#part'],
  ].map(([label, path]): BadInput => ({
    name: `a weight path ${label}`,
    format: 'tfjs-layers',
    write: tfjsLayers((json) => (json.weightsManifest[0]!.paths = [path!])),
    expect: `"${path}", which is not a plain relative path`,
  })),
  { name: 'an unknown dtype', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[0]!.dtype = 'float64')), expect: 'as "float64", a dtype this reader does not know' },
  { name: 'a dtype naming an Object.prototype member', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[1]!.dtype = 'toString')), expect: '"toString", a dtype this reader does not know' },
  { name: 'a negative dimension', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[0]!.shape = [3, 3, -3, 4])), expect: 'dimensions must be non-negative integers' },
  { name: 'a fractional dimension', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[0]!.shape = [3, 1.5, 3, 4])), expect: 'dimensions must be non-negative integers' },
  { name: 'a dimension of 2^40', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[2]!.shape = [2 ** 40, 2])), expect: 'dimensions must be non-negative integers' },
  { name: 'a kernel claiming 5 GB', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[0]!.shape = FIVE_GB_HWIO)), names: (url) => fileURLToPath(new URL('group1-shard1of1.bin', url)), expect: /is \d+ bytes but model\.json implies 53687\d{5}/ },
  {
    name: 'a shard shorter than the manifest says',
    format: 'tfjs-layers',
    write: async (dir) => {
      const url = await tfjsLayers()(dir);
      await truncate(fileURLToPath(new URL('group1-shard1of1.bin', url)), 100);
      return url;
    },
    names: (url) => fileURLToPath(new URL('group1-shard1of1.bin', url)),
    expect: 'is 100 bytes but model.json implies 488',
  },
  {
    name: 'shards of unequal size (the second shorter than the first)',
    format: 'tfjs-layers',
    write: async (dir) => {
      // 488 bytes cut 200 + 200 + 88 by the manifest, but 200 + 150 + 138 on disk.
      const url = await tfjsLayers(() => {}, 200)(dir);
      const shards = [1, 2, 3].map((i) => new URL(`group1-shard${i}of3.bin`, url));
      const stream = Buffer.concat(await Promise.all(shards.map((shard) => readFile(shard))));
      await Promise.all([stream.subarray(0, 200), stream.subarray(200, 350), stream.subarray(350)].map((bytes, i) => writeFile(shards[i]!, bytes)));
      return url;
    },
    names: (url) => fileURLToPath(new URL('group1-shard2of3.bin', url)),
    expect: 'is 150 bytes but model.json implies 200 (every shard but the last has the size of group1-shard1of3.bin)',
  },
  {
    name: 'uint8 quantisation without min and scale',
    format: 'tfjs-layers',
    write: tfjsLayers((json) => (weightsOf(json)[0]!.quantization = { dtype: 'uint8', original_dtype: 'float32' })),
    expect: 'to uint8 without a numeric min and scale',
  },
  {
    name: 'uint16 quantisation with a string scale',
    format: 'tfjs-layers',
    write: tfjsLayers((json) => (weightsOf(json)[0]!.quantization = { dtype: 'uint16', min: -1, scale: '0.01', original_dtype: 'float32' })),
    expect: 'to uint16 without a numeric min and scale',
  },
  { name: 'a duplicate weight name', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[3]!.name = 'conv1/kernel')), expect: 'lists the weight "conv1/kernel" twice' },
  { name: 'a weight named __proto__', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[2]!.name = '__proto__')), expect: 'malformed weight in weightsManifest group 0' },
  { name: 'a layer named __proto__', format: 'tfjs-layers', write: tfjsLayers((json) => (layersOf(json)[2]!.name = '__proto__')), expect: 'without a usable name at position 2' },
  { name: 'two layers with one name', format: 'tfjs-layers', write: tfjsLayers((json) => (layersOf(json)[3]!.name = 'flat')), expect: 'names two layers the same' },
  { name: 'a first-conv kernel of rank 2', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[0]!.shape = [27, 4])), expect: 'the shape [27,4], not a rank-4 convolution kernel' },
  { name: 'a first conv without a kernel in the manifest', format: 'tfjs-layers', write: tfjsLayers((json) => (weightsOf(json)[0]!.name = 'conv1/W')), expect: 'no kernel weight for the convolution "conv1"' },
  {
    name: 'no convolution reachable from the input',
    format: 'tfjs-layers',
    write: tfjsLayers((json) => {
      layersOf(json)[1]!.inbound_nodes = [[['other', 0, 0, {}]]];
      layersOf(json).push(inputLayer('other') as Json);
      json.modelTopology.model_config.config.output_layers = [['fc', 0, 0]];
      layersOf(json)[2]!.inbound_nodes = [[['input_1', 0, 0, {}]]];
    }),
    expect: 'has no convolution layer reachable from its input',
  },
  { name: 'inbound_nodes as a bare string', format: 'tfjs-layers', write: tfjsLayers((json) => (layersOf(json)[1]!.inbound_nodes = 'input_1')), expect: 'describes the inputs of layer "conv1" in a form this reader does not know' },
  { name: 'inbound_nodes of an unknown shape', format: 'tfjs-layers', write: tfjsLayers((json) => (layersOf(json)[1]!.inbound_nodes = [{ from: 'input_1' }])), expect: 'in a form this reader does not know' },
  { name: 'a layer fed by a missing layer', format: 'tfjs-layers', write: tfjsLayers((json) => (layersOf(json)[1]!.inbound_nodes = [[['ghost', 0, 0, {}]]])), expect: 'takes its input from "ghost", which is not a layer of the model' },
  { name: 'a functional model without input_layers', format: 'tfjs-layers', write: tfjsLayers((json) => delete json.modelTopology.model_config.config.input_layers), expect: 'functional model without input_layers' },
  { name: 'a topology without layers', format: 'tfjs-layers', write: tfjsLayers((json) => (json.modelTopology.model_config.config.layers = 'all of them')), expect: 'modelTopology without a list of layers' },
  { name: 'a weights group without paths', format: 'tfjs-layers', write: tfjsLayers((json) => (json.weightsManifest[0]!.paths = [])), expect: 'malformed weightsManifest group 0' },
  { name: 'model.json that is not UTF-8', format: 'tfjs-layers', write: bytesAs('model.json', Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d)), expect: 'is not valid JSON' },
  { name: 'model.json that is JSON but no model', format: 'tfjs-layers', write: bytesAs('model.json', text('{"weights": []}')), expect: 'not a TensorFlow.js model' },

  // TensorFlow.js graph models
  { name: 'a filter of rank 3', format: 'tfjs-graph', write: tfjsGraph(() => {}, [9, 3, 4]), expect: 'the shape [9,3,4], not a rank-4 convolution kernel' },
  { name: 'a filter claiming 5 GB', format: 'tfjs-graph', write: tfjsGraph(() => {}, FIVE_GB_HWIO), names: (url) => fileURLToPath(new URL('group1-shard1of1.bin', url)), expect: /implies 53687\d{5}/ },
  {
    name: 'a filter computed by an op',
    format: 'tfjs-graph',
    write: tfjsGraph((json) => {
      json.modelTopology.node.push(opNode('Mul', 'scaled', ['w', 'w']));
      json.modelTopology.node[2]!.input = ['input', 'scaled'];
    }),
    expect: 'whose filter comes from the Mul node "scaled"',
  },
  { name: 'an input naming a missing node', format: 'tfjs-graph', write: tfjsGraph((json) => (json.modelTopology.node[2]!.input = ['input', 'nowhere'])), expect: 'takes its input from "nowhere", which is not a node of the graph' },
  { name: 'strides that are not four positive integers', format: 'tfjs-graph', write: tfjsGraph((json) => (json.modelTopology.node[2]!.attr!.strides = { list: { i: ['1', '-2', '2', '1'] } })), expect: 'not four positive integers' },
  { name: 'a graph weight path leaving the folder', format: 'tfjs-graph', write: tfjsGraph((json) => (json.weightsManifest[0]!.paths = ['../../shard.bin'])), expect: '"../../shard.bin", which is not a plain relative path' },

  // safetensors
  { name: 'a file shorter than 8 bytes', format: 'safetensors', write: bytesAs('model.safetensors', Uint8Array.of(8, 0, 0)), expect: 'extension .safetensors but its content is not safetensors' },
  { name: 'a header over 100,000,000 bytes', format: 'safetensors', write: bytesAs('model.safetensors', withHeaderLength(200_000_000n, text('{}      '))), expect: 'extension .safetensors but its content is not safetensors' },
  { name: 'a header length claiming 5 GB', format: 'safetensors', write: bytesAs('model.safetensors', withHeaderLength(5_000_000_000n, text('{}      '))), expect: 'extension .safetensors but its content is not safetensors' },
  { name: 'a header past the end of the file', format: 'safetensors', write: bytesAs('model.safetensors', withHeaderLength(1000n, text('{"a":1}'))), expect: 'declares a header of 1000 bytes, but the file ends 7 bytes after' },
  { name: 'a header that is not UTF-8', format: 'safetensors', write: bytesAs('model.safetensors', withHeaderLength(10n, Uint8Array.from([...text('{"c'), 0xff, 0xfe, ...text('":{}}')]))), expect: 'not valid UTF-8' },
  { name: 'a header that is not JSON', format: 'safetensors', write: bytesAs('model.safetensors', withHeaderLength(8n, text('{"a": [ '))), expect: 'not valid JSON' },
  { name: 'offsets with a gap', format: 'safetensors', write: safetensors((h) => (h['conv1.bias'].data_offsets = [436, 452])), expect: 'the tensor before it ends at 432' },
  { name: 'offsets out of order (overlapping)', format: 'safetensors', write: safetensors((h) => (h['conv1.bias'].data_offsets = [428, 444])), expect: 'without gaps or overlaps' },
  { name: 'a byte range that is not shape × dtype size', format: 'safetensors', write: safetensors((h) => (h['conv1.weight'].shape = [4, 3, 3, 2])), expect: 'takes 288 bytes' },
  {
    name: 'offsets claiming 5 GB',
    format: 'safetensors',
    write: safetensors((h) => {
      h['conv1.weight'] = { dtype: 'F32', shape: FIVE_GB_OIHW, data_offsets: [0, 5_368_709_120] };
      h['conv1.bias'].data_offsets = [5_368_709_120, 5_368_709_136];
      h['fc.weight'].data_offsets = [5_368_709_136, 5_368_709_168];
    }),
    expect: /ends 53687\d{5} bytes before the end of the data/,
  },
  {
    name: 'trailing bytes after the last tensor',
    format: 'safetensors',
    write: async (dir) => {
      const url = new URL('model.safetensors', dir);
      await writeFile(url, concat(encodeSafetensors(stConv()).bytes, new Uint8Array(4)));
      return url;
    },
    expect: '4 bytes after its last tensor',
  },
  { name: 'an unknown dtype', format: 'safetensors', write: safetensors((h) => (h['conv1.bias'].dtype = 'F128')), expect: '"F128", which safetensors does not define' },
  { name: 'a __metadata__ that is not strings', format: 'safetensors', write: safetensors((h) => (h.__metadata__ = { epoch: 3 })), expect: '"__metadata__" entry that is not a map of strings' },
  {
    name: 'a convolution weight in I8',
    format: 'safetensors',
    write: async (dir) => {
      const url = new URL('model.safetensors', dir);
      await writeSafetensors(url, [{ name: 'conv1.weight', shape: [4, 3, 3, 3], dtype: 'I8', bytes: new Uint8Array(108) }]);
      return url;
    },
    expect: 'as I8, but astro-conv1 draws only F32, F16 and BF16',
  },

  // ONNX
  ...['/etc/passwd', '../secret.bin', 'file:///etc/passwd'].map(
    (location): BadInput => ({ name: `external data at ${location}`, format: 'onnx', write: onnx({ external: [['location', location]] }), expect: `"${location}", which is not a plain relative path` }),
  ),
  {
    name: 'external data through a symlink out of the folder',
    format: 'onnx',
    write: async (dir) => {
      await writeFile(new URL('secret.bin', dir), new Uint8Array(432));
      const model = new URL('model/', dir);
      await mkdir(model);
      await symlink(fileURLToPath(new URL('secret.bin', dir)), fileURLToPath(new URL('weights.bin', model)));
      return onnx({ external: [['location', 'weights.bin']] })(model);
    },
    expect: 'a link that leads outside the model\'s folder',
  },
  { name: 'both raw_data and float_data', format: 'onnx', write: onnx({ extra: bytesField(4, encodeValues(new Float32Array(108))) }), expect: 'in both raw_data and float_data' },
  { name: 'an element count that does not match the dims', format: 'onnx', write: onnx({ values: randomValues(100, 13) }), expect: 'has 400 bytes of raw_data for the weight "conv1.weight"' },
  { name: 'float_data with too few values', format: 'onnx', write: onnx({ values: randomValues(100, 13), storage: 'float_data' }), expect: 'has 100 FLOAT values in the float_data' },
  { name: 'dims claiming 5 GB', format: 'onnx', write: onnx({ dims: FIVE_GB_OIHW }), expect: /call for 1342177280 FLOAT values \(5368709120 bytes\)/ },
  {
    name: 'external data claiming 5 GB',
    format: 'onnx',
    write: onnx({ dims: FIVE_GB_OIHW, external: [['location', 'weights.bin']] }, { files: { 'weights.bin': new Uint8Array(432) } }),
    names: (url) => fileURLToPath(new URL('weights.bin', url)),
    expect: 'has 432 bytes, but model.onnx places "conv1.weight" at bytes 0–5368709120',
  },
  { name: 'a truncated protobuf', format: 'onnx', write: onnx({}, { edit: (bytes) => bytes.subarray(0, Math.floor(bytes.length * 0.6)) }), expect: /not a well-formed ONNX protobuf: .*truncated/ },
  { name: 'an overlong varint', format: 'onnx', write: onnx({}, { edit: (bytes) => concat(bytes, Uint8Array.of(0x08, ...new Array<number>(9).fill(0xff), 0x81, 0x01)) }), expect: 'longer than 10 bytes' },
  {
    name: 'a length claiming more than the message holds',
    format: 'onnx',
    write: async (dir) => (await writeOnnxModel(dir, onnxGraph(), { edit: () => modelProto(concat(graphProto(onnxGraph()), tag(1, 2), varint(5_000_000_000), Uint8Array.of(1, 2, 3))) })).url,
    expect: 'declares 5000000000 bytes, but its message has only 3 left',
  },
  {
    name: 'two initializers with one name',
    format: 'onnx',
    write: async (dir) => {
      const graph = onnxGraph();
      graph.initializers.push({ name: 'conv1.weight', dims: [4, 3, 3, 3], values: randomValues(108, 14) });
      return (await writeOnnxModel(dir, graph)).url;
    },
    expect: 'two initializers named "conv1.weight"',
  },

  // Keras HDF5
  {
    name: 'a soft link where the kernel should be',
    format: 'keras-h5',
    write: h5({
      omitWeights: ['conv_a/kernel'],
      edit: (file, root) => {
        file.create_group('hidden').create_dataset({ name: 'kernel', data: new Float32Array(108), shape: [3, 3, 3, 4], dtype: '<f' });
        groupAt(root, 'conv_a/conv_a').create_soft_link('/hidden/kernel', 'kernel:0');
      },
    }),
    expect: 'a soft link to "/hidden/kernel"',
  },
  {
    name: 'an external link to another file',
    format: 'keras-h5',
    write: async (dir) => {
      await writeSourceDataset(fileURLToPath(new URL('other.h5', dir)), randomValues(108, 15));
      return h5({ omitWeights: ['conv_a/kernel'], edit: (_file, root) => groupAt(root, 'conv_a/conv_a').create_external_link('other.h5', '/data', 'kernel:0') })(dir);
    },
    expect: 'an external link to "/data" in the file "other.h5"',
  },
  {
    name: 'a virtual dataset',
    format: 'keras-h5',
    write: async (dir) => {
      await writeSourceDataset(fileURLToPath(new URL('weights-source.h5', dir)), randomValues(108, 16));
      return bytesAs('vds.h5', EXTERNAL_FILE_FIXTURES.virtualDataset())(dir);
    },
    expect: 'a virtual dataset whose values come from dataset "data" of "weights-source.h5"',
  },
  {
    name: 'external storage',
    format: 'keras-h5',
    write: async (dir) => {
      await writeFile(new URL('raw-kernel.bin', dir), new Uint8Array(432));
      return bytesAs('efl.h5', EXTERNAL_FILE_FIXTURES.externalStorage())(dir);
    },
    expect: /open another file, ".*raw-kernel\.bin"/,
  },
  { name: 'a kernel declaring 5 GB it does not store', format: 'keras-h5', write: h5({ omitWeights: ['conv_a/kernel'], edit: unwrittenKernel([3, 3, 3, 46_300_000]) }), expect: 'more than the 268435456 bytes a kernel may have' },
  { name: 'a kernel declaring more than the file holds', format: 'keras-h5', write: h5({ omitWeights: ['conv_a/kernel'], edit: unwrittenKernel([3, 3, 3, 40_000]) }), expect: /declares 4320000 bytes .* more than a \d+-byte file can hold/ },
  { name: 'a kernel whose values were never written', format: 'keras-h5', write: h5({ omitWeights: ['conv_a/kernel'], edit: unwrittenKernel([3, 3, 3, 4]) }), expect: 'but stores none of its values' },
  { name: 'a missing kernel', format: 'keras-h5', write: h5({ omitWeights: ['conv_a/kernel'] }), expect: 'has no dataset "model_weights/conv_a/conv_a/kernel:0"' },
  {
    name: 'a truncated file',
    format: 'keras-h5',
    write: async (dir) => {
      const url = await h5()(dir);
      await truncate(fileURLToPath(url), 1500);
      return url;
    },
    expect: /^could not be read while opening it/,
  },
  { name: 'the HDF5 signature followed by garbage', format: 'keras-h5', write: bytesAs('model.h5', concat(Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a), NOISE, NOISE)), expect: 'could not be read while opening it' },
  { name: 'a model_config that is not JSON', format: 'keras-h5', write: h5({ weightsOnly: true, edit: (file) => file.create_attribute('model_config', '{"class_name": ') }), expect: 'model_config attribute that is not valid JSON' },
  {
    name: 'an HDF5 file that is not a Keras model',
    format: 'keras-h5',
    write: async (dir) => {
      const url = new URL('plain.h5', dir);
      await writeSourceDataset(fileURLToPath(url), randomValues(108, 17));
      return url;
    },
    expect: 'not a Keras model (no model_config and no layer_names)',
  },

  // Keras 3 archives
  { name: 'a member leaving the folder with ..', format: 'keras', write: keras((m) => [...m, { name: 'assets/../../evil.txt', data: text('x') }]), expect: '".." would leave the archive\'s folder' },
  { name: 'a member with an absolute path', format: 'keras', write: keras((m) => [...m, { name: '/etc/evil.txt', data: text('x') }]), expect: 'absolute path "/etc/evil.txt"' },
  { name: 'a member with a backslash', format: 'keras', write: keras((m) => [...m, { name: 'assets\\evil.txt', data: text('x') }]), expect: 'with a backslash' },
  { name: 'two members with one name', format: 'keras', write: keras((m) => [...m, { name: 'config.json', data: text('{}') }]), expect: 'two members named "config.json"' },
  {
    name: 'a member declaring 4 GB from 1 KB (a bomb)',
    format: 'keras',
    write: keras((m) => [...m, { name: 'assets/vocab.txt', data: new Uint8Array(1000), method: 'deflate', declaredSize: 0xfffffff0 }]),
    expect: 'like a decompression bomb',
  },
  { name: 'no config.json', format: 'keras', write: keras((m) => m.filter((member) => member.name !== 'config.json')), expect: 'without config.json' },
  { name: 'a config.json that is not JSON', format: 'keras', write: keras(replaceMember('config.json', { data: text('{"class_name": "Functional", ') })), expect: 'config.json that is not valid JSON' },
  { name: 'pickled .npz weights', format: 'keras', write: keras(replaceMember('model.weights.h5', { name: 'model.weights.npz', data: text('PK\u0003\u0004') })), expect: 'model.weights.npz, a NumPy archive' },
  { name: 'a truncated archive', format: 'keras', write: keras((m) => m, (bytes) => bytes.subarray(0, bytes.length - 30)), expect: 'no zip end-of-directory record' },
  { name: 'a CRC-32 that does not match', format: 'keras', write: keras(replaceMember('config.json', { crc: 12345 })), expect: 'CRC-32 that does not match' },

  // PyTorch
  { name: 'a bare pickle', format: 'pytorch', write: bytesAs('model.pth', PICKLE), expect: 'is a bare pickle, not the zip archive torch.save', hintHas: 'torch.save(model.state_dict()' },
  { name: 'the legacy format (before 1.6)', format: 'pytorch', write: bytesAs('model.pth', LEGACY_TORCH), expect: 'in the legacy format torch.save wrote before PyTorch 1.6', hintHas: 'torch.save(model.state_dict()' },
  { name: 'a TorchScript archive', format: 'pytorch', write: pytorch(undefined, undefined, { extra: [{ name: 'archive/constants.pkl', data: PICKLE }] }), expect: 'is a TorchScript archive' },
  { name: 'an archive without a state dict', format: 'pytorch', write: pytorch(pickled((p) => p.emptyDict()), {}), expect: 'holds no tensors under names: its pickle is a dict' },
  {
    name: 'a pickle that calls posix.system',
    format: 'pytorch',
    write: pytorch(ptValue((p) => p.global('posix', 'system').mark().str('touch ran').tuple().reduce())),
    read: nothingRuns('ran'),
    expect: 'names posix.system, which is not on the allow-list; astro-conv1 accepts only tensors',
    hintHas: 'If you trust the file',
  },
  {
    name: 'a pickle that calls builtins.eval (protocol 4, STACK_GLOBAL)',
    format: 'pytorch',
    write: pytorch(ptValue((p) => p.str('builtins').str('eval').raw(0x93).mark().str("open('ran', 'w')").tuple().reduce())),
    read: nothingRuns('ran'),
    expect: 'names builtins.eval, which is not on the allow-list',
  },
  { name: 'an unknown global (a NumPy array)', format: 'pytorch', write: pytorch(ptValue((p) => p.global('numpy.core.multiarray', '_reconstruct'))), expect: 'names numpy.core.multiarray._reconstruct' },
  { name: 'REDUCE of an allowed name that is no function', format: 'pytorch', write: pytorch(ptValue((p) => p.global('torch', 'FloatStorage').emptyTuple().reduce())), expect: 'calls torch.FloatStorage, which a checkpoint may only name' },
  { name: 'NEWOBJ of torch.Tensor', format: 'pytorch', write: pytorch(ptValue((p) => p.global('torch', 'Tensor').emptyTuple().newobj())), expect: 'calls torch.Tensor, which a checkpoint may only name' },
  { name: 'REDUCE of a list', format: 'pytorch', write: pytorch(ptValue((p) => p.emptyList().emptyTuple().reduce())), expect: 'calls a list' },
  { name: 'BUILD on a plain dict', format: 'pytorch', write: pytorch(ptValue((p) => p.emptyDict().emptyDict().build())), expect: 'sets the state of a dict with BUILD' },
  { name: 'INST', format: 'pytorch', write: pytorch(ptValue((p) => p.mark().raw(0x69, ...text('os\nsystem\n')))), expect: 'instantiates os.system with the INST opcode' },
  { name: 'OBJ', format: 'pytorch', write: pytorch(ptValue((p) => p.mark().global('torch', 'Tensor').raw(0x6f))), expect: 'instantiates the global torch.Tensor with the OBJ opcode' },
  { name: 'a class from the copyreg registry (EXT1)', format: 'pytorch', write: pytorch(ptValue((p) => p.raw(0x82, 1))), expect: 'copyreg extension registry' },
  { name: 'a persistent id that is no storage', format: 'pytorch', write: pytorch(ptValue((p) => p.mark().str('module').str('os').tuple().binpersid())), expect: 'loads a persistent id that is a tuple rather than a storage' },
  { name: 'a storage key leaving the archive', format: 'pytorch', write: pytorch(ptConv1({ key: '../../etc/passwd' })), expect: 'names the storage "../../etc/passwd", a path outside the archive\'s data folder' },
  { name: 'a storage the archive lacks', format: 'pytorch', write: pytorch(ptConv1({ key: '7' })), expect: 'but the archive has no member archive/data/7' },
  { name: 'a storage claiming 5 GB', format: 'pytorch', write: pytorch(ptConv1({ numel: 1_342_177_280 })), expect: 'declares 1342177280 float32 elements (5368709120 bytes) for storage "0", but archive/data/0 holds 432 bytes' },
  { name: 'a tensor beyond the end of its storage', format: 'pytorch', write: pytorch(ptConv1({ offset: 1, numel: 108 })), expect: 'places a tensor of size [4, 3, 3, 3] (strides [27, 9, 3, 1], offset 1) beyond the end of storage "0", which holds 108 elements' },
  {
    name: 'a storage past the end of the file',
    format: 'pytorch',
    write: bytesAs('model.pt', claimSize(torchArchive(ptConv1({ numel: 100_000_000 }), ptStorages()), 'archive/data/0', 400_000_000)),
    expect: 'stores "archive/data/0" past its own end',
  },
  { name: 'a kernel of 5 GB through zero strides', format: 'pytorch', write: pytorch(ptConv1({ size: FIVE_GB_OIHW, stride: [0, 0, 0, 0], numel: 108 })), expect: 'more than the 268435456 bytes a kernel may take' },
  { name: 'a kernel in int8', format: 'pytorch', write: pytorch(ptConv1({ type: 'CharStorage' }), { ...ptStorages(), '0': new Uint8Array(108) }), expect: 'as int8, but astro-conv1 draws only float32, float16, bfloat16 and float64' },
  { name: 'a member leaving the folder with ..', format: 'pytorch', write: pytorch(undefined, undefined, { extra: [{ name: 'archive/data/../../evil', data: text('x') }] }), expect: '".." would leave the archive\'s folder' },
  { name: 'two pickles', format: 'pytorch', write: pytorch(undefined, undefined, { extra: [{ name: 'other/data.pkl', data: PICKLE }] }), expect: 'holds 2 pickles' },
  { name: 'big-endian storages', format: 'pytorch', write: pytorch(undefined, undefined, { extra: [{ name: 'archive/byteorder', data: text('big') }] }), expect: 'was saved on a big-endian machine' },
  { name: 'a truncated pickle', format: 'pytorch', write: pytorch(stateDictPickle(PT_TENSORS).subarray(0, 150)), expect: /ends (inside the argument of|before its STOP)/ },
  { name: 'pickle protocol 6', format: 'pytorch', write: pytorch(pickled((p) => p.raw(0x80, 6).emptyDict())), expect: 'declares pickle protocol 6' },
  { name: '100,000 nested MARKs', format: 'pytorch', write: pytorch(pickled((p) => p.raw(...new Array<number>(100_000).fill(0x28)))), expect: 'nests more than 1000 MARKs' },
  {
    name: 'dicts nested 150 deep',
    format: 'pytorch',
    write: pytorch(pickled((p) => {
      p.emptyDict();
      for (let i = 0; i < 150; i++) p.str('a').emptyDict();
      for (let i = 0; i < 150; i++) p.setitem();
      return p;
    })),
    expect: 'nests dicts more than 100 deep',
  },
  {
    // d0 = {'lol': 'lol'}; d(k) = {'a': d(k-1), 'b': d(k-1)}: 2^80 paths to walk through 80 memoised dicts.
    name: 'a billion laughs of memoised dicts',
    format: 'pytorch',
    write: pytorch(pickled((p) => {
      p.emptyDict().str('lol').str('lol').setitem().put(0).raw(0x30);
      for (let k = 1; k <= 80; k++) p.emptyDict().str('a').get(k - 1).setitem().str('b').get(k - 1).setitem().put(k).raw(0x30);
      return p.emptyDict().str('laughs').get(80).setitem();
    })),
    expect: 'holds no tensors under names',
  },

  // Any format
  ...['model.json', 'model.safetensors', 'model.onnx', 'model.h5', 'model.keras', 'model.pt'].map(
    (name): BadInput => ({ name: `a 0-byte ${name}`, format: 'any format', write: bytesAs(name, new Uint8Array(0)), expect: 'is empty (0 bytes)' }),
  ),
  // .bin names PyTorch checkpoints (pytorch_model.bin), so an unknown extension here.
  { name: 'an unrecognised file (a PNG)', format: 'any format', write: bytesAs('model.dat', PNG), expect: 'is not a model file astro-conv1 can read' },
  ...[
    ['model.h5', NOISE, 'keras-h5'],
    ['model.onnx', PNG, 'onnx'],
    ['model.keras', text('hello, world'), 'keras'],
    ['model.json', text('hello, world'), 'tfjs'],
    ['model.pt', text('hello, world'), 'pytorch'],
  ].map(
    ([name, bytes, format]): BadInput => ({
      name: `an extension that does not match the content (${name as string})`,
      format: 'any format',
      write: bytesAs(name as string, bytes as Uint8Array),
      expect: `has the extension ${(name as string).slice(5)} but its content is not ${format as string}`,
    }),
  ),
  { name: 'a missing file', format: 'any format', write: async (dir) => new URL('nowhere/model.json', dir), expect: 'does not exist' },
  {
    name: 'a folder instead of a file',
    format: 'any format',
    write: async (dir) => {
      await mkdir(new URL('model.onnx/', dir));
      return new URL('model.onnx', dir);
    },
    expect: 'cannot be read (not a regular file)',
  },

  // Wrong options
  ...([
    ['tfjs-layers', tfjsLayers(), 'conv1'],
    ['safetensors', safetensors(), 'conv1'],
    ['onnx', onnx(), 'conv1'],
    ['keras-h5', h5(), 'conv_a'],
    ['pytorch', pytorch(), 'conv1'],
  ] as const).flatMap(([format, write, first]): BadInput[] => {
    const other = format === 'onnx' ? 'relu1' : 'fc';
    return [
      { name: `layer: an unknown name (${format})`, format: 'options', write, read: (url) => readKernel(url, { layer: 'nope' }), expect: 'has no layer named "nope"', hintHas: first },
      { name: `layer: a layer that is not a convolution (${format})`, format: 'options', write, read: (url) => readKernel(url, { layer: other }), expect: `has a layer "${other}", but it is not a convolution`, hintHas: first },
    ];
  }),

  // A photo that is not an image
  ...[
    ['text', text('these are not the pixels you are looking for\n')],
    ['an empty file', new Uint8Array(0)],
    ['a truncated PNG', PNG],
  ].map(
    ([label, bytes]): BadInput => ({
      name: `a photo that is ${label as string}`,
      format: 'photo',
      write: bytesAs('photo.jpg', bytes as Uint8Array),
      read: async (photo, dir) => {
        const model = await tfjsLayers()(new URL('model/', dir));
        return runPipeline({ model, photos: [{ src: fileURLToPath(photo) }], photoWidth: 32, gridScale: 1, filterScale: 1, responses: [0] });
      },
      expect: 'cannot be read as an image',
    }),
  ),
];

// ---------------------------------------------------------------------------------------------

/** A hint the user can act on: a sentence with a verb telling them what to do. */
const ACTIONABLE = /\b(export|save|download|copy|point|set|install|give|use|convert|choose|check|write|re-create|connect|pin|reinstall|restart|replace|leave|produce|cast|try)\b/i;

const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);
const timings: { name: string; ms: number }[] = [];
let rssBefore = 0;

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  // Load every reader's code (h5wasm above all) before measuring memory: what counts is what the
  // bad inputs cost, not the libraries.
  const warm = await dirs.make();
  for (const [name, write] of [['tfjs', tfjsLayers()], ['graph', tfjsGraph()], ['st', safetensors()], ['onnx', onnx()], ['h5', h5()], ['pt', pytorch()]] as const) {
    const folder = new URL(`${name}/`, warm);
    await mkdir(folder);
    await readKernel(await write(folder));
  }
  rssBefore = process.memoryUsage().rss;
});

afterAll(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

describe(`a corpus of ${CASES.length} bad inputs`, () => {
  it.each(CASES)('$format: $name', async (testCase) => {
    const dir = await dirs.make('conv1-bad-');
    const url = await testCase.write(dir);
    const started = performance.now();
    const error = await (testCase.read ?? readKernel)(url, dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    timings.push({ name: testCase.name, ms: performance.now() - started });
    expect(error, `${testCase.name} was accepted`).toBeInstanceOf(Conv1Error);
    const { file, reason, hint, message } = error as Conv1Error;
    expect(file).toBe(testCase.names?.(url) ?? fileURLToPath(url));
    expect(message).toContain(file);
    if (typeof testCase.expect === 'string') expect(reason).toContain(testCase.expect);
    else expect(reason).toMatch(testCase.expect);
    expect(hint.length).toBeGreaterThan(20);
    expect(hint).toMatch(ACTIONABLE);
    if (testCase.hintHas) expect(hint).toContain(testCase.hintHas);
    expect(performance.now() - started, 'refused quickly').toBeLessThan(3000);
  });

  it('refused every case without an uncaught exception and with bounded memory', () => {
    const counts = new Map<string, number>();
    for (const { format } of CASES) counts.set(format, (counts.get(format) ?? 0) + 1);
    const growth = process.memoryUsage().rss - rssBefore;
    const slowest = timings.reduce((a, b) => (b.ms > a.ms ? b : a), { name: '', ms: 0 });
    console.log(
      `bad-input corpus: ${CASES.length} cases (${[...counts].map(([format, n]) => `${format} ${n}`).join(', ')}); ` +
        `rss grew ${(growth / 1e6).toFixed(1)} MB; slowest ${slowest.ms.toFixed(0)} ms (${slowest.name})`,
    );
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(uncaught).toEqual([]);
    expect(growth).toBeLessThan(200e6);
  });
});

describe('wrong integration options', () => {
  it.each([
    [{ channels: 'grb' }, '`channels`'],
    [{ photoWidth: 5 }, '`photoWidth`'],
    [{ registry: 'not a url' }, '`registry`'],
    [{ model: '' }, '`model`'],
    [{ responses: [-1] }, '`responses'],
    [{ colour: 'red' }, 'colour'],
  ])('%j is refused by conv1() with an AstroError naming the option and a hint', (options, named) => {
    let error: unknown;
    try {
      conv1(options as Parameters<typeof conv1>[0]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AstroError);
    expect((error as AstroError).message).toContain(named);
    expect((error as AstroError).hint).toMatch(/README/);
  });
});

describe('errors on their way to Astro', () => {
  it('a Conv1Error becomes an AstroError with its hint', () => {
    const fromModel = toAstroError(new Conv1Error('/m/model.json', 'is broken', 'Export it again.'));
    expect(fromModel).toBeInstanceOf(AstroError);
    expect(fromModel.message).toBe('astro-conv1: /m/model.json: is broken');
    expect((fromModel as AstroError).hint).toBe('Export it again.');
  });

  it('a responses filter the layer lacks is a Conv1Error that points at the option', async () => {
    const model = await writeTfjsModel(await dirs.make('conv1-responses-'), {
      layers: [inputLayer('input_1'), conv2dLayer('stem', 'input_1', [3, 3], 4)],
      inputLayers: ['input_1'],
      weights: [{ name: 'stem/kernel', shape: [3, 3, 3, 4], values: randomValues(3 * 3 * 3 * 4, 5) }],
      shardBytes: 1 << 20,
    });
    const error = await conv1Error(runPipeline({ model, photos: [], photoWidth: 32, gridScale: 1, filterScale: 1, responses: [70] }));
    expect(error.reason).toContain('filter 70');
    expect(error.hint).toContain('`responses`');
  });

  it('any RangeError (a stack overflow, a failed allocation) is not blamed on the options', () => {
    const overflow = new RangeError('Maximum call stack size exceeded');
    expect(toAstroError(overflow)).toBe(overflow);
  });
});

describe('an Astro build with a broken model', () => {
  let root: URL;
  beforeAll(async () => {
    const fixtures = new URL('./', import.meta.url);
    root = new URL(`${(await mkdtemp(fileURLToPath(new URL('.fixture-broken-', fixtures)))).split('/').pop()}/`, fixtures);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('stops with an Astro error that names the file, the cause, and prints the hint', async () => {
    const model = new URL('model.safetensors', root);
    await writeSafetensors(model, stConv(), { editHeader: (h: Json) => (h['conv1.bias'].data_offsets = [436, 452]) });
    await writeTinyPhoto(new URL('photo.png', root));
    await writeSite(root, `{ model: './model.safetensors', photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 32 }`);
    const run = await runAstro(['build'], { cwd: root });
    const output = (run.stdout + run.stderr).replace(/\u001b\[[0-9;]*m/g, '');
    expect(run.code).not.toBe(0);
    expect(output).toMatch(/\[Astro\w*Error\] astro-conv1: /);
    expect(output).toContain(fileURLToPath(model));
    expect(output).toContain('the tensor before it ends at 432');
    expect(output).toMatch(/Hint:\s+The file is damaged or was not written by a safetensors library; download or save it again\./);
  });
});
