import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { Conv1Data, Conv1Result } from './figures.ts';

/**
 * Figures cached by content key. An entry is a folder written under a temporary name and renamed
 * into place when complete; its manifest records every file's size and hash, and an entry whose
 * files do not match is treated as absent (and rebuilt), never used.
 */
interface Manifest {
  data: Conv1Data;
  files: Record<string, { size: number; sha256: string }>;
}

export function figureCache(dir: URL) {
  const entry = (key: string) => new URL(`${key}/`, dir);
  return {
    async get(key: string): Promise<Conv1Result | undefined> {
      let manifest: Manifest;
      try {
        manifest = JSON.parse(await readFile(new URL('manifest.json', entry(key)), 'utf8')) as Manifest;
      } catch {
        return undefined;
      }
      if (manifest.data?.key !== key) return undefined;
      const files = new Map<string, Uint8Array>();
      for (const [name, expected] of Object.entries(manifest.files)) {
        const bytes = await readFile(new URL(name, entry(key))).catch(() => undefined);
        if (!bytes || bytes.byteLength !== expected.size || sha256(bytes) !== expected.sha256) return undefined;
        files.set(name, bytes);
      }
      return { data: manifest.data, files };
    },

    async put({ data, files }: Conv1Result): Promise<void> {
      await mkdir(dir, { recursive: true });
      const staging = new URL(`.tmp-${randomBytes(6).toString('hex')}/`, dir);
      try {
        await mkdir(staging);
        const manifest: Manifest = { data, files: {} };
        for (const [name, bytes] of files) {
          await writeFile(new URL(name, staging), bytes);
          manifest.files[name] = { size: bytes.byteLength, sha256: sha256(bytes) };
        }
        await writeFile(new URL('manifest.json', staging), JSON.stringify(manifest));
        await rm(entry(data.key), { recursive: true, force: true });
        await rename(staging, entry(data.key)).catch(async (error: NodeJS.ErrnoException) => {
          // A concurrent build renamed the same entry into place first; identical inputs, identical files.
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    },

    /** Removes temporary folders left by builds that were killed mid-write. */
    async sweep(): Promise<void> {
      const names = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(names.filter((n) => n.startsWith('.tmp-')).map((n) => rm(new URL(`${n}/`, dir), { recursive: true, force: true })));
    },
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
