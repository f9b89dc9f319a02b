import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isPickleHead } from '../../src/lib/formats/pytorch.ts';
import { Conv1Error, readKernel } from '../../src/lib/index.ts';
import { zipBytes } from '../helpers/h5-fixture.ts';
import { randomValues, TempDirs } from '../helpers/tfjs-fixture.ts';
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** The pickle torch.save writes first in a legacy file: PROTO 2, LONG1 of its magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_TORCH = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
/** pickle.dumps({}, protocol=4): PROTO 4, FRAME, EMPTY_DICT, MEMOIZE, STOP. */
const PROTOCOL_4 = Buffer.from([0x80, 0x04, 0x95, 0x04, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e]);

/** The members torch.save (≥ 1.6) writes for a one-tensor state dict, with the ZIP64 end records it always writes. */
function torchZip(): Uint8Array {
  const tensor = Buffer.from(randomValues(9, 131).buffer);
  return zipBytes([
    { name: 'model/data.pkl', data: PROTOCOL_4 },
    { name: 'model/byteorder', data: Buffer.from('little') },
    { name: 'model/data/0', data: tensor },
    { name: 'model/version', data: Buffer.from('3\n') },
    { name: 'model/.data/serialization_id', data: Buffer.from('0123456789') },
  ], { zip64: true });
}

async function file(name: string, bytes: Uint8Array): Promise<{ path: string; url: URL }> {
  const path = join(fileURLToPath(await dirs.make()), name);
  await writeFile(path, bytes);
  return { path, url: pathToFileURL(path) };
}

function expectSafetensorsAdvice(error: Conv1Error, path: string): void {
  expect(error.file).toBe(path);
  expect(error.reason).toContain('PyTorch checkpoint');
  expect(error.reason).toContain('loading a pickle runs code');
  expect(error.hint).toContain("save_file(model.state_dict(), 'model.safetensors')");
  expect(error.hint).toContain('from safetensors.torch import save_file');
  expect(error.hint).toContain('torch.onnx.export');
}

describe('PyTorch checkpoints are refused with export advice', () => {
  it('refuses a torch.save zip (.pt)', async () => {
    const { path, url } = await file('model.pt', torchZip());
    const error = await conv1Error(readKernel(url));
    expectSafetensorsAdvice(error, path);
    expect(error.reason).toContain('zip archive');
  });

  it('refuses legacy and protocol-4 pickles (.pth)', async () => {
    for (const [name, bytes] of [
      ['legacy.pth', LEGACY_TORCH],
      ['state-dict.pth', PROTOCOL_4],
    ] as const) {
      const { path, url } = await file(name, bytes);
      const error = await conv1Error(readKernel(url));
      expectSafetensorsAdvice(error, path);
      expect(error.reason, name).toContain('a pickle');
    }
  });

  it('goes by content, not extension: renamed checkpoints are still refused as PyTorch', async () => {
    for (const [name, bytes] of [
      ['model.keras', torchZip()],
      ['model.h5', LEGACY_TORCH],
      ['model.json', PROTOCOL_4],
    ] as const) {
      const { path, url } = await file(name, bytes);
      expectSafetensorsAdvice(await conv1Error(readKernel(url)), path);
    }
  });

  it('claims only pickles: not a safetensors header that happens to start with 0x80 0x02, nor JSON', () => {
    expect(isPickleHead(LEGACY_TORCH)).toBe(true);
    expect(isPickleHead(PROTOCOL_4)).toBe(true);
    // A safetensors header of 640 bytes: its length, little-endian, then "{".
    expect(isPickleHead(Buffer.from([0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x7b]))).toBe(false);
    expect(isPickleHead(Buffer.from('{"format": "layers-model"}'))).toBe(false);
  });

  it('tells a zip that is neither Keras nor PyTorch from both', async () => {
    const { url } = await file('archive.pt', zipBytes([{ name: 'readme.txt', data: Buffer.from('hello') }]));
    const error = await conv1Error(readKernel(url));
    expect(error.reason).toContain('neither a Keras 3 model nor a PyTorch checkpoint');
  });
});
