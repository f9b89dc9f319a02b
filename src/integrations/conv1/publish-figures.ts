import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { stagingFolder, sweepStaging } from '../../lib/cache.ts';
import type { ModelFigures } from './vite-plugin.ts';

/**
 * The figures reach the built site in two steps. As soon as they are known, every model's figures
 * are written to one staging folder beside the cache (in parallel with Astro's bundling); when the
 * build is done, the folder is moved into place with one rename. Writing hundreds of files at the
 * end of the build would otherwise add their time to every build's.
 */
export async function stageFigures(models: ModelFigures[], stagingRoot: URL): Promise<URL> {
  await sweepStaging(stagingRoot);
  const folder = stagingFolder(stagingRoot);
  await mkdir(folder, { recursive: true });
  // Published names carry a hash of their bytes: two models' identical figures (the same photo) are one file.
  const byName = new Map<string, Uint8Array>();
  for (const { result, paths } of models) for (const [file, path] of paths) byName.set(path.slice(path.lastIndexOf('/') + 1), result.files.get(file)!);
  await Promise.all([...byName].map(([name, bytes]) => writeFile(new URL(name, folder), bytes)));
  return folder;
}

/** Moves the staged folder to `target` (a folder URL in the output), replacing what was there; returns how many files it holds. */
export async function publishFigures(staged: URL, target: URL): Promise<number> {
  const count = (await readdir(staged)).length;
  await mkdir(new URL('..', target), { recursive: true });
  await rm(target, { recursive: true, force: true });
  try {
    await rename(staged, target);
  } catch (error) {
    // The cache and the output on different file systems: copy instead.
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await cp(staged, target, { recursive: true });
    await rm(staged, { recursive: true, force: true });
  }
  return count;
}
