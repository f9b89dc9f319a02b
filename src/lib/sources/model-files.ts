import { open, realpath, stat } from 'node:fs/promises';
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
  /**
   * The file's path on this machine, for libraries that must open files themselves (h5wasm), or
   * undefined when the model is not on local disk. Reads made that way bypass `read`, so such a
   * reader reports its own byte count through `countBytes`.
   */
  localPath(name: string): string | undefined;
  /** Adds bytes read outside `read` (see localPath) to the account. */
  countBytes(name: string, bytes: number): void;
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

export class LocalModelFiles implements ModelFiles {
  readonly label: string;
  readonly main: string;
  bytesRead = 0;
  readonly filesRead: string[] = [];
  private readonly folder: URL;
  private realFolder: Promise<string> | undefined;
  private readonly sizes = new Map<string, number>();

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

  localPath(name: string): string {
    return fileURLToPath(this.url(name));
  }

  countBytes(name: string, bytes: number): void {
    this.bytesRead += bytes;
    if (!this.filesRead.includes(name)) this.filesRead.push(name);
  }

  /**
   * Names are checked lexically in url(); a symlink inside the folder could still lead out of it, so
   * every file other than the main one must really live under the folder's real path.
   */
  private async checkInsideFolder(name: string): Promise<void> {
    if (name === this.main) return;
    this.realFolder ??= realpath(this.folder).then((path) => path + sep);
    const [folder, target] = await Promise.all([this.realFolder, realpath(this.url(name)).catch(() => undefined)]);
    if (target !== undefined && !target.startsWith(folder))
      throw new Conv1Error(
        this.label,
        `refers to the file "${name}", a link that leads outside the model's folder (to ${target})`,
        "A model's files must be regular files inside its folder; replace the link with the file itself.",
      );
  }

  async size(name: string): Promise<number> {
    const known = this.sizes.get(name);
    if (known !== undefined) return known;
    await this.checkInsideFolder(name);
    try {
      const info = await stat(this.url(name));
      if (!info.isFile()) throw new Error('not a regular file');
      this.sizes.set(name, info.size);
      return info.size;
    } catch (error) {
      throw missingFile(this.describe(name), name === this.main, error);
    }
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    await this.checkInsideFolder(name);
    let handle;
    try {
      handle = await open(this.url(name), 'r');
    } catch (error) {
      throw missingFile(this.describe(name), name === this.main, error);
    }
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      this.bytesRead += done;
      if (!this.filesRead.includes(name)) this.filesRead.push(name);
      if (done < length)
        throw new Conv1Error(
          this.describe(name),
          `is truncated: needed bytes ${offset}–${offset + length} but the file ends at ${offset + done}`,
          'The file is incomplete; download or export the model again.',
        );
      return out;
    } finally {
      await handle.close();
    }
  }
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
  localPath(name: string): string | undefined {
    return this.inner.localPath(name);
  }
  countBytes(name: string, bytes: number): void {
    this.inner.countBytes(name, bytes);
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
