/**
 * npm run train: the two runs the site shows, side by side (one thread each, one per core), written
 * to training/runs/real/ and training/runs/shuffled/, and training/runs/timing.json with the wall
 * time of the whole. The configuration below is the one the committed checkpoints came from.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scriptVersion } from './script-version.ts';
import type { LabelMode, RunRecord, TrainConfig } from './train.ts';
import type { RunRequest } from './run-worker.ts';

const ROOT = new URL('../../', import.meta.url);
const RUNS = new URL('training/runs/', ROOT);

const CONFIG: Omit<TrainConfig, 'labels'> = {
  seed: 20240601,
  steps: 2000,
  batchSize: 32,
  learningRate: 0.05,
  momentum: 0.9,
  weightDecay: 5e-3,
  network: { conv1Filters: 32, conv2Filters: 64, grid: 4 },
  crops: { size: 64, trainCrops: 1152, heldOutCrops: 576, widths: [320, 480, 640], heldOutShare: 0.25 },
  evaluateEvery: 100,
  backend: 'wasm',
};

function runInWorker(request: RunRequest): Promise<RunRecord> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./run-worker.ts', import.meta.url), { workerData: request });
    worker.on('message', (message: { log: string } | { record: RunRecord }) => ('log' in message ? console.log(message.log) : resolve(message.record)));
    worker.on('error', reject);
    worker.on('exit', (code) => code !== 0 && reject(new Error(`the ${request.config.labels}-label run stopped with exit code ${code}`)));
  });
}

const started = performance.now();
const loadBefore = loadavg();
const script = await scriptVersion(ROOT);
const records = await Promise.all(
  (['real', 'shuffled'] as const satisfies readonly LabelMode[]).map((labels) =>
    runInWorker({ config: { ...CONFIG, labels }, out: new URL(`${labels}/`, RUNS).href, root: ROOT.href, script }),
  ),
);
const tenths = (x: number): number => Math.round(x * 10) / 10;
// The load averages tell how much else the machine ran: other work stretches the wall time, not the CPU time.
const timing = {
  wallSeconds: tenths((performance.now() - started) / 1000),
  runs: Object.fromEntries(records.map((record) => [record.labels, { wallSeconds: tenths(record.wallSeconds), cpuSeconds: tenths(record.cpuSeconds) }])),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadAverageBefore: loadBefore.map(tenths), loadAverageAfter: loadavg().map(tenths) },
};
await writeFile(new URL('timing.json', RUNS), `${JSON.stringify(timing, null, 2)}\n`);
for (const record of records)
  console.log(`${record.labels}: final batch loss ${record.loss.at(-1)?.toFixed(3)}, held-out accuracy ${record.heldOut.at(-1)?.accuracy.toFixed(3)}, ${record.wallSeconds.toFixed(0)} s (${record.cpuSeconds.toFixed(0)} s of CPU)`);
console.log(`both runs: ${timing.wallSeconds} s`);
