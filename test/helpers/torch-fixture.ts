/**
 * PyTorch checkpoints for tests, two ways.
 *
 * `writeTorchFixtures` runs a script under real PyTorch (Debian's python3-torch, for the system
 * Python) in a fresh folder, once per test file: what torch.save writes, and the values torch
 * itself reports, next to it. Without PyTorch it fails, with the packages to install.
 *
 * `Pickle` writes pickles opcode by opcode and `torchArchive` wraps one in the zip torch.save
 * writes, for files no honest torch.save produces (hostile or broken ones). Writing a pickle is
 * safe; these are never loaded in Python.
 */
import { fileURLToPath } from 'node:url';
import { zipBytes, type ZipMember } from './h5-fixture.ts';
import { runPython } from './python.ts';
import type { TempDirs } from './tfjs-fixture.ts';

const PRELUDE = `
import os, sys
try:
    import torch, torchvision
except ImportError as error:
    raise ModuleNotFoundError(f"{error}: these tests write their checkpoints with real PyTorch; install python3-torch python3-torchvision") from error
os.chdir(sys.argv[1])
torch.manual_seed(0)

def save_hwio(tensor, path):
    """The kernel as torch reports it, float32, laid out HWIO like the readers' output, as raw bytes."""
    with open(path, "wb") as f:
        f.write(tensor.detach().float().permute(2, 3, 1, 0).contiguous().numpy().tobytes())
`;

/** Runs `script` (after a prelude importing torch and torchvision, in a new folder of `dirs`) and returns the folder. */
export async function writeTorchFixtures(dirs: TempDirs, script: string): Promise<URL> {
  const dir = await dirs.make('conv1-torch-');
  await runPython(`${PRELUDE}\n${script}`, [fileURLToPath(dir)]);
  return dir;
}

/** A float32 file save_hwio wrote. */
export function float32s(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

// ---------------------------------------------------------------------------------------------
// Pickles by hand

/** A pickle written opcode by opcode (protocol 2 unless told). Methods append and return `this`. */
export class Pickle {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    for (const byte of bytes) this.out.push(byte);
    return this;
  }

  private text(value: string): number[] {
    return [...new TextEncoder().encode(value)];
  }

  private u32(value: number): number[] {
    return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
  }

  proto(version = 2): this {
    return this.raw(0x80, version);
  }

  /** GLOBAL: `module name` as two lines. */
  global(module: string, name: string): this {
    return this.raw(0x63, ...this.text(`${module}\n${name}\n`));
  }

  str(value: string): this {
    const bytes = this.text(value);
    return this.raw(0x58, ...this.u32(bytes.length), ...bytes);
  }

  int(value: number): this {
    if (value >= 0 && value < 256) return this.raw(0x4b, value);
    if (value >= 0 && value < 65536) return this.raw(0x4d, value & 0xff, value >> 8);
    if (value >= -(2 ** 31) && value < 2 ** 31) return this.raw(0x4a, ...this.u32(value >>> 0));
    // LONG1 of 8 bytes, two's complement.
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, BigInt(value), true);
    return this.raw(0x8a, 8, ...bytes);
  }

  bool(value: boolean): this {
    return this.raw(value ? 0x88 : 0x89);
  }

  none(): this {
    return this.raw(0x4e);
  }

  mark(): this {
    return this.raw(0x28);
  }

  /** TUPLE: the values since the last mark. */
  tuple(): this {
    return this.raw(0x74);
  }

  emptyTuple(): this {
    return this.raw(0x29);
  }

  /** A tuple of ints, mark included. */
  ints(values: readonly number[]): this {
    this.mark();
    for (const value of values) this.int(value);
    return this.tuple();
  }

  emptyDict(): this {
    return this.raw(0x7d);
  }

  emptyList(): this {
    return this.raw(0x5d);
  }

  setitem(): this {
    return this.raw(0x73);
  }

  setitems(): this {
    return this.raw(0x75);
  }

  append(): this {
    return this.raw(0x61);
  }

  reduce(): this {
    return this.raw(0x52);
  }

  build(): this {
    return this.raw(0x62);
  }

  newobj(): this {
    return this.raw(0x81);
  }

  binpersid(): this {
    return this.raw(0x51);
  }

  put(index: number): this {
    return index < 256 ? this.raw(0x71, index) : this.raw(0x72, ...this.u32(index));
  }

  get(index: number): this {
    return index < 256 ? this.raw(0x68, index) : this.raw(0x6a, ...this.u32(index));
  }

  stop(): this {
    return this.raw(0x2e);
  }

  /** OrderedDict(), as torch.save starts a state dict. */
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').emptyTuple().reduce();
  }

  /** torch.save's persistent id of a storage: ('storage', torch.<type>, key, 'cpu', numel). */
  storage(key: string, numel: number, type = 'FloatStorage'): this {
    return this.mark().str('storage').global('torch', type).str(key).str('cpu').int(numel).tuple().binpersid();
  }

  /** _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()), as torch.save writes a tensor. */
  tensor(spec: TorchTensor): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.storage(spec.key, spec.numel ?? elementCount(spec.size) + (spec.offset ?? 0), spec.type);
    return this.int(spec.offset ?? 0).ints(spec.size).ints(spec.stride ?? contiguousStrides(spec.size)).bool(false).orderedDict().tuple().reduce();
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface TorchTensor {
  /** The state dict key, e.g. conv1.weight. */
  name: string;
  /** The storage's key in the archive (data/<key>). */
  key: string;
  size: number[];
  stride?: number[];
  offset?: number;
  /** The storage's declared element count; by default what size and offset need. */
  numel?: number;
  type?: string;
}

export function elementCount(size: readonly number[]): number {
  return size.reduce((a, b) => a * b, 1);
}

function contiguousStrides(size: readonly number[]): number[] {
  const strides = size.map(() => 1);
  for (let i = size.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * size[i + 1]!;
  return strides;
}

/** The pickle of a state dict of `tensors`, as torch.save writes it (OrderedDict, one SETITEMS). */
export function stateDictPickle(tensors: readonly TorchTensor[]): Uint8Array {
  const pickle = new Pickle().proto().orderedDict().mark();
  for (const tensor of tensors) pickle.str(tensor.name).tensor(tensor);
  return pickle.setitems().stop().bytes();
}

export interface TorchArchiveOptions {
  /** The folder every member sits under (torch.save uses the file's name without extension). */
  folder?: string;
  /** Members after torch's own. */
  extra?: ZipMember[];
}

/**
 * The members torch.save writes around `pickle` and the storages (data/<key>). Real torch.save
 * files (with their ZIP64 end records, data descriptors and alignment padding) come from
 * writeTorchFixtures; this plain zip is one torch.load reads as well.
 */
export function torchArchive(pickle: Uint8Array, storages: Record<string, Uint8Array>, options: TorchArchiveOptions = {}): Uint8Array {
  const folder = options.folder ?? 'archive';
  return zipBytes(
    [
      { name: `${folder}/data.pkl`, data: pickle },
      ...Object.entries(storages).map(([key, data]) => ({ name: `${folder}/data/${key}`, data })),
      { name: `${folder}/version`, data: new TextEncoder().encode('3\n') },
      ...(options.extra ?? []),
    ],
  );
}

/** Little-endian float32 bytes of `values`. */
export function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}
