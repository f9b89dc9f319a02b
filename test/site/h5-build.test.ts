/**
 * An Astro build of a small site whose model is a Keras .h5 file. The HDF5 reader runs h5wasm in a
 * worker thread it starts from its own source file (new URL('./keras-h5-worker.ts',
 * import.meta.url)); inside a build that code is loaded through Vite, so this checks that the
 * worker is still found and started there, and that its deadline stops a build on a file HDF5
 * would read forever.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKernel, renderGrid } from '../../src/lib/index.ts';
import { writeKerasH5 } from '../helpers/h5-fixture.ts';
import { runAstro } from '../helpers/run.ts';
import { writeSite, writeTinyPhoto } from '../helpers/small-site.ts';
import { conv2dLayer, convWeights, denseLayer, denseWeights, inputLayer, kerasLayer } from '../helpers/tfjs-fixture.ts';

const fixtures = new URL('./', import.meta.url);
const OPTIONS = `{ model: './model.h5', photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 48, responses: [0, 1], largeResponses: [1] }`;
let root: URL;

/** A site at root/<name>/ whose model.h5 is the small model, its bytes first passed through `damage`. */
async function h5Site(name: string, damage: (bytes: Uint8Array) => void = () => {}): Promise<URL> {
  const at = new URL(`${name}/`, root);
  await writeSite(at, OPTIONS);
  const model = new URL('model.h5', at);
  await writeKerasH5(fileURLToPath(model), {
    layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [3, 3], 8), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 2)],
    inputLayers: ['input_1'],
    weights: [...convWeights('conv1', [3, 3], 3, 8, 7), ...denseWeights('fc', 8, 2, 8)],
  });
  const bytes = new Uint8Array(await readFile(model));
  damage(bytes);
  await writeFile(model, bytes);
  await writeTinyPhoto(new URL('photo.png', at));
  return at;
}

beforeAll(async () => {
  root = new URL(`${(await mkdtemp(fileURLToPath(new URL('.fixture-h5-', fixtures)))).split('/').pop()}/`, fixtures);
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('a site whose model is a Keras .h5 file', () => {
  it('builds, with the kernel read in the HDF5 worker thread', async () => {
    const site = await h5Site('good');
    const run = await runAstro(['build'], { cwd: site });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/conv1 3×3×3×8 from \.\/model\.h5 \(.*; [\d,]+ bytes read\)/);
    const html = await readFile(new URL('dist/index.html', site), 'utf8');
    const grid = html.match(/href="\/(_astro\/conv1\/grid-[\w.-]+\.png)" download/)?.[1];
    expect(grid, html).toBeDefined();
    const published = await sharp(await readFile(new URL(`dist/${grid}`, site))).raw().toBuffer();
    expect(published.equals(Buffer.from(renderGrid(await readKernel(new URL('model.h5', site))).data))).toBe(true);
  });

  it('stops at the deadline, naming the file, when HDF5 would read it forever', async () => {
    // The size of the second global heap object (the keras_version string), made larger than the
    // heap: HDF5 then loops reading model_config (found by test/robustness/fuzz.test.ts).
    const site = await h5Site('endless', (bytes) => {
      const heap = Buffer.from(bytes).indexOf('GCOL');
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const second = heap + 16 + 16 + Math.ceil(Number(view.getBigUint64(heap + 16 + 8, true)) / 8) * 8;
      bytes[second + 8]! ^= 0x18;
    });
    const started = performance.now();
    const run = await runAstro(['build'], { cwd: site, env: { ASTRO_CONV1_HDF5_DEADLINE_MS: '2000' } });
    const output = (run.stdout + run.stderr).replace(/\u001b\[[0-9;]*m/g, '');
    expect(run.code).not.toBe(0);
    expect(output).toContain(fileURLToPath(new URL('model.h5', site)));
    expect(output).toContain('HDF5 did not finish opening it and reading its list of layers within 2 s, so the file is probably damaged');
    expect(performance.now() - started).toBeLessThan(60_000);
  });
});
