/**
 * Reading ResNet50's conv1 kernel: ours (model.json plus the kernel's byte range) against the naive
 * path, tfjs' loadLayersModel of the whole model followed by getLayer('conv1').getWeights()[0], and
 * a bare reader that shows how fast a read can be at all. Run as
 * `node bench/read-conv1.ts ours|bare|naive <model.json> <runs>` in a fresh process, so that the
 * peak memory (maxRSS) belongs to that path alone; prints one JSON line.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readModel } from '../src/lib/read-kernel.ts';
import { median } from '../src/lib/analyse/analyse-filter.ts';

export type ReadPath = 'ours' | 'bare' | 'naive';

export interface ReadResult {
  path: ReadPath;
  medianMs: number;
  /** Every timed run, so that runs of several processes can be pooled. */
  timesMs: number[];
  bytesRead: number;
  peakRssMb: number;
  checksum: number;
  /** Ours only: JSON.parse of model.json's text alone, median over as many runs, in the same process after the reads. */
  parseMs?: number;
}

async function ours(modelJson: URL): Promise<{ bytes: number; data: Float32Array }> {
  const { kernel } = await readModel(modelJson, { layer: 'conv1' });
  return { bytes: kernel.bytesRead, data: kernel.data };
}

/**
 * The least any reader of model.json must do: read it, JSON.parse it, find the kernel in the weights
 * manifest by name, add up the sizes of the weights before it and read its bytes. It checks nothing
 * (float32 assumed; no topology, dtypes, shapes or shard sizes), so it is not a reader to use, only
 * the floor under ours: a reader that parses model.json with JSON.parse can hardly be faster.
 */
async function bare(modelJson: URL): Promise<{ bytes: number; data: Float32Array }> {
  const json = readFileSync(modelJson);
  const manifest = (JSON.parse(json.toString('utf8')) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[] }).weightsManifest;
  for (const group of manifest) {
    let offset = 0;
    for (const weight of group.weights) {
      const length = weight.shape.reduce((a, b) => a * b, 4);
      if (weight.name !== 'conv1/kernel') {
        offset += length;
        continue;
      }
      const shard = statSync(new URL(group.paths[0]!, modelJson)).size;
      const data = new Float32Array(length / 4);
      const out = new Uint8Array(data.buffer);
      for (let done = 0; done < length; ) {
        const at = offset + done;
        const fd = openSync(new URL(group.paths[Math.floor(at / shard)]!, modelJson), 'r');
        done += readSync(fd, out, done, Math.min(length - done, shard - (at % shard)), at % shard);
        closeSync(fd);
      }
      return { bytes: json.byteLength + length, data };
    }
  }
  throw new Error('no conv1/kernel in the manifest');
}

async function naive(modelJson: URL): Promise<{ bytes: number; data: Float32Array }> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const { loadLayersModel } = await import('@tensorflow/tfjs-layers');
  await tf.setBackend('cpu');
  let bytes = 0;
  // tfjs' own loader fetches every shard of a weights group, as any IO handler must hand it all weights.
  const handler = {
    async load() {
      const text = await readFile(modelJson, 'utf8');
      bytes += Buffer.byteLength(text);
      const json = JSON.parse(text) as { modelTopology: object; weightsManifest: { paths: string[]; weights: object[] }[] };
      const parts: Uint8Array[] = [];
      for (const group of json.weightsManifest) for (const path of group.paths) parts.push(await readFile(new URL(path, modelJson)));
      const weightData = Buffer.concat(parts);
      bytes += weightData.byteLength;
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      };
    },
  };
  const model = await loadLayersModel(handler as never);
  const data = (await model.getLayer('conv1').getWeights()[0]!.data()) as Float32Array;
  model.dispose();
  return { bytes, data };
}

if (import.meta.main) {
  const [which = 'ours', file, runs = '7'] = process.argv.slice(2) as [ReadPath, string, string];
  const read = { ours, bare, naive }[which];
  const url = new URL(`file://${file}`);
  const times: number[] = [];
  let last: { bytes: number; data: Float32Array } = { bytes: 0, data: new Float32Array() };
  for (let i = 0; i < Number(runs) + 1; i++) {
    const started = performance.now();
    last = await read(url);
    if (i > 0) times.push(performance.now() - started); // the first run warms up module loading
  }
  let parseMs: number | undefined;
  if (which === 'ours') {
    const text = await readFile(url, 'utf8');
    const parses: number[] = [];
    for (let i = 0; i < Number(runs); i++) {
      const started = performance.now();
      JSON.parse(text);
      parses.push(performance.now() - started);
    }
    parseMs = median(parses);
  }
  const result: ReadResult = {
    path: which,
    medianMs: median(times),
    timesMs: times,
    bytesRead: last.bytes,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    checksum: last.data.reduce((a, b) => a + b, 0),
    ...(parseMs === undefined ? {} : { parseMs }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
