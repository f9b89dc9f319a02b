import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { float16ToFloat32 } from '../../src/lib/formats/dtypes.ts';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { safetensorsReader } from '../../src/lib/formats/safetensors.ts';
import { Conv1Error, readKernel, readModel } from '../../src/lib/index.ts';
import { kernelIndex, oihwToHwio } from '../../src/lib/kernel.ts';
import { LocalModelFiles } from '../../src/lib/sources/model-files.ts';
import { bfloat16Bits, encodeSafetensors, writeSafetensors, type SafetensorsTensor } from '../helpers/safetensors-fixture.ts';
import { elementCount, float16Bits, randomValues, TempDirs } from '../helpers/tfjs-fixture.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

function tensor(name: string, shape: number[], seed: number, dtype = 'F32'): SafetensorsTensor & { values: Float32Array } {
  return { name, shape, dtype, values: randomValues(elementCount(shape), seed) };
}

/** A small ResNet-like file: conv1 [4,3,3,3] among batch-norm, deeper conv and fc tensors. */
function resnetLike(): SafetensorsTensor[] {
  return [
    tensor('bn1.bias', [4], 1),
    tensor('bn1.weight', [4], 2),
    { name: 'bn1.num_batches_tracked', shape: [], dtype: 'I64', bytes: new Uint8Array(8) },
    tensor('conv1.weight', [4, 3, 3, 3], 3),
    tensor('fc.weight', [2, 4], 4),
    tensor('layer1.0.conv1.weight', [4, 4, 3, 3], 5),
  ];
}

async function writeModel(tensors: readonly SafetensorsTensor[], options: Parameters<typeof encodeSafetensors>[1] = {}) {
  const dir = await dirs.make();
  const url = new URL('model.safetensors', dir);
  const file = await writeSafetensors(url, tensors, options);
  return { dir, url, path: fileURLToPath(url), file };
}

describe('safetensors: reading a kernel', () => {
  it('turns an OIHW conv1.weight into the HWIO kernel, value for value', async () => {
    const tensors = resnetLike();
    const conv1 = tensors.find((t) => t.name === 'conv1.weight')!;
    const { url } = await writeModel(tensors);
    const kernel = await readKernel(url);
    expect(kernel.format).toBe('safetensors');
    expect(kernel.layer).toBe('conv1');
    expect(kernel.layerType).toBe('Conv2d');
    expect(kernel.shape).toEqual([3, 3, 3, 4]);
    expect(kernel.strides).toEqual([1, 1]);
    expect(kernel.channelOrder).toBe('rgb');
    const oihw = conv1.values!;
    const at = (f: number, c: number, y: number, x: number) => oihw[((f * 3 + c) * 3 + y) * 3 + x]!;
    for (const [y, x, c, f] of [[0, 0, 0, 0], [2, 1, 0, 3], [1, 2, 2, 1], [2, 2, 2, 3], [0, 1, 1, 2]] as const)
      expect(kernel.data[kernelIndex(kernel, y, x, c, f)]).toBe(at(f, c, y, x));
  });

  it('oihwToHwio puts OIHW element (f, c, y, x) at HWIO (y, x, c, f) for a non-square shape', () => {
    const [o, i, h, w] = [5, 2, 3, 4];
    const data = Float32Array.from({ length: o * i * h * w }, (_, n) => n);
    const out = oihwToHwio(data, [o, i, h, w]);
    for (let f = 0; f < o; f++)
      for (let c = 0; c < i; c++)
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(out[((y * w + x) * i + c) * o + f]).toBe(((f * i + c) * h + y) * w + x);
    expect(() => oihwToHwio(data, [o, i, h, w + 1])).toThrow(RangeError);
  });

  it('decodes F16 and BF16 kernels to the float32 values their bits encode', async () => {
    const values = randomValues(4 * 3 * 3 * 3, 7);
    for (const dtype of ['F16', 'BF16'] as const) {
      const { url } = await writeModel([{ name: 'conv1.weight', shape: [4, 3, 3, 3], dtype, values }]);
      const kernel = await readKernel(url);
      const decode = (v: number) =>
        dtype === 'F16' ? float16ToFloat32(float16Bits(v)) : new Float32Array(new Uint32Array([bfloat16Bits(v) << 16]).buffer)[0]!;
      const expected = oihwToHwio(Float32Array.from(values, decode), [4, 3, 3, 3]);
      expect(Array.from(kernel.data)).toEqual(Array.from(expected));
      // The encodings round: the decoded kernel is close to, but not the same as, the float32 values.
      expect(kernel.data[kernelIndex(kernel, 1, 1, 1, 1)]).toBeCloseTo(values[((1 * 3 + 1) * 3 + 1) * 3 + 1]!, 2);
    }
  });

  it('reads only the length, the header and the kernel, however large the other tensors', async () => {
    const big = (name: string, seed: number) => tensor(name, [1024, 1024], seed); // 4 MiB each
    const tensors = [big('a_before.weight', 1), tensor('conv1.weight', [8, 3, 7, 7], 2), big('z_after.weight', 3)];
    const { url, file } = await writeModel(tensors);
    const kernel = await readKernel(url);
    const kernelBytes = 8 * 3 * 7 * 7 * 4;
    expect(file.bytes.length).toBeGreaterThan(8 * 1024 * 1024);
    expect(kernel.bytesRead).toBe(HEAD_BYTES + file.headerLength + kernelBytes);
    expect(kernel.bytesRead).toBeLessThanOrEqual(8 + file.headerLength + kernelBytes + 64);
    expect(Array.from(kernel.data)).toEqual(Array.from(oihwToHwio(tensors[1]!.values, [8, 3, 7, 7])));
  });
});

