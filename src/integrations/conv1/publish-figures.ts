import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { stagingFolder, sweepStaging } from '../../lib/cache.ts';

/**
 * The figures reach the built site in two steps. As soon as they are known, they are written to a
 * staging folder beside the cache (in parallel with Astro's bundling); when the build is done, the
 * folder is moved into place with one rename. Writing hundreds of files at the end of the build
 * would otherwise add their time to every build's.
 */
export async function stageFigures(files: Map<string, Uint8Array>, paths: Map<string, string>, stagingRoot: URL): Promise<URL> {
  await sweepStaging(stagingRoot);
  const folder = stagingFolder(stagingRoot);
  await mkdir(folder, { recursive: true });
  await Promise.all([...paths].map(([name, path]) => writeFile(new URL(path.slice(path.lastIndexOf('/') + 1), folder), files.get(name)!)));
  return folder;
}

/** Moves the staged folder to `target` (a folder URL in the output), replacing what was there. */
export async function publishFigures(staged: URL, target: URL): Promise<void> {
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
}
