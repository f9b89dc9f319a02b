import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Tensor, Tensor1D, Tensor4D, Variable } from '@tensorflow/tfjs-core';
import { loadEngine, type Tf, type TrainBackend } from './engine.ts';
import { crossEntropy, imagesToInput, initialParameters, KERNEL_NAMES, logits, lossAndGradients, PARAMETER_NAMES, type NetworkShape, type ParameterName, type Parameters } from './network.ts';
import { cutCrops, type CropOptions, type CropPool, type PhotoCrops } from './photos.ts';
import { permutation, randomStream } from './random.ts';
import { encodeSafetensors } from './safetensors-writer.ts';

/**
 * One training run: the crop pools, Keras-default initial weights, SGD with momentum, L2 weight decay
 * on the kernels and a cosine learning-rate decay, a checkpoint at every log-spaced step, and run.json
 * beside them. The seed decides everything random, so a run repeated with the same seed writes the
 * same bytes.
 */

export type LabelMode = 'real' | 'shuffled';

export interface TrainConfig {
  seed: number;
  /** real: each crop's photo; shuffled: a fixed random permutation of those labels over the pool. */
  labels: LabelMode;
  steps: number;
  batchSize: number;
  /** The first step's learning rate; it falls along a half cosine to 0 at the last step. */
  learningRate: number;
  momentum: number;
  /** λ of an L2 penalty ½·λ·‖W‖² on the kernels (PyTorch SGD's weight_decay; Keras' l2(λ/2)). */
  weightDecay: number;
  network: Omit<NetworkShape, 'classes'>;
  crops: CropOptions;
  /** Held-out accuracy is measured every this many steps, and at every checkpoint. */
  evaluateEvery: number;
  backend: TrainBackend;
}

export interface Evaluation {
  step: number;
  loss: number;
  accuracy: number;
}

export interface RunRecord {
  task: string;
  labels: LabelMode;
  seed: number;
  script: ScriptVersion;
  config: TrainConfig;
  photos: readonly string[];
  /** Training loss of each step's batch, before that step's update. */
  loss: number[];
  /** Share of each step's batch that the network got right, before that step's update. */
  batchAccuracy: number[];
  /** On the held-out crops, always with their true labels. */
  heldOut: Evaluation[];
  checkpoints: { step: number; file: string }[];
  wallSeconds: number;
  /** CPU time of the thread that trained: the wall time on a core of its own, whatever else the machine ran. */
  cpuSeconds: number;
  backend: string;
}

export interface ScriptVersion {
  package: string;
  /** sha256 of the training code, src/train/*.ts, in name order. */
  sourceSha256: string;
  engines: Record<string, string>;
}

const TASK =
  'Classify which of the photographs a square crop was cut from (one class per photograph). Crops are cut at several scales from the left part of each photo, flipped and jittered in brightness, contrast and colour balance, once: the training pool is fixed. Held-out crops come from a strip on the right of each photo that training never sees. Input: RGB scaled from 0–255 to [−1, 1].';
const LABELS: Record<LabelMode, string> = {
  real: 'Labels: the photo each crop came from.',
  shuffled: 'Labels: shuffled over the training pool, each crop keeping one random label for the whole run, so that fitting them means memorising crops; held-out accuracy is still measured against the true photos.',
};

