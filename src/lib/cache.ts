import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Conv1Data } from './figures.ts';

/**
 * Figures cached by content key. An entry is a folder written under a temporary name and renamed
 * into place when complete; its manifest records every file's size and hash and a hash of itself,
 * and an entry whose manifest or files do not match is treated as absent (and rebuilt), never used.
 */
interface Manifest<D> {
  data: D;
  files: Record<string, { size: number; sha256: string }>;
  /** sha256 of JSON.stringify([data, files]); JSON text written by JSON.stringify re-serialises identically. */
  sha256: string;
}

/** What an entry holds: data that names its own key (Conv1Data, a timeline's checkpoint), and files. */
export interface CacheEntry<D extends { key: string }> {
  data: D;
  files: Map<string, Uint8Array>;
}

export interface FigureStore {
  get<D extends { key: string } = Conv1Data>(key: string): Promise<CacheEntry<D> | undefined>;
  put<D extends { key: string }>(entry: CacheEntry<D>): Promise<void>;
}

export function figureCache(dir: URL): FigureStore & { sweep(): Promise<void> } {
  const entry = (key: string) => new URL(`${key}/`, dir);
  const cache = {
    async get<D extends { key: string } = Conv1Data>(key: string): Promise<CacheEntry<D> | undefined> {
      let manifest: Partial<Manifest<D>> | null;
      try {
        manifest = JSON.parse(await readFile(new URL('manifest.json', entry(key)), 'utf8')) as Partial<Manifest<D>> | null;
      } catch {
        return undefined;
      }
      // A manifest that was cut, edited or written by an older version fails its own hash.
      if (manifest?.sha256 !== manifestHash(manifest?.data, manifest?.files) || manifest.data?.key !== key || !manifest.files) return undefined;
      // All reads in flight at once: a warm build reads hundreds of small figures.
      const listed = Object.entries(manifest.files);
      const contents = await Promise.all(listed.map(([name]) => readFile(new URL(name, entry(key))).catch(() => undefined)));
      const files = new Map<string, Uint8Array>();
      for (const [i, [name, expected]] of listed.entries()) {
        const bytes = contents[i];
        if (!bytes || bytes.byteLength !== expected.size || sha256(bytes) !== expected.sha256) return undefined;
        files.set(name, bytes);
      }
      return { data: manifest.data, files };
    },

    async put<D extends { key: string }>({ data, files }: CacheEntry<D>): Promise<void> {
      await mkdir(dir, { recursive: true });
      const staging = stagingFolder(dir);
      try {
        await mkdir(staging);
        const listed: Manifest<D>['files'] = {};
        for (const [name, bytes] of files) {
          await writeFile(new URL(name, staging), bytes);
          listed[name] = { size: bytes.byteLength, sha256: sha256(bytes) };
        }
        const manifest: Manifest<D> = { data, files: listed, sha256: manifestHash(data, listed) };
        await writeFile(new URL('manifest.json', staging), JSON.stringify(manifest));
        // A concurrent build may have put the same entry in place first: identical inputs, identical files.
        await publish(staging, entry(data.key), async () => (await cache.get(data.key)) !== undefined);
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    },

    /** Removes temporary folders left by builds that were killed mid-write. */
    sweep: () => sweepStaging(dir),
  };
  return cache;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function manifestHash(data: unknown, files: unknown): string {
  return sha256(JSON.stringify([data, files]));
}

// ---------------------------------------------------------------------------------------------
// Folders written under a temporary name and renamed into place (figure entries, npm packages)

/** Past this age a temporary folder is abandoned whoever wrote it: writing one takes seconds. */
const ABANDONED_AFTER_MS = 10 * 60 * 1000;

/**
 * A new temporary folder's URL under `dir`. Its name carries the writer's process id, so that a
 * sweep removes only what a killed build left, never what a concurrent build is writing.
 */
export function stagingFolder(dir: URL): URL {
  return new URL(`.tmp-${process.pid}-${randomBytes(6).toString('hex')}/`, dir);
}

/** Removes the temporary folders under `dir` whose writer is gone. */
export async function sweepStaging(dir: URL): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith('.tmp-'))
      .map(async (name) => {
        const folder = new URL(name, dir);
        // Housekeeping must not fail a build: what cannot be removed now, the next sweep removes.
        if (await isAbandoned(name, folder)) await rm(folder, { recursive: true, force: true }).catch(() => {});
      }),
  );
}

async function isAbandoned(name: string, folder: URL): Promise<boolean> {
  const modified = (await stat(folder).catch(() => undefined))?.mtimeMs;
  if (modified === undefined) return false;
  const owner = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
  if (!Number.isSafeInteger(owner) || Date.now() - modified > ABANDONED_AFTER_MS) return true;
  // Our own id on a folder older than this process: a killed build that had the same id (as in
  // containers, where every build runs as the same small pid).
  if (owner === process.pid) return modified < performance.timeOrigin;
  try {
    process.kill(owner, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Renames the complete folder `staging` to `target`. When something is already there, `isValid`
 * decides: a valid copy (from a concurrent build) is kept and ours dropped; anything else is moved
 * aside in one rename before ours takes its place, so a reader never meets a half-deleted folder.
 */
export async function publish(staging: URL, target: URL, isValid: () => Promise<boolean>): Promise<void> {
  const from = fileURLToPath(staging);
  const to = fileURLToPath(target).replace(/\/+$/, '');
  const occupied = (error: unknown) => ['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '');
  try {
    await rename(from, to);
    return;
  } catch (error) {
    if (!occupied(error)) throw error;
  }
  if (await isValid()) return;
  const aside = fileURLToPath(stagingFolder(new URL('./', target.href.replace(/\/+$/, '')))).replace(/\/+$/, '');
  await rename(to, aside).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  try {
    await rename(from, to);
  } catch (error) {
    // Another build put its copy there in the meantime; it is as good as ours.
    if (!occupied(error)) throw error;
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}
