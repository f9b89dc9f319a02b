import { beforeAll, describe, expect, it } from 'vitest';
import { analyseLayer, glorotUniformKernel, TRAINED_MEDIAN_NOISE, withGaussianNoise, type LayerReport } from '../../src/lib/analyse/index.ts';
import { readKernel, type Kernel } from '../../src/lib/index.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';

/**
 * The rules of thumb on controls whose answer is known: a trained first layer (Keras ResNet50 conv1),
 * the same layer before training (glorot-uniform, as Keras initialises it), and the trained layer
 * drowned step by step in Gaussian noise.
 */

/** Noise strengths, in units of the trained kernel's standard deviation. */
const NOISE_STRENGTHS = [0, 0.25, 0.5, 1, 2, 4];
/** The verdict is still "trained-looking" at this strength… */
const STILL_TRAINED_AT = 0.25;
/** …no longer at this one (partly noisy: the weakest filters drown first)… */
const NO_LONGER_TRAINED_AT = 0.5;
/** …and "noisy" from this one on, where the noise carries as much energy as the average filter. */
const NOISY_FROM = 1;

let kernel: Kernel;
let trained: LayerReport;

beforeAll(async () => {
  kernel = await readKernel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
  const start = performance.now();
  trained = analyseLayer(kernel);
  console.log(`analyseLayer(ResNet50 conv1), first run (cold JIT): ${(performance.now() - start).toFixed(0)} ms wall`);
});

function summary(report: LayerReport): string {
  const families = Object.entries(report.families)
    .map(([family, count]) => `${family} ${count}`)
    .join(', ');
  const noise = report.noise && `median ${report.noise.median.toFixed(3)}, mean ${report.noise.mean.toFixed(3)}, range ${report.noise.min.toFixed(3)}–${report.noise.max.toFixed(3)}`;
  return [`families: ${families}`, `noise: ${noise}`, `verdict: ${report.verdict.summary}`, ...report.verdict.notes].join('\n  ');
}

describe('ResNet50 conv1 (trained)', () => {
  it('is mostly oriented edge and colour filters, smooth, and trained-looking', () => {
    console.log(`ResNet50 conv1\n  ${summary(trained)}`);
    const { families } = trained;
    expect(families.edge).toBeGreaterThanOrEqual(20);
    expect(families.edge + families['colour-contrast'] + families['colour-blob']).toBeGreaterThan(32);
    expect(families.other).toBeLessThanOrEqual(10);
    expect(families.dead).toBe(0);
    expect(trained.noise!.median).toBeLessThan(TRAINED_MEDIAN_NOISE / 2);
    expect(trained.noise!.noisyFilters).toEqual([]);
    expect(trained.verdict.kind).toBe('trained-looking');
  });

  it('has negated pairs, reported as expected rather than as faults', () => {
    expect(trained.negatedPairs.length).toBeGreaterThanOrEqual(3);
    for (const pair of trained.negatedPairs) expect(pair.cosine).toBeLessThanOrEqual(-0.8);
    expect(trained.verdict.notes.join(' ')).toMatch(/negated pairs.*not a fault/);
  });

  it('finds its high-frequency Gabors sharp but not noisy', () => {
    const sharp = trained.filters.filter((f) => f.family === 'edge' && f.spectrum.highFrequencyShare > 0.8);
    expect(sharp.length).toBeGreaterThan(5);
    for (const filter of sharp) expect(filter.noise.score).toBeLessThan(0.1);
  });

  it('survives JSON unchanged', () => {
    expect(JSON.parse(JSON.stringify(trained))).toEqual(trained);
  });

  it('analyses 64 filters of 7×7×3 well under a second', () => {
    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    analyseLayer(kernel);
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`analyseLayer(ResNet50 conv1), second run: ${(performance.now() - wallStart).toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`);
    // CPU time, not wall time: other test files and builds share the machine.
    expect(cpuMs).toBeLessThan(600);
  });
});

describe('ResNet50 conv1 before training (glorot-uniform, seed 1)', () => {
  it('is flagged as noise', () => {
    const random = analyseLayer(glorotUniformKernel(kernel, 1));
    console.log(`glorot-uniform init\n  ${summary(random)}`);
    expect(random.verdict.kind).toBe('noisy');
    expect(random.noise!.median).toBeGreaterThan(0.5);
    expect(random.noise!.noisyFilters.length).toBe(64);
    expect(random.families.edge + random.families['colour-contrast']).toBe(0);
    expect(random.duplicates).toEqual([]);
    expect(random.negatedPairs).toEqual([]);
  });
});

describe('ResNet50 conv1 plus Gaussian noise', () => {
  let reports: Map<number, LayerReport>;

  beforeAll(() => {
    reports = new Map(NOISE_STRENGTHS.map((strength) => [strength, analyseLayer(withGaussianNoise(kernel, strength, 7))]));
    console.log(
      'noise strength → median noise score, verdict\n  ' +
        [...reports].map(([strength, report]) => `${strength} × std → ${report.noise!.median.toFixed(3)}, ${report.verdict.kind}`).join('\n  '),
    );
  });

  it('raises the layer noise score monotonically', () => {
    const medians = NOISE_STRENGTHS.map((strength) => reports.get(strength)!.noise!.median);
    for (let i = 1; i < medians.length; i++) expect(medians[i]).toBeGreaterThan(medians[i - 1]!);
  });

  it(`flips the verdict from trained-looking between ${STILL_TRAINED_AT} and ${NO_LONGER_TRAINED_AT} × std, to noisy by ${NOISY_FROM} × std`, () => {
    const kind = (strength: number) => reports.get(strength)!.verdict.kind;
    for (const strength of NOISE_STRENGTHS.filter((s) => s <= STILL_TRAINED_AT)) expect(kind(strength)).toBe('trained-looking');
    expect(kind(NO_LONGER_TRAINED_AT)).toBe('partly-noisy');
    for (const strength of NOISE_STRENGTHS.filter((s) => s >= NOISY_FROM)) expect(kind(strength)).toBe('noisy');
  });
});