describe('safetensors: which convolution comes first', () => {
  it('prefers the 3-channel stem even when a deeper convolution is listed first', async () => {
    const tensors = [tensor('layer1.0.conv1.weight', [4, 4, 3, 3], 1), tensor('blocks.0.conv_dw.weight', [4, 1, 3, 3], 2), tensor('conv1.weight', [4, 3, 3, 3], 3)];
    const { url } = await writeModel(tensors);
    const { kernel, convolutions } = await readModel(url);
    expect(kernel.layer).toBe('conv1');
    // 3 input channels, then 1 (depthwise or greyscale), then the rest.
    expect(convolutions.map((c) => c.name)).toEqual(['conv1', 'blocks.0.conv_dw', 'layer1.0.conv1']);
    expect(convolutions[1]!.shape).toEqual([3, 3, 1, 4]);
  });

  it('orders indices numerically (features.2 before features.10), stem names first, fewer parts first', async () => {
    const cases: [string[], string][] = [
      [['features.10.weight', 'features.2.weight'], 'features.2'],
      [['aux.head.weight', 'encoder.stem.weight'], 'encoder.stem'],
      [['vit.embeddings.patch_embeddings.projection.weight', 'adapter.conv.weight'], 'vit.embeddings.patch_embeddings.projection'],
      [['layer1.0.conv1.weight', 'conv1.weight'], 'conv1'],
      [['model.conv1.weight', 'model.conv1.extra.weight'], 'model.conv1'],
    ];
    for (const [names, first] of cases) {
      const { url } = await writeModel(names.map((name, i) => tensor(name, [2, 3, 3, 3], i)));
      expect((await readKernel(url)).layer, names.join(', ')).toBe(first);
    }
  });

  it('does not depend on header order', async () => {
    const names = ['stem.conv.weight', 'stages.0.conv.weight', 'head.conv.weight', 'patch_embed.proj.weight'];
    const orders = [names, [...names].reverse(), [names[2]!, names[0]!, names[3]!, names[1]!]];
    const firsts = [];
    for (const order of orders) {
      const { url } = await writeModel(order.map((name) => tensor(name, [2, 3, 4, 4], 1)));
      firsts.push((await readModel(url)).convolutions.map((c) => c.name));
    }
    expect(firsts[1]).toEqual(firsts[0]);
    expect(firsts[2]).toEqual(firsts[0]);
    expect(firsts[0]![0]).toBe('patch_embed.proj');
  });

  it('ignores tensors that are not 4-D weights', async () => {
    const { url } = await writeModel([tensor('conv1.bias', [4], 1), tensor('pos_embed', [1, 3, 4, 4], 2), tensor('fc.weight', [3, 3], 3)]);
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toContain('no convolution');
  });
});

