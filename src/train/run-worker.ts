import { parentPort, workerData } from 'node:worker_threads';
import { train, type ScriptVersion, type TrainConfig } from './train.ts';

/** One training run in its own thread, so that two runs use two cores. */
export interface RunRequest {
  config: TrainConfig;
  /** file: URLs, as strings: URL objects do not cross to a worker. */
  out: string;
  root: string;
  script: ScriptVersion;
}

const { config, out, root, script } = workerData as RunRequest;
const record = await train(config, new URL(out), new URL(root), script, (log) => parentPort!.postMessage({ log }));
parentPort!.postMessage({ record });
