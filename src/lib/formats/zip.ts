import { crc32, inflateRawSync } from 'node:zlib';
import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';

/**
 * A minimal ZIP reader for model archives (.keras, PyTorch's .pt), through ModelFiles ranges:
 * the end record, the central directory, and then only the members asked for. Archives whose
 * names could escape a folder or collide, and members that claim to expand far beyond their
 * compressed size, are refused when the directory is read, before anything is extracted.
 */

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  files: ModelFiles;
  /** The archive's name among the model's files. */
  file: string;
  entries: ReadonlyMap<string, ZipEntry>;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const END_RECORD_BYTES = 22;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_END_BYTES = 56;
const MAX_COMMENT_BYTES = 0xffff;
/** A model archive has a handful of members; a directory this large is not one. */
const MAX_DIRECTORY_BYTES = 16 * 1024 * 1024;
/** No member is inflated in memory beyond this, whatever its compressed size. */
const MAX_INFLATED_BYTES = 2 ** 31 - 1;
/**
 * Weights compress by a few percent and JSON by 5–20×; a member above 1 MiB that claims more than
 * 100× is a decompression bomb, not a model file.
 */
const MAX_RATIO = 100;
const RATIO_FLOOR_BYTES = 1024 * 1024;
const ENCRYPTED = 0x1;

export function isZipHead(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** Reads and checks the central directory of the zip `name` (default: the model's main file). */
export async function readZipDirectory(files: ModelFiles, name = files.main): Promise<ZipArchive> {
  const where = files.describe(name);
  const fail = (reason: string) => new Conv1Error(where, reason, 'The archive is damaged or was not written by Keras or PyTorch; download or save the model again.');
  const size = await files.size(name);
  if (size < END_RECORD_BYTES) throw fail(`is ${size} bytes, too short to be a zip archive`);
  const end = await findEndRecord(files, name, size);
  if (!end) throw fail('has no zip end-of-directory record (it is truncated or not a zip archive)');
  const view = new DataView(end.record.buffer, end.record.byteOffset, end.record.byteLength);
  if (view.getUint16(4, true) !== 0 || view.getUint16(6, true) !== 0 || view.getUint16(8, true) !== view.getUint16(10, true))
    throw fail('is a multi-volume (split) zip archive');
  let count = view.getUint16(10, true);
  let directorySize = view.getUint32(12, true);
  let directoryOffset = view.getUint32(16, true);
  let directoryEnd = end.offset;
  // torch.save always writes ZIP64 end records (miniz with MZ_ZIP_FLAG_WRITE_ZIP64), whatever the size.
  const zip64 = await readZip64End(files, name, end.offset, fail);
  if (zip64) ({ count, directorySize, directoryOffset, directoryEnd } = zip64);
  if (directorySize > MAX_DIRECTORY_BYTES) throw fail(`has a ${directorySize}-byte central directory, more than the ${MAX_DIRECTORY_BYTES} bytes a model archive needs`);
  if (count * 46 > directorySize) throw fail(`claims ${count} members in a ${directorySize}-byte central directory`);
  if (directoryOffset + directorySize > directoryEnd) throw fail('has a central directory that runs past its end record');
  const directory = await files.read(name, directoryOffset, directorySize);
  const entries = parseDirectory(directory, count, directoryOffset, fail);
  return { files, file: name, entries };
}

/**
 * The end-of-central-directory record and its offset. Archives without a comment (Python's
 * zipfile, torch.save) end with it, so the last 22 bytes usually suffice; otherwise it sits
 * within the last 22 bytes plus a comment of at most 64 KiB, and no further back is searched.
 */
async function findEndRecord(files: ModelFiles, name: string, size: number): Promise<{ record: Uint8Array; offset: number } | undefined> {
  const last = await files.read(name, size - END_RECORD_BYTES, END_RECORD_BYTES);
  const lastView = new DataView(last.buffer, last.byteOffset, last.byteLength);
  if (lastView.getUint32(0, true) === END_OF_DIRECTORY && lastView.getUint16(20, true) === 0) return { record: last, offset: size - END_RECORD_BYTES };
  const tailLength = Math.min(size, END_RECORD_BYTES + MAX_COMMENT_BYTES);
  const tail = await files.read(name, size - tailLength, tailLength);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  // The record must account for every byte after it: a signature inside the comment does not.
  for (let at = tailLength - END_RECORD_BYTES; at >= 0; at--)
    if (view.getUint32(at, true) === END_OF_DIRECTORY && at + END_RECORD_BYTES + view.getUint16(at + 20, true) === tailLength)
      return { record: tail.subarray(at, at + END_RECORD_BYTES), offset: size - tailLength + at };
  return undefined;
}

/**
 * The ZIP64 end record, when a locator sits right before the end record: its 64-bit counts and
 * offsets replace the 16- and 32-bit ones (which then read 0xFFFF… or repeat small values).
 */
async function readZip64End(
  files: ModelFiles,
  name: string,
  endOffset: number,
  fail: (reason: string) => Conv1Error,
): Promise<{ count: number; directorySize: number; directoryOffset: number; directoryEnd: number } | undefined> {
  if (endOffset < ZIP64_LOCATOR_BYTES) return undefined;
  const locator = await files.read(name, endOffset - ZIP64_LOCATOR_BYTES, ZIP64_LOCATOR_BYTES);
  const locatorView = new DataView(locator.buffer, locator.byteOffset, locator.byteLength);
  if (locatorView.getUint32(0, true) !== ZIP64_LOCATOR) return undefined;
  const recordOffset = safeNumber(locatorView.getBigUint64(8, true), 'ZIP64 end record offset', fail);
  if (locatorView.getUint32(16, true) !== 1 || recordOffset + ZIP64_END_BYTES > endOffset - ZIP64_LOCATOR_BYTES) throw fail('has a damaged ZIP64 end locator');
  const record = await files.read(name, recordOffset, ZIP64_END_BYTES);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (view.getUint32(0, true) !== ZIP64_END) throw fail('has no ZIP64 end record where its locator points');
  if (view.getUint32(16, true) !== 0 || view.getUint32(20, true) !== 0) throw fail('is a multi-volume (split) zip archive');
  return {
    count: safeNumber(view.getBigUint64(32, true), 'member count', fail),
    directorySize: safeNumber(view.getBigUint64(40, true), 'central directory size', fail),
    directoryOffset: safeNumber(view.getBigUint64(48, true), 'central directory offset', fail),
    directoryEnd: recordOffset,
  };
}

function safeNumber(value: bigint, what: string, fail: (reason: string) => Conv1Error): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`gives a ${what} of ${value}, beyond any real file`);
  return Number(value);
}

