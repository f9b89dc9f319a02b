import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { stagingFolder, sweepStaging } from '../../lib/cache.ts';
import type { ModelFigures } from './vite-plugin.ts';

/**
 * The figures reach the built site in two steps. Each model's figures are written to one staging
 * folder beside the cache as soon as that model is drawn (in parallel with Astro's bundling and the
 * other models' pipelines), and the build keeps only their names; when the build is done, the
 * folder is moved into place with one rename. Writing thousands of files at the end of the build
 * would otherwise add their time to every build's, and holding them until then, their bytes to its
 * memory.
 */
export class FigureStaging {
  /** The staging folder, once stale ones (from killed builds) are swept and it is made. */
  readonly folder: Promise<URL>;
  /** Published names already written: two models' identical figures (the same photo) are one file. */
  private readonly written = new Set<string>();

  constructor(root: URL) {
    this.folder = sweepStaging(root).then(async () => {
      const folder = stagingFolder(root);
      await mkdir(folder, { recursive: true });
      return folder;
    });
  }

  /** Writes a model's figures under their published names; returns the model without the bytes, which the build no longer needs. */
  async stage(model: ModelFigures): Promise<ModelFigures> {
    const folder = await this.folder;
    const writes: Promise<void>[] = [];
    for (const [file, path] of model.paths) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (this.written.has(name)) continue;
      this.written.add(name);
      writes.push(writeFile(new URL(name, folder), model.result.files.get(file)!));
    }
    await Promise.all(writes);
    return { ...model, result: { ...model.result, files: new Map() } };
  }
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