describe('safetensors: the layer option', () => {
  it('selects a convolution by its module name', async () => {
    const tensors = resnetLike();
    const { url } = await writeModel(tensors);
    const kernel = await readKernel(url, { layer: 'layer1.0.conv1' });
    expect(kernel.layer).toBe('layer1.0.conv1');
    expect(kernel.shape).toEqual([3, 3, 4, 4]);
    expect(Array.from(kernel.data)).toEqual(Array.from(oihwToHwio(tensors[5]!.values!, [4, 4, 3, 3])));
  });

  it('recognises a torchvision ResNet: RGB by its preset, not by default', async () => {
    const { url } = await writeModel(resnetLike());
    expect(await readKernel(url)).toMatchObject({ layer: 'conv1', channelOrder: 'rgb', channelOrderSource: 'preset torchvision-resnet' });
    const { url: plain } = await writeModel([tensor('stem.weight', [4, 3, 3, 3], 9)]);
    expect(await readKernel(plain)).toMatchObject({ channelOrder: 'rgb', channelOrderSource: 'default' });
  });

  it('also accepts the full tensor name', async () => {
    const { url } = await writeModel(resnetLike());
    expect((await readKernel(url, { layer: 'layer1.0.conv1.weight' })).layer).toBe('layer1.0.conv1');
  });

  it('tells a module that is not a convolution from a name that does not exist', async () => {
    const { url } = await writeModel(resnetLike());
    const notConv = await conv1Error(readKernel(url, { layer: 'bn1' }));
    expect(notConv.reason).toContain('not a convolution');
    expect(notConv.hint).toContain('conv1');
    const missing = await conv1Error(readKernel(url, { layer: 'conv9' }));
    expect(missing.reason).toContain('no layer named "conv9"');
  });

  it('refuses a kernel in an integer dtype by name, but reads a file that has integer tensors elsewhere', async () => {
    const { url, path } = await writeModel([
      { name: 'conv1.weight', shape: [2, 3, 3, 3], dtype: 'I8', bytes: new Uint8Array(54) },
      tensor('conv2.weight', [2, 2, 3, 3], 1),
    ]);
    const error = await conv1Error(readKernel(url));
    expect(error.file).toBe(path);
    expect(error.reason).toContain('"conv1.weight" as I8');
    expect(error.reason).toContain('F32, F16 and BF16');
    expect(error.hint).toContain('`layer`');
    expect((await readKernel(url, { layer: 'conv2' })).shape).toEqual([3, 3, 2, 2]);
  });
});

