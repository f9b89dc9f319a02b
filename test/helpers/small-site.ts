/**
 * The smallest inputs a whole build can run on, for tests that build many times: a TF.js model of
 * 8 filters of 3×3×3, a 64×48 photo, the same model packed as an npm package, and a one-page Astro
 * site that uses the components. Everything is generated from seeds, so every run writes the same
 * bytes.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { sriSha512, tarball } from './npm-registry.ts';
import { conv2dLayer, convWeights, inputLayer, mulberry32, TempDirs, writeTfjsModel } from './tfjs-fixture.ts';

const PROJECT = new URL('../../', import.meta.url);

/** input_1 → conv1 (3×3, 3 → 8); returns the URL of model.json. */
export async function writeSmallModel(dir: URL, seed = 7): Promise<URL> {
  return writeTfjsModel(dir, {
    layers: [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [3, 3], 8)],
    inputLayers: ['input_1'],
    weights: convWeights('conv1', [3, 3], 3, 8, seed),
    shardBytes: 4096,
  });
}

/** A 64×48 PNG of seeded noise over a gradient: enough structure for every filter to respond. */
export async function writeTinyPhoto(file: URL, seed = 3): Promise<void> {
  const width = 64;
  const height = 48;
  const next = mulberry32(seed);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) pixels[(y * width + x) * 3 + c] = Math.min(255, Math.round((x * 4 + y * 2 * c) % 256 * 0.7 + next() * 76));
  await writeFile(file, await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

export interface ModelPackage {
  name: string;
  version: string;
  tarball: Uint8Array;
  integrity: string;
  /** The `model` option for it: npm:<name>@<version>/model/model.json#<integrity>. */
  spec: string;
  /** The model's files as they appear under model/ in the package. */
  files: Map<string, Buffer>;
}

/**
 * The small model as an npm package. `padBytes` adds a file of that many seeded bytes beside it,
 * to make the download and the unpacking take a while.
 */
export async function smallModelPackage(name: string, version = '1.0.0', padBytes = 0): Promise<ModelPackage> {
  const dirs = new TempDirs();
  try {
    const folder = await dirs.make('conv1-package-');
    await writeSmallModel(folder);
    const files = await readTree(folder);
    const contents: Record<string, Uint8Array | string> = { 'package.json': JSON.stringify({ name, version }) };
    for (const [file, bytes] of files) contents[`model/${file}`] = bytes;
    if (padBytes > 0) {
      const next = mulberry32(11);
      contents['padding.bin'] = Uint8Array.from({ length: padBytes }, () => Math.floor(next() * 256));
    }
    const bytes = tarball(contents);
    const integrity = sriSha512(bytes);
    return { name, version, tarball: bytes, integrity, spec: `npm:${name}@${version}/model/model.json#${integrity}`, files };
  } finally {
    await dirs.cleanup();
  }
}

/** Every file under `dir`, by path relative to it (with "/"), sorted by path. */
export async function readTree(dir: URL): Promise<Map<string, Buffer>> {
  const tree = new Map<string, Buffer>();
  const walk = async (folder: URL, prefix: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory()) await walk(new URL(`${encodeURIComponent(entry.name)}/`, folder), `${prefix}${entry.name}/`);
      else tree.set(`${prefix}${entry.name}`, await readFile(new URL(encodeURIComponent(entry.name), folder)));
    }
  };
  await walk(dir, '');
  return tree;
}

/** Names of the entries of `dir` (none when it does not exist) that start with ".tmp-", at any depth up to `depth`. */
export async function leftoverTemporaries(dir: URL, depth = 2): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.startsWith('.tmp-')) found.push(entry.name);
    else if (entry.isDirectory() && depth > 1)
      found.push(...(await leftoverTemporaries(new URL(`${encodeURIComponent(entry.name)}/`, dir), depth - 1)).map((name) => `${entry.name}/${name}`));
  }
  return found;
}

/**
 * A one-page site at `root` using the integration with `integrationOptions` (JavaScript source of
 * the options object) and Astro's cacheDir at `cacheDir` (relative to root, or absolute).
 */
export async function writeSite(root: URL, integrationOptions: string, cacheDir = './.cache/'): Promise<void> {
  await mkdir(new URL('src/pages/', root), { recursive: true });
  const fromRoot = (to: string) => relative(fileURLToPath(root), fileURLToPath(new URL(to, PROJECT)));
  await writeFile(
    new URL('astro.config.mjs', root),
    `import { defineConfig } from 'astro/config';
import conv1 from '${fromRoot('src/integrations/conv1/index.ts')}';
export default defineConfig({ cacheDir: ${JSON.stringify(cacheDir)}, integrations: [conv1(${integrationOptions})] });
`,
  );
  const components = relative(fileURLToPath(new URL('src/pages/', root)), fileURLToPath(new URL('src/components/', PROJECT)));
  await writeFile(
    new URL('src/pages/index.astro', root),
    `---
import Conv1Grid from '${components}/Conv1Grid.astro';
import Conv1Filter from '${components}/Conv1Filter.astro';
import Conv1Convolution from '${components}/Conv1Convolution.astro';
import Conv1ModelInfo from '${components}/Conv1ModelInfo.astro';
---
<html lang="en"><head><title>conv1</title></head><body>
<Conv1ModelInfo />
<Conv1Grid />
{Array.from({ length: 8 }, (_, i) => <Conv1Filter index={i} />)}
<Conv1Convolution filter={1} photo="photo" />
</body></html>
`,
  );
}
