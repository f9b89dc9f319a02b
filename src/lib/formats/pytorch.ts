import { Conv1Error } from '../errors.ts';
import { oihwToHwio } from '../kernel.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import { decodeLittleEndian } from './dtypes.ts';
import { convolutionName, describeOihwConvolution, moduleName, rankConvolutionWeights } from './first-conv-names.ts';
import type { ConvLayer, FormatReader, OpenedModel } from './format.ts';
import {
  describeValue,
  interpretPickle,
  PickleGlobal,
  PickleObject,
  PickleRefusal,
  PickleTuple,
  quoteName,
  type PickleDict,
  type PickleRules,
  type PickleValue,
} from './pickle.ts';
import { extractZipEntry, readZipEntryRange, type ZipArchive, type ZipEntry } from './zip.ts';

/**
 * PyTorch checkpoints (.pt, .pth, .ckpt, pytorch_model.bin) as torch.save has written them since
 * PyTorch 1.6: a zip whose members sit under one folder, `<folder>/data.pkl` (the pickle),
 * `<folder>/data/<key>` (one raw little-endian storage per key, stored uncompressed), `version`
 * and, in newer versions, `byteorder`. The zip shares its magic bytes with Keras' .keras, so the
 * .keras reader opens every zip and hands archives with a data.pkl to `openPytorchArchive`.
 *
 * The pickle is interpreted by pickle.ts, which builds data and never imports or calls anything.
 * The globals it may name are an allow-list narrower than torch.load(weights_only=True)'s in
 * PyTorch 1.13: OrderedDict, torch.Size, the tensor and parameter rebuild functions, the storage
 * types and dtypes. They stand for what they would build (an empty dict, a tuple, a reference to
 * a slice of a storage); anything else is refused by name. Then only the chosen kernel's bytes are
 * read from its storage, honouring the tensor's offset and strides.
 *
 * Bare pickles (the format before 1.6, or pickle.dump) and TorchScript archives are refused with
 * advice on how to save the weights again.
 */

const SAVE_WEIGHTS = "torch.save(model.state_dict(), 'model.pt'), or export safetensors: from safetensors.torch import save_file; save_file(model.state_dict(), 'model.safetensors').";
const RESAVE_HINT = `In a current PyTorch, save the weights alone: ${SAVE_WEIGHTS}`;
const TRUSTED_RESAVE_HINT = `If you trust the file, load it in PyTorch and save the weights alone: ${SAVE_WEIGHTS}`;
const DAMAGED_HINT = "The file is damaged or was not written by torch.save; download it again, or save it again with torch.save(model.state_dict(), 'model.pt').";

/** A checkpoint's pickle takes kilobytes (ResNet50: 39 KB); a larger one is not a set of weights. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;
/** As in the other readers: a first-layer kernel is kilobytes, and no kernel is read beyond this. */
const MAX_KERNEL_BYTES = 256 * 1024 * 1024;
/** State dicts are flat or nested a few levels (a checkpoint holding several models). */
const MAX_DICT_DEPTH = 100;
/** All tensor names together; a large model's state dict has a few hundred thousand characters. */
const MAX_NAME_CHARACTERS = 16 * 1024 * 1024;

/** Where the weights are in a checkpoint that holds more than a state dict, in order of preference. */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net'];
/**
 * Prefixes that wrappers add to every key: Lightning's `model.` (its LightningModule's attribute),
 * DataParallel's `module.`, torch.compile's `_orig_mod.`. Names are shown without them, so that
 * a Lightning checkpoint of a torchvision ResNet names its layers as torchvision does.
 */
const WRAPPER_PREFIXES = new Set(['model', 'module', '_orig_mod']);

interface StorageType {
  dtype: string;
  bytes: number;
}