function parseDirectory(directory: Uint8Array, count: number, directoryOffset: number, fail: (reason: string) => Conv1Error): Map<string, ZipEntry> {
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    const damaged = () => fail(`has a damaged central directory (member ${i + 1} of ${count})`);
    if (at + 46 > directory.length || view.getUint32(at, true) !== CENTRAL_HEADER) throw damaged();
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraStart = at + 46 + nameLength;
    const extraEnd = extraStart + view.getUint16(at + 30, true);
    const next = extraEnd + view.getUint16(at + 32, true);
    if (next > directory.length) throw damaged();
    // Bit 11 marks UTF-8 names; others are CP437, whose ASCII part is all a model archive uses.
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(directory.subarray(at + 46, extraStart));
    const entry: ZipEntry = {
      name,
      flags,
      method: view.getUint16(at + 10, true),
      crc32: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localHeaderOffset: view.getUint32(at + 42, true),
    };
    readZip64Extra(view, extraStart, extraEnd, entry, damaged);
    checkEntry(entry, fail);
    if (entries.has(name)) throw fail(`holds two members named "${name}"`);
    if (entry.localHeaderOffset >= directoryOffset) throw fail(`places the member "${name}" after its central directory`);
    entries.set(name, entry);
    at = next;
  }
  return entries;
}

/**
 * Sizes and offsets that do not fit 32 bits read 0xFFFFFFFF and are given in full, in this order,
 * by the ZIP64 extra field (header id 1) of the member's directory entry.
 */
function readZip64Extra(view: DataView, start: number, end: number, entry: ZipEntry, damaged: () => Conv1Error): void {
  const wanted = (['size', 'compressedSize', 'localHeaderOffset'] as const).filter((field) => entry[field] === 0xffffffff);
  if (wanted.length === 0) return;
  for (let at = start; at + 4 <= end; at += 4 + view.getUint16(at + 2, true)) {
    if (view.getUint16(at, true) !== 1) continue;
    if (at + 4 + wanted.length * 8 > end || view.getUint16(at + 2, true) < wanted.length * 8) throw damaged();
    wanted.forEach((field, k) => {
      const value = view.getBigUint64(at + 4 + k * 8, true);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged();
      entry[field] = Number(value);
    });
    return;
  }
  throw damaged();
}

function checkEntry(entry: ZipEntry, fail: (reason: string) => Conv1Error): void {
  const { name } = entry;
  if (name.length === 0 || name.includes('\0')) throw fail('holds a member with an empty or NUL-containing name');
  if (name.includes('\\')) throw fail(`holds a member named "${name}", with a backslash (a Windows path that could leave the archive's folder)`);
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw fail(`holds a member with the absolute path "${name}"`);
  if (name.split('/').includes('..')) throw fail(`holds a member named "${name}", whose ".." would leave the archive's folder`);
  if (entry.size > RATIO_FLOOR_BYTES && entry.size > entry.compressedSize * MAX_RATIO)
    throw fail(`declares that "${name}" expands from ${entry.compressedSize} to ${entry.size} bytes (more than ${MAX_RATIO}×), like a decompression bomb`);
}

