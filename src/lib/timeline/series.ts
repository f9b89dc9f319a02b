import { readdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { glob } from 'tinyglobby';
import { Conv1Error } from '../errors.ts';

/**
 * A training run's checkpoints as an ordered series. A series is named as a folder, a glob, or a
 * list of model specs and `{ step, model }` objects; steps come from the names unless given. Every
 * format the readers know may appear, mixed; only local folders and globs are listed, since neither
 * an http server nor npm offers a directory listing to trust.
 */

export interface Checkpoint {
  step: number;
  /** A model spec as `model` takes it: a path, file: URL, http(s) URL or npm: spec. */
  model: string;
}

export type SeriesSpec = string | readonly (string | Checkpoint)[];

/** File types a checkpoint may have. .json only where a name says it is a model (see isCheckpointName). */
const CHECKPOINT_EXTENSIONS = new Set(['.safetensors', '.onnx', '.h5', '.keras', '.pt', '.pth', '.ckpt', '.bin', '.json']);
/** TF.js weight shards sit beside model.json and are parts of a model, never checkpoints of their own. */
const SHARD_NAME = /^group\d+-shard\d+of\d+(\.bin)?$/;
const GLOB_CHARACTERS = /[*?[\]{}]/;

const HINT = 'Name each checkpoint with its step (ckpt-100.safetensors, step_2000/model.json), or list them in `checkpoints` as { step, model }.';

/**
 * The step a name carries: a number after "step", "global_step", "iter" or "iteration" wins (Lightning
 * writes epoch=3-step=1200.ckpt), else the last number in the name (ckpt-9, epoch_010).
 */
export function stepFromName(name: string): number | undefined {
  const stem = name.replace(/\.[a-z0-9]+$/i, '');
  const labelled = /(?:^|[^a-z])(?:global_step|step|iteration|iter)[=_-]?(\d+)/i.exec(stem);
  const last = /(\d+)(?!.*\d)/.exec(stem);
  const digits = labelled?.[1] ?? last?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/** The checkpoints of `spec` in step order. `root` resolves relative paths (a site's root). */
export async function resolveSeries(spec: SeriesSpec, root: URL): Promise<Checkpoint[]> {
  const listed = typeof spec === 'string' ? await listSeries(spec, root) : spec.map((entry) => (typeof entry === 'string' ? namedCheckpoint(entry) : checkedStep(entry)));
  return inStepOrder(listed, typeof spec === 'string' ? spec : 'checkpoints');
}

function namedCheckpoint(model: string): Checkpoint {
  // A model.json names its folder's step: runs/a/step-200/model.json is step 200.
  const file = basename(model.replace(/[?#].*$/, ''));
  const name = file === 'model.json' ? basename(dirname(model)) : file;
  const step = stepFromName(name);
  if (step === undefined) throw new Conv1Error(model, 'has no step number in its name, so its place in the series is unknown', HINT);
  return { step, model };
}

function checkedStep(entry: Checkpoint): Checkpoint {
  if (!Number.isSafeInteger(entry.step) || entry.step < 0)
    throw new Conv1Error(entry.model, `is given the step ${entry.step}; a step is a whole number from 0 up`, 'Give each { step, model } the training step (or epoch) it was saved at.');
  return entry;
}

function inStepOrder(checkpoints: Checkpoint[], from: string): Checkpoint[] {
  if (checkpoints.length === 0) throw new Conv1Error(from, 'names no checkpoint', 'Point `checkpoints` at a folder of checkpoint files, a glob that matches them, or a list of them.');
  // Names tie-break only for the error below; two checkpoints of one step cannot both be shown.
  const sorted = [...checkpoints].sort((a, b) => a.step - b.step || a.model.localeCompare(b.model, 'en', { numeric: true }));
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.step === sorted[i - 1]!.step)
      throw new Conv1Error(sorted[i]!.model, `has the same step (${sorted[i]!.step}) as ${sorted[i - 1]!.model}`, 'Keep one checkpoint per step, or give the steps explicitly as { step, model }.');
  return sorted;
}

async function listSeries(spec: string, root: URL): Promise<Checkpoint[]> {
  if (/^(https?:|npm:)/.test(spec))
    throw new Conv1Error(spec, 'is a remote location, which cannot be listed', 'List the remote checkpoints one by one in `checkpoints`: ["https://…/step-10.safetensors", …].');
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : fileURLToPath(new URL(spec, root));
  if (GLOB_CHARACTERS.test(spec)) return fromGlob(path, spec);
  const kind = await stat(path).catch(() => undefined);
  if (!kind?.isDirectory())
    throw new Conv1Error(path, kind ? 'is a file, not a folder of checkpoints' : 'does not exist', 'Point `checkpoints` at a folder, a glob such as runs/a/*.safetensors, or a list of checkpoint files.');
  return fromFolder(path);
}

async function fromGlob(pattern: string, spec: string): Promise<Checkpoint[]> {
  const files = await glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false });
  if (files.length === 0) throw new Conv1Error(spec, 'matches no file', 'Check the pattern against the checkpoint files’ names, e.g. runs/a/epoch-*.safetensors.');
  return files.filter((file) => isCheckpointName(basename(file))).map((file) => namedCheckpoint(pathToFileURL(file).href));
}

/** Checkpoint files in the folder, and subfolders holding a model.json (a TF.js checkpoint each). */
async function fromFolder(folder: string): Promise<Checkpoint[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const checkpoints: Checkpoint[] = [];
  for (const entry of entries) {
    const url = pathToFileURL(`${folder}/${entry.name}`);
    if (entry.isFile() && isCheckpointName(entry.name)) checkpoints.push(namedCheckpoint(url.href));
    else if (entry.isDirectory() && (await stat(`${folder}/${entry.name}/model.json`).catch(() => undefined))?.isFile())
      checkpoints.push(namedCheckpoint(`${url.href}/model.json`));
  }
  return checkpoints;
}

/**
 * Whether a file in a series folder is a checkpoint. JSON files count only when their name carries a
 * step: run.json or metrics.json beside the checkpoints are notes, not models.
 */
function isCheckpointName(name: string): boolean {
  const extension = /\.[^.]+$/.exec(name)?.[0]?.toLowerCase() ?? '';
  if (!CHECKPOINT_EXTENSIONS.has(extension) || SHARD_NAME.test(name)) return false;
  return extension !== '.json' || stepFromName(name) !== undefined;
}