/** torch's typed storage classes, as they appear in persistent ids: element type and size. */
const STORAGE_TYPES = new Map<string, StorageType>([
  ['DoubleStorage', { dtype: 'float64', bytes: 8 }],
  ['FloatStorage', { dtype: 'float32', bytes: 4 }],
  ['HalfStorage', { dtype: 'float16', bytes: 2 }],
  ['BFloat16Storage', { dtype: 'bfloat16', bytes: 2 }],
  ['LongStorage', { dtype: 'int64', bytes: 8 }],
  ['IntStorage', { dtype: 'int32', bytes: 4 }],
  ['ShortStorage', { dtype: 'int16', bytes: 2 }],
  ['CharStorage', { dtype: 'int8', bytes: 1 }],
  ['ByteStorage', { dtype: 'uint8', bytes: 1 }],
  ['BoolStorage', { dtype: 'bool', bytes: 1 }],
  ['ComplexFloatStorage', { dtype: 'complex64', bytes: 8 }],
  ['ComplexDoubleStorage', { dtype: 'complex128', bytes: 16 }],
]);
const KERNEL_DTYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/** Globals that stand for something when called (REDUCE, NEWOBJ). */
const CALLABLE_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch.Size',
  'torch.nn.parameter.Parameter',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
]);
/** Globals that may only be named, as arguments: storage types, dtypes, the Tensor class. */
const TAG_GLOBALS = new Set([
  'torch.Tensor',
  ...[...STORAGE_TYPES.keys()].map((name) => `torch.${name}`),
  ...['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'complex32', 'complex64', 'complex128'].map((name) => `torch.${name}`),
]);

/** A storage of the archive: the member `<folder>/data/<key>`, of `numel` elements of `type`. */
class StorageRef extends PickleObject {
  readonly description = 'a storage';
  readonly key: string;
  readonly type: StorageType;
  readonly numel: number;
  readonly entry: ZipEntry;
  constructor(key: string, type: StorageType, numel: number, entry: ZipEntry) {
    super();
    this.key = key;
    this.type = type;
    this.numel = numel;
    this.entry = entry;
  }
}

/** A tensor: `size` elements of `storage`, from element `offset` on, `stride` elements apart per dimension. */
class TensorRef extends PickleObject {
  readonly description = 'a tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
  constructor(storage: StorageRef, offset: number, size: readonly number[], stride: readonly number[]) {
    super();
    this.storage = storage;
    this.offset = offset;
    this.size = size;
    this.stride = stride;
  }
}

interface PytorchConv extends ConvLayer {
  tensor: TensorRef;
}

// ---------------------------------------------------------------------------------------------
// Detection

/**
 * Pickle protocol 2–5 starts with PROTO (0x80) and the version. The next opcode tells a pickle
 * from other data that happens to start with 0x80 (a safetensors header length of 640 does):
 * torch's legacy files continue with LONG1 (its magic number), plain pickles of a state dict with
 * EMPTY_DICT, GLOBAL, MARK or EMPTY_LIST, and protocols 4–5 with FRAME.
 */
const PICKLE_SECOND_OPCODES = new Set([0x8a, 0x7d, 0x63, 0x28, 0x5d, 0x95]);
/** LONG1 of torch's legacy magic number 0x1950a86a20f9469cfc6c, right after PROTO 2. */
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const PICKLE_MEMBER = /^([^/]+\/)?data\.pkl$/;

export function isPickleHead(head: Uint8Array): boolean {
  return head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5 && PICKLE_SECOND_OPCODES.has(head[2]!);
}

/** True when the archive is one torch.save (or torch.jit.save) wrote: it holds a data.pkl. */
export function isPytorchArchive(archive: ZipArchive): boolean {
  return [...archive.entries.keys()].some((name) => PICKLE_MEMBER.test(name));
}

async function refuseBarePickle(files: ModelFiles): Promise<never> {
  const head = await files.read(files.main, 0, Math.min(2 + LEGACY_MAGIC.length, await files.size(files.main)));
  const legacy = LEGACY_MAGIC.every((byte, i) => head[2 + i] === byte);
  throw new Conv1Error(
    files.label,
    legacy
      ? 'is a PyTorch checkpoint in the legacy format torch.save wrote before PyTorch 1.6 (a bare pickle stream), which astro-conv1 does not read'
      : 'is a bare pickle, not the zip archive torch.save has written since PyTorch 1.6, so astro-conv1 does not read it',
    RESAVE_HINT,
  );
}

export const pytorchReader: FormatReader = {
  format: 'pytorch',
  extensions: ['.pt', '.pth', '.ckpt', '.bin'],
  detect: isPickleHead,
  // Zip archives reach openPytorchArchive through the .keras reader; only bare pickles come here.
  open: refuseBarePickle,
};

// ---------------------------------------------------------------------------------------------
// The archive

export async function openPytorchArchive(files: ModelFiles, archive: ZipArchive): Promise<OpenedModel> {
  const { pickle, folder } = findPickle(files, archive);
  await checkByteOrder(files, archive, folder);
  const root = await readPickle(files, archive, pickle, new TorchRules(archive, folder));
  const tensors = stateDictTensors(root, files.label);
  if (tensors.length === 0)
    throw new Conv1Error(files.label, `holds no tensors under names: its pickle is ${describeValue(root)} without a state dict`, RESAVE_HINT);
  const convolutions = rankConvolutionWeights(tensors).map(
    ({ name, key, tensor }): PytorchConv => ({ ...describeOihwConvolution(name, tensor.size, [key, convolutionName(key)]), tensor }),
  );
  const layerNames = new Set([...tensors.flatMap(({ name, key }) => [moduleName(name), moduleName(key)]), ...convolutions.map((conv) => conv.name)]);
  return {
    format: 'pytorch',
    convolutions,
    layerNames,
    defaultChannels: 'rgb',
    readKernel: (conv) => readKernelOf(files, archive, conv as PytorchConv),
  };
}

/** The archive's one data.pkl and the folder it sits in; TorchScript archives, which hold one too, are refused. */
function findPickle(files: ModelFiles, archive: ZipArchive): { pickle: ZipEntry; folder: string } {
  const names = [...archive.entries.keys()];
  const pickles = names.filter((name) => PICKLE_MEMBER.test(name));
  if (pickles.length !== 1)
    throw new Conv1Error(files.label, `holds ${pickles.length} pickles (${pickles.slice(0, 4).join(', ')}); torch.save writes one, <folder>/data.pkl`, DAMAGED_HINT);
  const pickle = archive.entries.get(pickles[0]!)!;
  const folder = pickle.name.slice(0, -'data.pkl'.length);
  if (archive.entries.has(`${folder}constants.pkl`) || names.some((name) => name.startsWith(`${folder}code/`)))
    throw new Conv1Error(
      files.label,
      'is a TorchScript archive (torch.jit.save), whose weights belong to compiled code rather than a state dict; astro-conv1 does not read it',
      "Load it with torch.jit.load and save its weights: torch.save(module.state_dict(), 'model.pt') in a current PyTorch, or export safetensors: from safetensors.torch import save_file; save_file(module.state_dict(), 'model.safetensors').",
    );
  return { pickle, folder };
}

/** torch ≥ 2.1 records the byte order of the storages; older versions wrote little-endian only. */
async function checkByteOrder(files: ModelFiles, archive: ZipArchive, folder: string): Promise<void> {
  const entry = archive.entries.get(`${folder}byteorder`);
  if (!entry) return;
  if (entry.size > 16) throw new Conv1Error(files.label, `has a ${entry.size}-byte ${entry.name}; torch.save writes "little" or "big"`, DAMAGED_HINT);
  const order = new TextDecoder('latin1').decode(await extractZipEntry(archive, entry)).trim();
  if (order === 'little') return;
  if (order === 'big')
    throw new Conv1Error(files.label, 'was saved on a big-endian machine (its byteorder says "big"); astro-conv1 reads little-endian storages', `Load it on that machine and save it again with safetensors, which is always little-endian: ${RESAVE_HINT}`);
  throw new Conv1Error(files.label, `has a byteorder member of "${quoteName(order)}"; torch.save writes "little" or "big"`, DAMAGED_HINT);
}

async function readPickle(files: ModelFiles, archive: ZipArchive, entry: ZipEntry, rules: PickleRules): Promise<PickleValue> {
  if (entry.size > MAX_PICKLE_BYTES)
    throw new Conv1Error(files.label, `has a ${entry.size}-byte ${entry.name}; a checkpoint's pickle takes kilobytes, and more than ${MAX_PICKLE_BYTES} bytes is refused`, RESAVE_HINT);
  const bytes = await extractZipEntry(archive, entry);
  try {
    return interpretPickle(bytes, rules);
  } catch (error) {
    if (!(error instanceof PickleRefusal)) throw error;
    const where = `has a pickle (${entry.name}) that ${error.message}`;
    if (error.kind === 'disallowed')
      throw new Conv1Error(
        files.label,
        `${where}; astro-conv1 accepts only tensors, storages and OrderedDicts in a checkpoint (as torch.load(weights_only=True) does) and ran nothing`,
        TRUSTED_RESAVE_HINT,
        { cause: error },
      );
    throw new Conv1Error(files.label, where, error.kind === 'malformed' ? DAMAGED_HINT : RESAVE_HINT, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// What the pickle may build

/** The allow-list, and what each allowed call stands for. Nothing here runs code from the file. */
class TorchRules implements PickleRules {
  /** The dicts OrderedDict() stood for: only those may take a state (torch puts `_metadata` there). */
  private readonly ordered = new WeakSet<PickleDict>();

  private readonly archive: ZipArchive;
  private readonly folder: string;

  constructor(archive: ZipArchive, folder: string) {
    this.archive = archive;
    this.folder = folder;
  }

  allows(global: PickleGlobal): boolean {
    return CALLABLE_GLOBALS.has(global.fullName) || TAG_GLOBALS.has(global.fullName);
  }

  build(target: PickleValue): boolean {
    return target instanceof Map && this.ordered.has(target);
  }

  call(callee: PickleGlobal, args: readonly PickleValue[]): PickleValue {
    const name = callee.fullName;
    const arity = (...counts: number[]) => {
      if (!counts.includes(args.length)) throw new PickleRefusal('malformed', `calls ${name} with ${args.length} arguments, not ${counts.join(' or ')}`);
    };
    switch (name) {
      case 'collections.OrderedDict': {
        arity(0);
        const dict: PickleDict = new Map();
        this.ordered.add(dict);
        return dict;
      }
      case 'torch.Size':
        arity(1);
        counts(args[0]!, 'torch.Size');
        return args[0]!;
      case 'torch._utils._rebuild_tensor':
        arity(4);
        return rebuildTensor(args);
      case 'torch._utils._rebuild_tensor_v2':
        // storage, offset, size, stride, requires_grad, backward_hooks[, metadata]
        arity(6, 7);
        return rebuildTensor(args);
      case 'torch._utils._rebuild_parameter':
        // data, requires_grad, backward_hooks
        arity(3);
        return tensorArgument(args[0]!, name);
      case 'torch.nn.parameter.Parameter':
        arity(1, 2);
        return tensorArgument(args[0]!, name);
    }
    throw new PickleRefusal('disallowed', `calls ${quoteName(name)}, which a checkpoint may only name`);
  }

  /** torch.save's persistent id of a storage: ('storage', storage type, key, location, element count). */
  persistentLoad(pid: PickleValue): PickleValue {
    if (!(pid instanceof PickleTuple) || pid.items[0] !== 'storage') throw new PickleRefusal('disallowed', `loads a persistent id that is ${describeValue(pid)} rather than a storage`);
    if (pid.items.length !== 5) throw new PickleRefusal('malformed', `gives a storage a persistent id of ${pid.items.length} items, not 5`);
    const [, type, key, location, numel] = pid.items;
    const storageType = type instanceof PickleGlobal && type.module === 'torch' ? STORAGE_TYPES.get(type.name) : undefined;
    if (!storageType) throw new PickleRefusal('malformed', `gives a storage the type ${describeValue(type!)}, not a torch storage class`);
    if (typeof key !== 'string' || typeof location !== 'string') throw new PickleRefusal('malformed', 'names a storage by something other than a string');
    if (key === '' || key === '.' || key === '..' || /[/\\\0]/.test(key))
      throw new PickleRefusal('malformed', `names the storage "${quoteName(key)}", a path outside the archive's data folder`);
    const elements = count(numel!, `the element count of storage "${quoteName(key)}"`);
    const entry = this.archive.entries.get(`${this.folder}data/${key}`);
    if (!entry) throw new PickleRefusal('malformed', `refers to the storage "${quoteName(key)}", but the archive has no member ${this.folder}data/${quoteName(key)}`);
    if (elements * storageType.bytes !== entry.size)
      throw new PickleRefusal(
        'malformed',
        `declares ${elements} ${storageType.dtype} elements (${elements * storageType.bytes} bytes) for storage "${quoteName(key)}", but ${entry.name} holds ${entry.size} bytes`,
      );
    return new StorageRef(key, storageType, elements, entry);
  }
}

function rebuildTensor(args: readonly PickleValue[]): TensorRef {
  const [storage, offset, size, stride] = args as [PickleValue, PickleValue, PickleValue, PickleValue];
  if (!(storage instanceof StorageRef)) throw new PickleRefusal('malformed', `rebuilds a tensor from ${describeValue(storage)}, not a storage`);
  const start = count(offset, 'a tensor offset');
  const shape = counts(size, 'a tensor size');
  const steps = counts(stride, 'a tensor stride');
  if (shape.length !== steps.length) throw new PickleRefusal('malformed', `gives a tensor of ${shape.length} dimensions ${steps.length} strides`);
  const last = lastElement(start, shape, steps);
  if (last === undefined ? start > storage.numel : last >= storage.numel)
    throw new PickleRefusal(
      'malformed',
      `places a tensor of size [${shape.join(', ')}] (strides [${steps.join(', ')}], offset ${start}) beyond the end of storage "${quoteName(storage.key)}", which holds ${storage.numel} elements`,
    );
  return new TensorRef(storage, start, shape, steps);
}

function tensorArgument(value: PickleValue, callee: string): TensorRef {
  if (!(value instanceof TensorRef)) throw new PickleRefusal('malformed', `calls ${callee} on ${describeValue(value)}, not a tensor`);
  return value;
}

/** The storage index of a tensor's last element, or undefined when it has none; Infinity past any safe index. */
function lastElement(offset: number, size: readonly number[], stride: readonly number[]): number | undefined {
  if (size.includes(0)) return undefined;
  const last = size.reduce((sum, dim, i) => sum + (dim - 1) * stride[i]!, offset);
  return Number.isSafeInteger(last) ? last : Number.POSITIVE_INFINITY;
}

function count(value: PickleValue, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new PickleRefusal('malformed', `gives ${what} as ${describeValue(value)} rather than a count`);
  return value;
}

function counts(value: PickleValue, what: string): number[] {
  if (!(value instanceof PickleTuple)) throw new PickleRefusal('malformed', `gives ${what} as ${describeValue(value)} rather than a tuple`);
  if (value.items.length > 64) throw new PickleRefusal('malformed', `gives ${what} of ${value.items.length} dimensions`);
  return value.items.map((item) => count(item, what));
}

// ---------------------------------------------------------------------------------------------
// The state dict

interface NamedTensor {
  /** The tensor's key as saved, e.g. model.conv1.weight in a Lightning checkpoint. */
  key: string;
  /** The key without wrapper prefixes: conv1.weight. */
  name: string;
  shape: readonly number[];
  tensor: TensorRef;
}

/**
 * The tensors of the model: those of the first STATE_DICT_KEYS entry that holds any (a training
 * checkpoint keeps the optimizer's state beside it), else of the whole pickle.
 */
function stateDictTensors(root: PickleValue, label: string): NamedTensor[] {
  if (!(root instanceof Map)) return [];
  let found: { key: string; tensor: TensorRef }[] = [];
  for (const key of STATE_DICT_KEYS) {
    const inner = root.get(key);
    if (inner instanceof Map) found = namedTensors(inner, label);
    if (found.length > 0) break;
  }
  if (found.length === 0) found = namedTensors(root, label);
  const prefix = wrapperPrefix(found.map(({ key }) => key));
  return found.map(({ key, tensor }) => ({ key, name: key.slice(prefix.length), shape: tensor.size, tensor }));
}

/**
 * Every tensor reachable through string keys, named by its keys joined with dots (optimizer state,
 * keyed by parameter number, is left out). Each dict is entered once, however many times the
 * pickle refers to it, so shared references cost nothing.
 */
function namedTensors(root: PickleDict, label: string): { key: string; tensor: TensorRef }[] {
  const found: { key: string; tensor: TensorRef }[] = [];
  const seen = new Set<PickleDict>([root]);
  const queue: { dict: PickleDict; prefix: string; depth: number }[] = [{ dict: root, prefix: '', depth: 0 }];
  let characters = 0;
  for (let next = 0; next < queue.length; next++) {
    const { dict, prefix, depth } = queue[next]!;
    for (const [key, value] of dict) {
      if (typeof key !== 'string' || !(value instanceof TensorRef || value instanceof Map)) continue;
      characters += prefix.length + key.length;
      if (characters > MAX_NAME_CHARACTERS)
        throw new Conv1Error(label, `names its tensors with more than ${MAX_NAME_CHARACTERS} characters in all, far more than a state dict`, RESAVE_HINT);
      if (value instanceof TensorRef) found.push({ key: prefix + key, tensor: value });
      else if (!seen.has(value)) {
        if (depth + 1 >= MAX_DICT_DEPTH) throw new Conv1Error(label, `nests dicts more than ${MAX_DICT_DEPTH} deep, far deeper than a state dict`, RESAVE_HINT);
        seen.add(value);
        queue.push({ dict: value, prefix: `${prefix}${key}.`, depth: depth + 1 });
      }
    }
  }
  return found;
}

/** The wrapper prefixes (model., module., …) that every key starts with. */
function wrapperPrefix(keys: readonly string[]): string {
  let prefix = '';
  for (;;) {
    const first = keys[0]?.slice(prefix.length).split('.')[0];
    if (first === undefined || !WRAPPER_PREFIXES.has(first) || !keys.every((key) => key.startsWith(`${prefix}${first}.`))) return prefix;
    prefix += `${first}.`;
  }
}

// ---------------------------------------------------------------------------------------------
// The kernel

/** Reads the elements of the kernel's storage that the tensor covers, and lays them out as HWIO. */
async function readKernelOf(files: ModelFiles, archive: ZipArchive, conv: PytorchConv): Promise<Float32Array> {
  const { storage, offset, size, stride } = conv.tensor;
  const { dtype, bytes } = storage.type;
  const name = conv.aliases?.[0] ?? conv.name;
  if (!KERNEL_DTYPES.has(dtype))
    throw new Conv1Error(
      files.label,
      `stores the convolution weight "${quoteName(name)}" as ${dtype}, but astro-conv1 draws only float32, float16, bfloat16 and float64 weights`,
      'Save the model with floating-point weights (model.float() before torch.save), or choose another convolution with the `layer` option.',
    );
  const elements = size.reduce((a, b) => a * b, 1);
  const last = lastElement(offset, size, stride)!;
  const spanBytes = (last - offset + 1) * bytes;
  if (elements * 4 > MAX_KERNEL_BYTES || spanBytes > MAX_KERNEL_BYTES)
    throw new Conv1Error(
      files.label,
      `has a convolution weight "${quoteName(name)}" of ${elements} elements spread over ${spanBytes} bytes of its storage, more than the ${MAX_KERNEL_BYTES} bytes a kernel may take`,
      'Choose the first convolution with the `layer` option, or save a compact copy of the weight (tensor.contiguous()).',
    );
  const span = decode(await readZipEntryRange(archive, storage.entry, offset * bytes, spanBytes), dtype);
  const [o, i, h, w] = size as [number, number, number, number];
  const [so, si, sh, sw] = stride as [number, number, number, number];
  const oihw = new Float32Array(elements);
  let n = 0;
  for (let f = 0; f < o; f++)
    for (let c = 0; c < i; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) oihw[n++] = span[f * so + c * si + y * sh + x * sw]!;
  return oihwToHwio(oihw, [o, i, h, w]);
}

function decode(bytes: Uint8Array, dtype: string): Float32Array {
  if (dtype !== 'float64') return decodeLittleEndian(bytes, dtype as 'float32' | 'float16' | 'bfloat16');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Storing into a Float32Array rounds to nearest, ties to even, as torch's .float() does.
  return Float32Array.from({ length: bytes.byteLength / 8 }, (_, k) => view.getFloat64(k * 8, true));
}