/** 0, 1, 2, 5, 10, 20, 50, 100, … up to `last`, and `last` itself. */
export function checkpointSteps(last: number): number[] {
  const steps = new Set<number>();
  for (let decade = 1; decade <= last; decade *= 10) for (const step of [decade, 2 * decade, 5 * decade]) if (step <= last) steps.add(step);
  return [0, ...[...steps].sort((a, b) => a - b).filter((step) => step !== last), ...(last > 0 ? [last] : [])];
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(5, '0')}.safetensors`;
}

export async function train(config: TrainConfig, out: URL, root: URL, script: ScriptVersion, log: (line: string) => void = () => {}): Promise<RunRecord> {
  const started = performance.now();
  const cpuBefore = threadCpuSeconds();
  const tf = await loadEngine(config.backend);
  const crops = await cutCrops(config.crops, config.seed, root);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const record: RunRecord = {
    task: `${TASK} ${LABELS[config.labels]}`,
    labels: config.labels,
    seed: config.seed,
    script,
    config,
    photos: crops.photos,
    loss: [],
    batchAccuracy: [],
    heldOut: [],
    checkpoints: [],
    wallSeconds: 0,
    cpuSeconds: 0,
    backend: `tfjs-core ${tf.version_core} on ${tf.getBackend()}`,
  };
  try {
    await runSteps(tf, crops, config, out, record, log);
  } finally {
    // Variables are registered by name: a later run in this thread must find none left.
    tf.disposeVariables();
  }
  record.wallSeconds = (performance.now() - started) / 1000;
  record.cpuSeconds = threadCpuSeconds() - cpuBefore;
  await writeFile(new URL('run.json', out), formatRecord(record));
  return record;
}

async function runSteps(tf: Tf, { train: pool, heldOut, photos }: PhotoCrops, config: TrainConfig, out: URL, record: RunRecord, log: (line: string) => void): Promise<void> {
  const labels = config.labels === 'real' ? pool.labels : shuffledLabels(pool, config.seed);
  const parameters = initialParameters(tf, { ...config.network, classes: photos.length }, config.seed);
  const velocity = Object.fromEntries(PARAMETER_NAMES.map((name) => [name, tf.variable(tf.zerosLike(parameters[name]), false)])) as Record<ParameterName, Variable>;
  const batches = batchOrder(pool.count, config);
  const saveAt = new Set(checkpointSteps(config.steps));
  const metadata = { run: config.labels, seed: String(config.seed), script: `${record.script.package} ${record.script.sourceSha256}` };
  for (let step = 0; ; step++) {
    if (saveAt.has(step)) {
      const file = checkpointName(step);
      await writeFile(new URL(file, out), checkpoint(tf, parameters, { ...metadata, step: String(step) }));
      record.checkpoints.push({ step, file });
    }
    if (saveAt.has(step) || step % config.evaluateEvery === 0) {
      record.heldOut.push({ step, ...evaluate(tf, parameters, heldOut, config.network.grid) });
      log(`${config.labels} step ${step}: batch loss ${record.loss.at(-1)?.toFixed(4) ?? '–'}, held-out accuracy ${record.heldOut.at(-1)!.accuracy.toFixed(3)}`);
    }
    if (step === config.steps) return;
    const rate = (config.learningRate * (1 + Math.cos((Math.PI * step) / config.steps))) / 2;
    const { loss, correct } = trainStep(tf, parameters, velocity, pool, labels, batches.subarray(step * config.batchSize, (step + 1) * config.batchSize), rate, config);
    record.loss.push(loss);
    record.batchAccuracy.push(correct / config.batchSize);
  }
}

/** process.threadCpuUsage came with Node 23.9; @types/node 22 does not know it yet. */
function threadCpuSeconds(): number {
  const { user, system } = (process as unknown as { threadCpuUsage: () => NodeJS.CpuUsage }).threadCpuUsage();
  return (user + system) / 1e6;
}

/** Every crop's label replaced by another crop's, through a permutation drawn from the seed: the same classes in the same numbers, at random. */
function shuffledLabels(pool: CropPool, seed: number): Uint8Array {
  const order = permutation(pool.count, randomStream(seed, 'shuffled labels'));
  return Uint8Array.from(order, (from) => pool.labels[from]!);
}

/** The crops of every step, epoch after epoch, each epoch in a fresh order. */
function batchOrder(count: number, { steps, batchSize, seed }: TrainConfig): Uint32Array {
  const random = randomStream(seed, 'batches');
  const order = new Uint32Array(steps * batchSize);
  for (let at = 0; at < order.length; at += count) order.set(permutation(count, random).subarray(0, Math.min(count, order.length - at)), at);
  return order;
}

function trainStep(tf: Tf, parameters: Parameters, velocity: Record<ParameterName, Variable>, pool: CropPool, labels: Uint8Array, batch: Uint32Array, rate: number, config: TrainConfig): { loss: number; correct: number } {
  return tf.tidy(() => {
    const [input, target] = gather(tf, pool, labels, batch);
    const { loss, gradients, logits } = lossAndGradients(tf, parameters, input, target, config.network.grid);
    for (const name of PARAMETER_NAMES) {
      const decayed = KERNEL_NAMES.includes(name) ? tf.add(gradients[name], tf.mul(parameters[name], config.weightDecay)) : gradients[name];
      velocity[name].assign(tf.add(tf.mul(velocity[name], config.momentum), decayed));
      parameters[name].assign(tf.sub(parameters[name], tf.mul(velocity[name], rate)));
    }
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), 'int32'));
    return { loss: loss.dataSync()[0]!, correct: correct.dataSync()[0]! };
  });
}

function gather(tf: Tf, pool: CropPool, labels: Uint8Array, batch: Uint32Array): [Tensor4D, Tensor1D] {
  const crop = pool.size * pool.size * 3;
  const pixels = new Uint8Array(batch.length * crop);
  batch.forEach((index, i) => pixels.set(pool.pixels.subarray(index * crop, (index + 1) * crop), i * crop));
  return [imagesToInput(tf, pixels, batch.length, pool.size), tf.tensor1d(Int32Array.from(batch, (index) => labels[index]!), 'int32')];
}

const EVALUATION_BATCH = 128;

function evaluate(tf: Tf, parameters: Parameters, pool: CropPool, grid: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let from = 0; from < pool.count; from += EVALUATION_BATCH) {
    const batch = Uint32Array.from({ length: Math.min(EVALUATION_BATCH, pool.count - from) }, (_, i) => from + i);
    tf.tidy(() => {
      const [input, target] = gather(tf, pool, pool.labels, batch);
      const scores = logits(tf, parameters, input, grid);
      loss += crossEntropy(tf, scores, target).total.dataSync()[0]!;
      correct += tf.sum(tf.cast(tf.equal(tf.argMax(scores, 1), target), 'int32')).dataSync()[0]!;
    });
  }
  return { loss: loss / pool.count, accuracy: correct / pool.count };
}

/**
 * All parameters as a PyTorch state dict would hold them: conv kernels OIHW, the dense kernel [out, in].
 * The dense kernel's inputs stay in tfjs' order (cell row, cell column, filter), not PyTorch's flattening.
 */
function checkpoint(tf: Tf, parameters: Parameters, metadata: Record<string, string>): Uint8Array {
  const tensors = PARAMETER_NAMES.map((name) =>
    tf.tidy(() => {
      const value: Tensor = parameters[name];
      const stored = value.rank === 4 ? tf.transpose(value, [3, 2, 0, 1]) : value.rank === 2 ? tf.transpose(value) : value;
      return { name, shape: stored.shape, values: stored.dataSync() as Float32Array };
    }),
  );
  return encodeSafetensors(tensors, { format: 'pt', ...metadata });
}

/** One top-level entry a line; numbers at 5 significant digits: enough to plot, a fraction of the bytes. */
function formatRecord(record: RunRecord): string {
  const round = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(5)) : value);
  return `{\n${Object.entries(record).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value, round)}`).join(',\n')}\n}\n`;
}