/** Where a member's data starts, after checking that its local header agrees with the directory. */
async function dataOffset(archive: ZipArchive, entry: ZipEntry): Promise<number> {
  const { files, file } = archive;
  const where = files.describe(file);
  const hint = 'The archive is damaged; download or save the model again.';
  if (entry.flags & ENCRYPTED) throw new Conv1Error(where, `holds "${entry.name}" encrypted`, 'Save the model again without encryption.');
  if (entry.method !== 0 && entry.method !== 8)
    throw new Conv1Error(where, `compresses "${entry.name}" with zip method ${entry.method}; only stored (0) and deflate (8) are read`, 'Re-create the archive with standard deflate compression, or save the model again with Keras.');
  // Stored data is its own size; deflate adds at most 5 bytes per 64 KiB block to incompressible data.
  const maxStored = entry.method === 0 ? entry.size : entry.size + 5 * Math.ceil(entry.size / 65535) + 64;
  if (entry.compressedSize > maxStored || (entry.method === 0 && entry.compressedSize !== entry.size))
    throw new Conv1Error(where, `declares ${entry.compressedSize} stored bytes for the ${entry.size} bytes of "${entry.name}", which its method cannot produce`, hint);
  const header = await files.read(file, entry.localHeaderOffset, 30);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint32(0, true) !== LOCAL_HEADER) throw new Conv1Error(where, `has no local header where the directory places "${entry.name}"`, hint);
  const nameLength = view.getUint16(26, true);
  const localName = new TextDecoder(entry.flags & 0x800 ? 'utf-8' : 'latin1').decode(await files.read(file, entry.localHeaderOffset + 30, nameLength));
  // Two tools reading one archive must agree on what a member is called.
  if (localName !== entry.name) throw new Conv1Error(where, `names a member "${entry.name}" in its directory but "${localName}" in its local header`, hint);
  const start = entry.localHeaderOffset + 30 + nameLength + view.getUint16(28, true);
  if (start + entry.compressedSize > (await files.size(file))) throw new Conv1Error(where, `stores "${entry.name}" past its own end`, hint);
  return start;
}

/**
 * Where a stored member's bytes start in the archive, after the checks every extraction makes, so
 * that a reader can take ranges of it in place. Its CRC-32 covers the whole member and so is not
 * checked: the reader must check what it reads.
 */
export async function storedEntryOffset(archive: ZipArchive, entry: ZipEntry): Promise<number> {
  if (entry.method !== 0) throw new Error(`bug: "${entry.name}" is compressed (method ${entry.method}), so it cannot be read in place`);
  return dataOffset(archive, entry);
}

/** A member's bytes, checked against its size and CRC-32. */
export async function extractZipEntry(archive: ZipArchive, entry: ZipEntry): Promise<Uint8Array> {
  const { files, file } = archive;
  const where = files.describe(file);
  if (entry.size > MAX_INFLATED_BYTES)
    throw new Conv1Error(where, `declares ${entry.size} bytes for "${entry.name}", more than the ${MAX_INFLATED_BYTES} a member may expand to here`, 'The archive is damaged or not a model; download or save the model again.');
  const start = await dataOffset(archive, entry);
  const stored = await files.read(file, start, entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) data = stored;
  else {
    try {
      // maxOutputLength stops inflation at the declared size, whatever the stream says.
      data = inflateRawSync(stored, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (error) {
      throw new Conv1Error(where, `holds "${entry.name}" as deflate data that does not inflate to its declared ${entry.size} bytes (${(error as Error).message})`, 'The archive is damaged; download or save the model again.', { cause: error });
    }
  }
  checkContent(where, entry, data.length, crc32(data));
  return data;
}

function checkContent(where: string, entry: ZipEntry, length: number, crc: number): void {
  if (length !== entry.size)
    throw new Conv1Error(where, `holds "${entry.name}" as ${length} bytes but its directory declares ${entry.size}`, 'The archive is damaged; download or save the model again.');
  if (crc !== entry.crc32)
    throw new Conv1Error(where, `holds "${entry.name}" with a CRC-32 that does not match its content`, 'The archive is damaged; download or save the model again.');
}

/**
 * `length` bytes of a member from `offset` on. A stored member is read in place, only those bytes
 * (its CRC-32 covers the whole member, so it cannot be checked); a compressed one is extracted
 * whole, checked, and cut.
 */
export async function readZipEntryRange(archive: ZipArchive, entry: ZipEntry, offset: number, length: number): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > entry.size)
    throw new Conv1Error(archive.files.describe(archive.file), `has no bytes ${offset}–${offset + length} in "${entry.name}", which holds ${entry.size}`, 'The archive is damaged; download or save the model again.');
  if (entry.method !== 0) return (await extractZipEntry(archive, entry)).subarray(offset, offset + length);
  return archive.files.read(archive.file, (await dataOffset(archive, entry)) + offset, length);
}
