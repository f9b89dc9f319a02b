/**
 * The training runs behind the article "How conv1 learns", as `npm run train` recorded them in
 * training/runs/<run>/run.json (see src/train/train.ts for what each field means). Read at build
 * time; the runs' checkpoints reach the site through the conv1() models named here.
 */

export interface RunRecord {
  task: string;
  labels: 'real' | 'shuffled';
  seed: number;
  script: { package: string; sourceSha256: string; engines: Record<string, string> };
  config: {
    seed: number;
    steps: number;
    batchSize: number;
    learningRate: number;
    momentum: number;
    weightDecay: number;
    network: { conv1Filters: number; conv2Filters: number; grid: number };
    crops: { size: number; trainCrops: number; heldOutCrops: number; widths: number[]; heldOutShare: number };
    evaluateEvery: number;
    labels: 'real' | 'shuffled';
  };
  photos: string[];
  /** The batch loss of step s (before its update) at index s. */
  loss: number[];
  batchAccuracy: number[];
  heldOut: { step: number; loss: number; accuracy: number }[];
  wallSeconds: number;
  cpuSeconds: number;
  backend: string;
}

/** Each run's folder under training/runs/ and the name of its checkpoints under `models` in astro.config.mjs. */
export const RUNS = [
  { id: 'real', model: 'real-run' },
  { id: 'shuffled', model: 'shuffled-run' },
] as const;
export type RunId = (typeof RUNS)[number]['id'];

const records = import.meta.glob<RunRecord>('../../training/runs/*/run.json', { eager: true, import: 'default' });

export function runRecord(id: RunId): RunRecord {
  const record = records[`../../training/runs/${id}/run.json`];
  if (!record) throw new Error(`training/runs/${id}/run.json is missing, so the article "How conv1 learns" has no data for the ${id}-label run; run \`npm run train\` to write it`);
  return record;
}

/** A window of consecutive steps [from, to] and the mean batch loss over it. */
export interface LossWindow {
  from: number;
  to: number;
  mean: number;
}

/**
 * The batch loss averaged over windows that are equally wide on a log step axis (`perDecade` a
 * decade), step 0 on its own: one batch's loss jumps from step to step, and 2,000 points would crowd
 * the right end of a log axis while saying no more than their mean.
 */
export function lossWindows(loss: readonly number[], perDecade = 8): LossWindow[] {
  const edges = [0, 1];
  for (let k = 1; edges.at(-1)! < loss.length; k++) {
    const edge = Math.min(loss.length, Math.round(10 ** (k / perDecade)));
    if (edge > edges.at(-1)!) edges.push(edge);
  }
  return edges.slice(1).map((end, i) => {
    const window = loss.slice(edges[i]!, end);
    return { from: edges[i]!, to: end - 1, mean: window.reduce((sum, value) => sum + value, 0) / window.length };
  });
}

/** Where a window sits on a log step axis: its geometric centre (step 0 stays at 0). */
export function windowStep({ from, to }: LossWindow): number {
  return from === 0 ? 0 : Math.sqrt(from * to);
}
