import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { FormatReader } from './format.ts';
import type { ZipArchive } from './zip.ts';

/**
 * PyTorch .pt / .pth files are refused, never read. Their tensors can only be located through a
 * pickle, and unpickling runs whatever code the file names (torch made weights_only the default
 * in 2.6, and CVE-2025-32434 bypassed even that). The user is told how to export the weights in a
 * format that is plain data.
 *
 * Two containers exist: since torch 1.6 a zip holding `<archive>/data.pkl` and one file per
 * tensor, before that a bare pickle. The zip form shares its magic bytes with Keras' .keras, so
 * this reader only claims bare pickles; zips go to the .keras reader, which looks at the members
 * and refuses PyTorch archives with `refusePytorch` (keras-zip.ts). Either way the decision rests
 * on the content, so a wrong extension changes nothing.
 */

/**
 * Pickle protocol 2–5 starts with PROTO (0x80) and the version. The next opcode tells a pickle
 * from other data that happens to start with 0x80 (a safetensors header length of 640 does):
 * torch's legacy files continue with LONG1 (its magic number), plain pickles of a state dict with
 * EMPTY_DICT, GLOBAL, MARK or EMPTY_LIST, and protocols 4–5 with FRAME.
 */
const PICKLE_SECOND_OPCODES = new Set([0x8a, 0x7d, 0x63, 0x28, 0x5d, 0x95]);

export function isPickleHead(head: Uint8Array): boolean {
  return head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5 && PICKLE_SECOND_OPCODES.has(head[2]!);
}

/** True when the archive is one torch.save (or torch.jit.save) wrote: it holds a data.pkl. */
export function isPytorchArchive(archive: ZipArchive): boolean {
  return [...archive.entries.keys()].some((name) => /^([^/]+\/)?data\.pkl$/.test(name));
}

export function refusePytorch(files: ModelFiles, container: 'zip archive' | 'pickle'): Conv1Error {
  return new Conv1Error(
    files.label,
    `is a PyTorch checkpoint (a ${container} with pickled data); astro-conv1 does not unpickle it, because loading a pickle runs code that the file chooses`,
    "Export the weights as plain data and point `model` at that file: `from safetensors.torch import save_file; save_file(model.state_dict(), 'model.safetensors')`, or `torch.onnx.export(model, example_input, 'model.onnx')`.",
  );
}

export const pytorchReader: FormatReader = {
  format: 'pytorch',
  extensions: ['.pt', '.pth'],
  detect: isPickleHead,
  async open(files) {
    throw refusePytorch(files, 'pickle');
  },
};
