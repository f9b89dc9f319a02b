import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, glorotUniformWeights, type LayerReport } from '../../src/lib/analyse/index.ts';
import { readKernel, type Kernel } from '../../src/lib/index.ts';
import { runCli } from '../helpers/cli.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';
import { conv2dLayer, inputLayer, TempDirs, writeTfjsModel } from '../helpers/tfjs-fixture.ts';

const SHAPE: Kernel['shape'] = [7, 7, 3, 64];
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const report = (args: string[]) => runCli(['report', ...args]);

/** One text row per filter: index, then family, as the table prints them. */
const FILTER_ROW = new RegExp(`^\\s*\\d+  (${FAMILIES.join('|')})\\b`, 'gm');

/** A TF.js model holding `conv1` (7×7×3×64, the given weights) and, after it, `conv2` (1×1×64×4, all zero). */
async function model(conv1: Float32Array): Promise<string> {
  const dir = await dirs.make('conv1-report-');
  const url = await writeTfjsModel(dir, {
    layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [7, 7], 64, [2, 2]), conv2dLayer('conv2', 'conv1', [1, 1], 4)],
    inputLayers: ['input_1'],
    weights: [
      { name: 'conv1/kernel', shape: [...SHAPE], values: conv1 },
      { name: 'conv2/kernel', shape: [1, 1, 64, 4], values: new Float32Array(64 * 4) },
    ],
    shardBytes: 1 << 20,
  });
  return fileURLToPath(url);
}

function standardDeviation(data: Float32Array): number {
  const mean = data.reduce((a, b) => a + b, 0) / data.length;
  return Math.sqrt(data.reduce((sum, w) => sum + (w - mean) ** 2, 0) / data.length);
}

describe('astro-conv1 report', () => {
  let untrained: string;
  beforeAll(async () => {
    untrained = await model(glorotUniformWeights(SHAPE, 1));
  });

  it('passes the real ResNet50 (exit 0): 64 filter rows, the summary, a trained-looking verdict', async () => {
    const run = await report(['resnet50']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(FILTER_ROW)).toHaveLength(64);
    expect(run.stdout).toMatch(/^ #  family +orient° +select +freq +Gabor R² +colour +noise +L2 +marks$/m);
    expect(run.stdout).toMatch(/^layer +conv1 {2}7 × 7 × 3 × 64, BGR$/m);
    expect(run.stdout).toMatch(/^families +edge \d+, colour-contrast \d+, colour-blob \d+, grey-blob \d+, centre-surround \d+, other \d+, dead 0$/m);
    expect(run.stdout).toMatch(/^noise +median 0\.0\d, mean 0\.\d\d, max 0\.\d\d; noisy filters: none$/m);
    expect(run.stdout).toMatch(/^dead +none \(L2 under /m);
    expect(run.stdout).toMatch(/^negated pairs +(\d+–\d+ \(-0\.\d\d\), ){4}\d+–\d+ \(-0\.\d\d\): expected, not a fault$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^verdict +Trained-looking: /);
  });

  it('--json prints the LayerReport of the real ResNet50, families summing to 64', async () => {
    const run = await report(['resnet50', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const parsed = JSON.parse(run.stdout) as LayerReport;
    expect(parsed.verdict.kind).toBe('trained-looking');
    expect(parsed.shape).toEqual(SHAPE);
    expect(parsed.filters).toHaveLength(64);
    expect(Object.keys(parsed.families)).toEqual([...FAMILIES]);
    expect(Object.values(parsed.families).reduce((a, b) => a + b, 0)).toBe(64);
    expect(parsed.negatedPairs.length).toBeGreaterThan(0);
  });

  it('fails a glorot-uniform random layer (exit 1): noisy filters marked, the noisy verdict', async () => {
    const run = await report([untrained]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout.match(FILTER_ROW)).toHaveLength(64);
    expect(run.stdout.match(/ noisy$/gm)!.length).toBeGreaterThan(32);
    expect(run.stdout).toMatch(/^verdict +Noisy: looks untrained or under-regularised/m);
  });

  it('--json fails the random layer too (exit 1), with the noisy verdict in the JSON', async () => {
    const run = await report([untrained, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const parsed = JSON.parse(run.stdout) as LayerReport;
    expect(parsed.layer).toBe('conv1');
    expect(parsed.verdict.kind).toBe('noisy');
    expect(parsed.noise!.noisyFilters.length).toBeGreaterThan(32);
  });

  it('fails a dead layer (exit 1), chosen with --layer', async () => {
    const run = await report([untrained, '--layer', 'conv2', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const parsed = JSON.parse(run.stdout) as LayerReport;
    expect(parsed.layer).toBe('conv2');
    expect(parsed.verdict.kind).toBe('dead');
    expect(parsed.strength.deadFilters).toEqual([0, 1, 2, 3]);
  });

  it('passes a partly noisy layer (exit 0): a warning in the verdict, not a failed run', async () => {
    // ResNet50's conv1 under uniform noise of 0.6 × its standard deviation: the weakest filters drown.
    const trained = await readKernel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
    const noise = glorotUniformWeights(SHAPE, 2);
    const strength = (0.6 * standardDeviation(trained.data)) / standardDeviation(noise);
    const run = await report([await model(trained.data.map((w, i) => w + strength * noise[i]!)), '--channels', 'bgr', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const parsed = JSON.parse(run.stdout) as LayerReport;
    expect(parsed.channelOrder).toBe('bgr');
    expect(parsed.verdict.kind).toBe('partly-noisy');
  });

  it('exits 2 without a model and 3 for a model that does not exist, as the other commands do', async () => {
    const usage = await report([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('astro-conv1: report needs a model');
    expect(usage.stderr).toMatch(/^ {2}report <model> /m);
    const missing = await report(['/nonexistent/model.json']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('/nonexistent/model.json: does not exist');
  });
});