describe('safetensors: bad files are refused with a Conv1Error naming the file', () => {
  const conv = () => [tensor('conv1.weight', [2, 3, 3, 3], 1), tensor('conv1.bias', [2], 2)];

  /** Writes raw bytes as model.safetensors and opens it with the reader itself (past detection). */
  async function openRaw(bytes: Uint8Array) {
    const dir = await dirs.make();
    const url = new URL('model.safetensors', dir);
    await writeFile(url, bytes);
    return { path: fileURLToPath(url), url, error: await conv1Error(safetensorsReader.open(new LocalModelFiles(url))) };
  }

  async function expectRefused(bytes: Uint8Array, ...reasonParts: string[]): Promise<Conv1Error> {
    const { path, url, error } = await openRaw(bytes);
    expect(error.file).toBe(path);
    expect(error.message).toContain(path);
    for (const part of reasonParts) expect(error.reason).toContain(part);
    expect(error.hint.length).toBeGreaterThan(20);
    // Through the full pipeline the file is refused too (by detection or by the reader).
    const viaPipeline = await conv1Error(readKernel(url));
    expect(viaPipeline.file).toBe(path);
    return error;
  }

  const withLength = (n: bigint, rest: Uint8Array) => {
    const out = new Uint8Array(8 + rest.length);
    new DataView(out.buffer).setBigUint64(0, n, true);
    out.set(rest, 8);
    return out;
  };
  const text = (s: string) => new TextEncoder().encode(s);

  it('a file shorter than 8 bytes', async () => {
    await expectRefused(Uint8Array.of(8, 0, 0), 'is 3 bytes long', '8-byte header length');
  });

  it('a header over 100,000,000 bytes', async () => {
    const error = await expectRefused(withLength(200_000_000n, text('{}      ')), '200000000 bytes', 'over 100000000');
    expect(error.hint).toContain('damaged');
  });

  it('a header that runs past the end of the file', async () => {
    const error = await expectRefused(withLength(1000n, text('{"a":1}')), 'header of 1000 bytes', 'ends 7 bytes after');
    expect(error.hint).toContain('truncated');
  });

  it('a header that is not UTF-8', async () => {
    const header = Uint8Array.from([...text('{"conv'), 0xff, 0xfe, ...text('":{}}  ')]);
    await expectRefused(withLength(BigInt(header.length), header), 'not valid UTF-8');
  });

  it('a header that is not JSON', async () => {
    await expectRefused(withLength(8n, text('{"a": [ ')), 'not valid JSON');
  });

  it('a header that does not start with "{"', async () => {
    await expectRefused(withLength(8n, text('  {}    ')), 'does not start with "{"');
  });

  it('data_offsets with a gap, an overlap, or not starting at 0', async () => {
    const edits: [(h: Record<string, any>) => void, string][] = [
      [(h) => (h['conv1.bias'].data_offsets = [220, 228]), 'the tensor before it ends at 216'],
      [(h) => (h['conv1.bias'].data_offsets = [212, 220]), 'without gaps or overlaps'],
      [(h) => {
        h['conv1.weight'].data_offsets = [8, 224];
        h['conv1.bias'].data_offsets = [224, 232];
      }, 'the tensor before it ends at 0'],
    ];
    for (const [edit, part] of edits) await expectRefused(encodeSafetensors(conv(), { editHeader: edit }).bytes, part);
  });

  it('a tensor whose byte range does not match shape × dtype size', async () => {
    await expectRefused(encodeSafetensors(conv(), { editHeader: (h: Record<string, any>) => (h['conv1.weight'].shape = [2, 3, 3, 2]) }).bytes, '216 bytes', 'takes 144 bytes');
    await expectRefused(encodeSafetensors(conv(), { editHeader: (h: Record<string, any>) => (h['conv1.weight'].dtype = 'F16') }).bytes, 'F16 tensor', 'takes 108 bytes');
  });

  it('bytes after the last tensor, and data cut short', async () => {
    const { bytes } = encodeSafetensors(conv());
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes);
    await expectRefused(padded, '4 bytes after its last tensor');
    const error = await expectRefused(bytes.subarray(0, bytes.length - 4), 'ends 4 bytes before the end');
    expect(error.hint).toContain('truncated');
  });

  it('a __metadata__ that is not a map of strings', async () => {
    await expectRefused(encodeSafetensors(conv(), { editHeader: (h) => (h.__metadata__ = { format: 'pt', epoch: 3 }) }).bytes, '__metadata__', 'map of strings');
    // A proper one is fine.
    const dir = await dirs.make();
    const url = new URL('ok.safetensors', dir);
    await writeSafetensors(url, conv(), { metadata: { format: 'pt' } });
    expect((await readKernel(url)).layer).toBe('conv1');
  });

  it('unknown dtypes (including names of Object.prototype members), bad shapes and bad offsets', async () => {
    const cases: [(h: Record<string, any>) => void, string][] = [
      [(h) => (h['conv1.bias'].dtype = 'F128'), '"F128", which safetensors does not define'],
      [(h) => (h['conv1.bias'].dtype = 'constructor'), '"constructor"'],
      [(h) => (h['conv1.bias'].shape = [-2]), 'non-negative integers'],
      [(h) => (h['conv1.bias'].shape = [2.5]), 'non-negative integers'],
      [(h) => (h['conv1.bias'].data_offsets = [224, 216]), '0 ≤ begin ≤ end'],
      [(h) => (h['conv1.bias'].data_offsets = [216]), 'data_offsets [216]'],
      [(h) => (h['conv1.bias'] = 'oops'), 'something other than an object'],
    ];
    for (const [edit, part] of cases) await expectRefused(encodeSafetensors(conv(), { editHeader: edit }).bytes, part);
  });

  it('detection: the pipeline names the format a mis-sized file was expected to be', async () => {
    const dir = await dirs.make();
    const url = new URL('tiny.safetensors', dir);
    await writeFile(url, Uint8Array.of(1, 2, 3));
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toContain('extension .safetensors but its content is not safetensors');
  });

  it('detects safetensors by content whatever the extension', async () => {
    const dir = await dirs.make();
    const url = new URL('weights.bin', dir);
    await writeFile(url, encodeSafetensors(conv()).bytes);
    expect((await readKernel(url)).format).toBe('safetensors');
    expect(safetensorsReader.detect((await readFile(url)).subarray(0, HEAD_BYTES))).toBe(true);
  });
});
