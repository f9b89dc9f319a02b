/**
 * Reading ResNet50's conv1 kernel: ours (model.json plus the kernel's byte range) against the naive
 * path, tfjs' loadLayersModel of the whole model followed by getLayer('conv1').getWeights()[0].
 * Run as `node bench/read-conv1.ts ours|naive <model.json> <runs>` in a fresh process, so that the
 * peak memory (maxRSS) belongs to that path alone; prints one JSON line.
 */
import { readFile } from 'node:fs/promises';
import { readModel } from '../src/lib/read-kernel.ts';

export interface ReadResult {
  path: 'ours' | 'naive';
  medianMs: number;
  bytesRead: number;
  peakRssMb: number;
  checksum: number;
  /** Ours only: JSON.parse of model.json's text alone, median over as many runs, in the same process after the reads. */
  parseMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function ours(modelJson: URL): Promise<{ bytes: number; data: Float32Array }> {
  const { kernel } = await readModel(modelJson, { layer: 'conv1' });
  return { bytes: kernel.bytesRead, data: kernel.data };
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
  const [which, file, runs = '7'] = process.argv.slice(2);
  const read = which === 'naive' ? naive : ours;
  const url = new URL(`file://${file}`);
  const times: number[] = [];
  let last: { bytes: number; data: Float32Array } = { bytes: 0, data: new Float32Array() };
  for (let i = 0; i < Number(runs) + 1; i++) {
    const started = performance.now();
    last = await read(url);
    if (i > 0) times.push(performance.now() - started); // the first run warms up module loading
  }
  let parseMs: number | undefined;
  if (which !== 'naive') {
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
    path: which === 'naive' ? 'naive' : 'ours',
    medianMs: median(times),
    bytesRead: last.bytes,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    checksum: last.data.reduce((a, b) => a + b, 0),
    ...(parseMs === undefined ? {} : { parseMs }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
