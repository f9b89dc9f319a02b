import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalModelFiles } from '../../src/lib/sources/model-files.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { randomValues, TempDirs } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** Reads up to 1 MiB are synchronous and larger ones go through the thread pool; both must agree. */
const SYNC_LIMIT = 1024 * 1024;

/** Byte-for-byte equality; toEqual would compare a megabyte element by element. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** A model folder with model.json and a shard of `shardBytes` seeded bytes. */
async function folder(shardBytes: number): Promise<{ dir: URL; main: URL; shard: Uint8Array }> {
  const dir = await dirs.make();
  const main = new URL('model.json', dir);
  await writeFile(main, '{}');
  const shard = new Uint8Array(randomValues(Math.ceil(shardBytes / 4), 7).buffer, 0, shardBytes);
  await writeFile(new URL('weights.bin', dir), shard);
  return { dir, main, shard };
}

describe('LocalModelFiles', () => {
  it.each([
    ['a small range, read synchronously', 100, 37_632],
    ['a range of exactly the synchronous limit', 0, SYNC_LIMIT],
    ['a range past the synchronous limit, read through the thread pool', 3, SYNC_LIMIT + 5],
  ])('reads %s byte for byte and counts it', async (_, offset, length) => {
    const { main, shard } = await folder(SYNC_LIMIT + 64);
    const files = new LocalModelFiles(main);
    expect(await files.size('weights.bin')).toBe(shard.length);
    const bytes = await files.read('weights.bin', offset, length);
    expect(bytes.length).toBe(length);
    expect(same(bytes, shard.subarray(offset, offset + length))).toBe(true);
    // Sized first and read afterwards, as the readers do: both go through the same checks.
    expect(same(await files.read('weights.bin', offset, 16), shard.subarray(offset, offset + 16))).toBe(true);
    expect(files.bytesRead).toBe(length + 16);
    expect(files.filesRead).toEqual(['weights.bin']);
  });

  it.each([
    ['synchronously', 1000],
    ['through the thread pool', SYNC_LIMIT + 1000],
  ])('refuses a range past the end of the file, read %s, and counts what it got', async (_, size) => {
    const { main } = await folder(size);
    const files = new LocalModelFiles(main);
    const error = await conv1Error(files.read('weights.bin', size - 10, 20));
    expect(error.file).toBe(fileURLToPath(new URL('weights.bin', main)));
    expect(error.reason).toBe(`is truncated: needed bytes ${size - 10}–${size + 10} but the file ends at ${size}`);
    expect(files.bytesRead).toBe(10);
  });

  it('names a missing file, whichever way it would be read', async () => {
    const { main } = await folder(16);
    const files = new LocalModelFiles(main);
    for (const length of [10, SYNC_LIMIT + 1]) {
      const error = await conv1Error(files.read('missing.bin', 0, length));
      expect(error.reason).toBe('does not exist');
      expect(error.hint).toContain('copy the whole model folder');
    }
    expect((await conv1Error(files.size('missing.bin'))).reason).toBe('does not exist');
  });

  it('refuses a folder where the main file should be', async () => {
    const dir = await dirs.make();
    await mkdir(new URL('model.json/', dir));
    const error = await conv1Error(new LocalModelFiles(new URL('model.json', dir)).size('model.json'));
    expect(error.reason).toBe('cannot be read (not a regular file)');
  });

  it('follows a link inside the folder, and refuses one that leads out of it on every use', async () => {
    const { dir, main, shard } = await folder(64);
    const outside = await dirs.make();
    await writeFile(new URL('secret.bin', outside), shard);
    await symlink(fileURLToPath(new URL('weights.bin', dir)), fileURLToPath(new URL('alias.bin', dir)));
    await symlink(fileURLToPath(new URL('secret.bin', outside)), fileURLToPath(new URL('escape.bin', dir)));
    const files = new LocalModelFiles(main);
    expect(await files.size('alias.bin')).toBe(64);
    expect(same(await files.read('alias.bin', 0, 64), shard)).toBe(true);
    for (const use of [() => files.size('escape.bin'), () => files.read('escape.bin', 0, 8), () => files.read('escape.bin', 0, 8)])
      expect((await conv1Error(use())).reason).toContain("a link that leads outside the model's folder");
    expect(files.bytesRead).toBe(64);
  });

  it('refuses a name that is not a plain relative path before touching the disk', async () => {
    const { main } = await folder(16);
    const files = new LocalModelFiles(main);
    for (const name of ['../weights.bin', '/etc/passwd', 'a/./b.bin'])
      expect((await conv1Error(files.read(name, 0, 4))).reason).toContain('not a plain relative path');
  });
});
