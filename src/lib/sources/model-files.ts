import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Conv1Error } from '../errors.ts';

/**
 * The files of one model, read through ranges. A format reader never touches the file system
 * itself: it asks for a byte range of a file named relative to the model, so that path checks
 * and byte accounting happen once, here.
 */
export interface ModelFiles {
  /** Human-readable location of the main file, for messages. */
  readonly label: string;
  /** Name of the main file (e.g. model.json), relative to the model's folder. */
  readonly main: string;
  size(name: string): Promise<number>;
  read(name: string, offset: number, length: number): Promise<Uint8Array>;
  /** Bytes read so far, over all files. */
  readonly bytesRead: number;
  /** Files a read was made from, in the order they were first read. */
  readonly filesRead: readonly string[];
  /** Where a file lives, for error messages. */
  describe(name: string): string;
}

/** Refuses names that could leave the model's folder or are not plain relative paths. */
export function checkRelativeName(name: string, from: string): void {
  const bad =
    name.length === 0 ||
    name.startsWith('/') ||
    name.startsWith('\\') ||
    /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(name) ||
    /[?#\\\0]/.test(name) ||
    name.split('/').some((part) => part === '..' || part === '.' || part === '');
  if (bad)
    throw new Conv1Error(
      from,
      `refers to the file "${name}", which is not a plain relative path inside the model's folder`,
      'Weight file names must be relative paths without "..", "/", "\\", "?", "#" or a URL scheme; re-export the model or fix its manifest.',
    );
}

/**
 * Local files are sized, resolved and read with synchronous calls: a trip through libuv's thread
 * pool costs more than a stat, a realpath or a read of a few hundred kilobytes from the page cache,
 * and a model takes a handful of such calls (its metadata, one kernel). Reads larger than this go
 * through the pool, so as not to hold up the event loop.
 */
const MAX_SYNC_READ_BYTES = 1024 * 1024;

export class LocalModelFiles implements ModelFiles {
  readonly label: string;
  readonly main: string;
  bytesRead = 0;
  readonly filesRead: string[] = [];
  private readonly folder: URL;
  private realFolder: string | undefined;
  private readonly sizes = new Map<string, number>();
  /** Paths by name, as most files are sized, checked and read, and each use would convert the URL anew. */
  private readonly paths = new Map<string, string>();
  /** Files found to lie inside the folder, which need no second realpath when read after sizing. */
  private readonly inside = new Set<string>();

  constructor(mainFile: URL) {
    this.folder = new URL('.', mainFile);
    this.main = decodeURIComponent(mainFile.pathname.slice(this.folder.pathname.length));
    this.label = decodeURIComponent(mainFile.pathname);
  }

  private url(name: string): URL {
    if (name !== this.main) checkRelativeName(name, this.label);
    return new URL(name.split('/').map(encodeURIComponent).join('/'), this.folder);
  }

  describe(name: string): string {
    return decodeURIComponent(this.url(name).pathname);
  }

  private localPath(name: string): string {
    let path = this.paths.get(name);
    if (path === undefined) {
      path = fileURLToPath(this.url(name));
      this.paths.set(name, path);
    }
    return path;
  }

  /**
   * Names are checked lexically in url(); a symlink inside the folder could still lead out of it, so
   * every file other than the main one must really live under the folder's real path.
   */
  private checkInsideFolder(name: string): void {
    if (name === this.main || this.inside.has(name)) return;
    // .native: realpath(3), as fs/promises' realpath uses; the plain one resolves links in JavaScript.
    const folder = (this.realFolder ??= realpathSync.native(this.folder) + sep);
    const path = this.localPath(name);
    let target: string;
    try {
      target = realpathSync.native(path);
    } catch {
      // A missing file is reported by the stat or open that follows, in its own words.
      return;
    }
    if (!target.startsWith(folder))
      throw new Conv1Error(
        this.label,
        `refers to the file "${name}", a link that leads outside the model's folder (to ${target})`,
        "A model's files must be regular files inside its folder; replace the link with the file itself.",
      );
    this.inside.add(name);
  }

  async size(name: string): Promise<number> {
    const known = this.sizes.get(name);
    if (known !== undefined) return known;
    this.checkInsideFolder(name);
    try {
      const info = statSync(this.localPath(name));
      if (!info.isFile()) throw new Error('not a regular file');
      this.sizes.set(name, info.size);
      return info.size;
    } catch (error) {
      throw missingFile(this.describe(name), name === this.main, error);
    }
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    this.checkInsideFolder(name);
    const bytes = await (length <= MAX_SYNC_READ_BYTES ? this.readSync(name, offset, length) : this.readAsync(name, offset, length));
    this.bytesRead += bytes.length;
    if (!this.filesRead.includes(name)) this.filesRead.push(name);
    if (bytes.length < length)
      throw new Conv1Error(
        this.describe(name),
        `is truncated: needed bytes ${offset}–${offset + length} but the file ends at ${offset + bytes.length}`,
        'The file is incomplete; download or export the model again.',
      );
    return bytes;
  }

  /** `length` bytes from `offset`, or fewer where the file ends sooner. */
  private async readSync(name: string, offset: number, length: number): Promise<Uint8Array> {
    let fd;
    try {
      fd = openSync(this.localPath(name), 'r');
    } catch (error) {
      throw missingFile(this.describe(name), name === this.main, error);
    }
    try {
      return await readUpTo(length, (out, at) => readSync(fd, out, at, length - at, offset + at));
    } finally {
      closeSync(fd);
    }
  }

  /** As readSync, through the thread pool. */
  private async readAsync(name: string, offset: number, length: number): Promise<Uint8Array> {
    let handle;
    try {
      handle = await open(this.localPath(name), 'r');
    } catch (error) {
      throw missingFile(this.describe(name), name === this.main, error);
    }
    try {
      return await readUpTo(length, async (out, at) => (await handle.read(out, at, length - at, offset + at)).bytesRead);
    } finally {
      await handle.close();
    }
  }
}

/** `length` bytes by as many reads as it takes (`readAt` fills `out` from `at`, 0 at the end of the file), or fewer where the file ends sooner. */
async function readUpTo(length: number, readAt: (out: Uint8Array, at: number) => number | Promise<number>): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const bytesRead = await readAt(out, done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return out.subarray(0, done);
}

function missingFile(path: string, isMain: boolean, error: unknown): Conv1Error {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
  return new Conv1Error(
    path,
    `${why}`,
    isMain
      ? 'Check the `model` option: it should point at a model file such as model.json (a path relative to the project root, or npm:<package>@<version>/<path>).'
      : "A file the model's manifest names is missing; copy the whole model folder, not only model.json.",
    { cause: error },
  );
}

/** Largest start of the main file kept in memory to serve a second read of it. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Format detection reads the main file's first bytes, then the reader reads it from the start
 * again. This wrapper serves that prefix from memory, so it is neither fetched nor counted twice,
 * whatever the source.
 */
export class HeadCachingFiles implements ModelFiles {
  private readonly inner: ModelFiles;
  private head: Uint8Array | undefined;

  constructor(inner: ModelFiles) {
    this.inner = inner;
  }

  get label(): string {
    return this.inner.label;
  }
  get main(): string {
    return this.inner.main;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  get filesRead(): readonly string[] {
    return this.inner.filesRead;
  }
  size(name: string): Promise<number> {
    return this.inner.size(name);
  }
  describe(name: string): string {
    return this.inner.describe(name);
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    if (name !== this.main || offset !== 0) return this.inner.read(name, offset, length);
    if (this.head && length <= this.head.length) return this.head.slice(0, length);
    if (this.head) {
      const out = new Uint8Array(length);
      out.set(this.head);
      out.set(await this.inner.read(name, this.head.length, length - this.head.length), this.head.length);
      return out;
    }
    const bytes = await this.inner.read(name, 0, length);
    if (length <= MAX_HEAD_BYTES) this.head = bytes.slice();
    return bytes;
  }
}
