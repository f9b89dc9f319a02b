import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { ScriptVersion } from './train.ts';

/** Packages whose code decides the bytes of a checkpoint, besides the training script itself. */
const ENGINES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', 'sharp'];

/** What made a run: the package's version, a hash of src/train/*.ts, and the engines' versions. */
export async function scriptVersion(root: URL): Promise<ScriptVersion> {
  const folder = new URL('src/train/', root);
  const hash = createHash('sha256');
  for (const name of (await readdir(folder)).filter((file) => file.endsWith('.ts')).sort()) hash.update(`${name}\0`).update(await readFile(new URL(name, folder)));
  // Read from disk: some packages (sharp) export no ./package.json.
  const version = async (manifest: string): Promise<string> => (JSON.parse(await readFile(new URL(manifest, root), 'utf8')) as { version: string }).version;
  return {
    package: `astro-conv1 ${await version('package.json')}`,
    sourceSha256: hash.digest('hex'),
    engines: Object.fromEntries(await Promise.all(ENGINES.map(async (name) => [name, await version(`node_modules/${name}/package.json`)]))),
  };
}
