import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpretPickle, PICKLE_LIMITS, PickleGlobal, PickleRefusal, PickleSet, PickleTuple, type PickleRules, type PickleValue } from '../../src/lib/formats/pickle.ts';
import { isPickleHead } from '../../src/lib/formats/pytorch.ts';
import { readKernel, readModel } from '../../src/lib/index.ts';
import { runCli } from '../helpers/cli.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { runPython } from '../helpers/python.ts';
import { randomValues, TempDirs } from '../helpers/tfjs-fixture.ts';
import { float32Bytes, float32s, Pickle, stateDictPickle, torchArchive, writeTorchFixtures } from '../helpers/torch-fixture.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/**
 * Everything real PyTorch writes for this file, and what torch reports about it: each kernel as
 * float32 HWIO bytes (<name>.f32), and in meta.json the convolutions torchvision builds.
 */
const SCRIPT = String.raw`
import collections, json, pickle, zipfile

def convolutions(model):
    return {name + ".weight": list(module.weight.shape) for name, module in model.named_modules() if isinstance(module, torch.nn.Conv2d)}

resnet50 = torchvision.models.resnet50()
torch.save(resnet50.state_dict(), "resnet50.pth")
save_hwio(resnet50.conv1.weight, "resnet50.conv1.f32")

resnet18 = torchvision.models.resnet18()
optimizer = torch.optim.Adam(resnet18.parameters(), lr=1e-3)
resnet18(torch.randn(2, 3, 32, 32)).sum().backward()
optimizer.step()
save_hwio(resnet18.conv1.weight, "resnet18.conv1.f32")
save_hwio(resnet18.layer1[0].conv1.weight, "resnet18.layer1.0.conv1.f32")
torch.save({"epoch": 3, "optimizer": optimizer.state_dict(), "model": resnet18.state_dict(), "best_acc1": 0.25}, "checkpoint.pth")
torch.save({
    "epoch": 1, "global_step": 10, "pytorch-lightning_version": "1.9.0",
    "state_dict": collections.OrderedDict(("model." + key, value) for key, value in resnet18.state_dict().items()),
    "loops": {"fit_loop": {"epoch_progress": {"current": {"completed": 1}}}},
    "optimizer_states": [optimizer.state_dict()], "lr_schedulers": [],
}, "lightning.ckpt")

hwio = torch.randn(7, 7, 3, 16)
permuted = hwio.permute(3, 2, 0, 1)
stepped = torch.randn(8, 3, 3, 6)[..., ::2]
shifted = torch.randn(5000)[123:123 + 8 * 3 * 3 * 3].view(8, 3, 3, 3)
assert not permuted.is_contiguous() and not stepped.is_contiguous() and shifted.storage_offset() == 123
torch.save({"conv1.weight": permuted, "head.weight": torch.randn(10, 16), "stepped.weight": stepped, "shifted.weight": shifted}, "views.pt")
save_hwio(permuted, "views.conv1.f32")
save_hwio(stepped, "views.stepped.f32")
save_hwio(shifted, "views.shifted.f32")

for dtype in ["float16", "bfloat16", "float64"]:
    first = torch.randn(8, 3, 3, 3).to(getattr(torch, dtype))
    torch.save({"features.3.weight": torch.randn(16, 8, 3, 3).to(getattr(torch, dtype)), "features.0.weight": first, "features.0.bias": torch.randn(8)}, dtype + ".pt")
    save_hwio(first, dtype + ".f32")

patch = torch.randn(32, 3, 16, 16)
torch.save({
    "embeddings.cls_token": torch.randn(1, 1, 32),
    "decoder.0.weight": torch.randn(8, 3, 3, 3),
    "embeddings.patch_embeddings.projection.weight": patch,
    "embeddings.patch_embeddings.projection.bias": torch.randn(32),
    "encoder.layer.0.attention.attention.query.weight": torch.randn(32, 32),
}, "pytorch_model.bin")
save_hwio(patch, "pytorch_model.f32")

small = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
torch.save(small.state_dict(), "legacy.pth", _use_new_zipfile_serialization=False)
torch.jit.script(small).save("scripted.pt")
torch.save(torchvision.models.resnet18(), "whole-model.pt")

class Run:
    """Pickles as a call of fn(arg): what a hostile checkpoint does. Only ever written here, never loaded."""
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg
    def __reduce__(self):
        return (self.fn, (self.arg,))

def archive(name, payload):
    with zipfile.ZipFile(name, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")

system = Run(os.system, "touch " + os.path.abspath("ran-system"))
archive("system.pt", pickle.dumps({"conv1.weight": system}, protocol=2))
archive("system-protocol4.pt", pickle.dumps({"conv1.weight": system}, protocol=4))
evaluate = Run(eval, "open(" + repr(os.path.abspath("ran-eval")) + ", 'w').close()")
archive("eval.pt", pickle.dumps(evaluate, protocol=2))
archive("eval-protocol4.pt", pickle.dumps(evaluate, protocol=4))
with open("system-bare.pth", "wb") as f:
    f.write(pickle.dumps(system, protocol=2))

json.dump({"resnet50": convolutions(resnet50), "resnet18": convolutions(resnet18)}, open("meta.json", "w"))
`;

let fixtures: URL;
let meta: { resnet50: Record<string, number[]>; resnet18: Record<string, number[]> };
beforeAll(async () => {
  fixtures = await writeTorchFixtures(dirs, SCRIPT);
  meta = JSON.parse(await readFile(new URL('meta.json', fixtures), 'utf8'));
}, 180_000);

const at = (name: string) => new URL(name, fixtures);
const expected = async (name: string) => float32s(await readFile(at(name)));
/** OIHW as torch lists a weight's shape → HWIO as the readers return it. */
const hwio = ([o, i, h, w]: number[]) => [h, w, i, o];

describe('PyTorch: state dicts and checkpoints written by torch.save', () => {
  it('reads conv1 of a torchvision ResNet50 state dict exactly as torch reports it, reading only the pickle and that kernel', async () => {
    const { kernel, convolutions, filesRead } = await readModel(at('resnet50.pth'));
    expect(kernel.format).toBe('pytorch');
    expect(kernel.layer).toBe('conv1');
    expect(kernel.layerType).toBe('Conv2d');
    expect(kernel.shape).toEqual([7, 7, 3, 64]);
    expect(kernel.data).toEqual(await expected('resnet50.conv1.f32'));
    expect([kernel.channelOrder, kernel.channelOrderSource]).toEqual(['rgb', 'preset torchvision-resnet']);
    // Every Conv2d torchvision built, with its shape, and none else.
    expect(Object.fromEntries(convolutions.map((conv) => [conv.aliases![0], conv.shape]))).toEqual(
      Object.fromEntries(Object.entries(meta.resnet50).map(([name, shape]) => [name, hwio(shape)])),
    );
    const size = (await stat(at('resnet50.pth'))).size;
    expect(filesRead).toEqual(['resnet50.pth']);
    console.log(`resnet50.pth: ${kernel.bytesRead.toLocaleString('en')} of ${size.toLocaleString('en')} bytes read`);
    expect(kernel.bytesRead).toBeLessThan(size / 500);
  });

  it('finds the model beside the optimizer state in a training checkpoint ({epoch, optimizer, model})', async () => {
    const { kernel, convolutions } = await readModel(at('checkpoint.pth'));
    expect(kernel.layer).toBe('conv1');
    expect(kernel.data).toEqual(await expected('resnet18.conv1.f32'));
    // The optimizer's exp_avg of conv1 has the same shape, but it is no layer of the model.
    expect(convolutions.map((conv) => conv.aliases![0]).sort()).toEqual(Object.keys(meta.resnet18).sort());
    expect(kernel.channelOrderSource).toBe('preset torchvision-resnet');
  });

  it('reads a Lightning .ckpt: names without the model. prefix, the prefixed names accepted by `layer`', async () => {
    const { kernel, convolutions } = await readModel(at('lightning.ckpt'));
    expect(kernel.layer).toBe('conv1');
    expect(kernel.data).toEqual(await expected('resnet18.conv1.f32'));
    expect(convolutions[0]!.aliases).toEqual(['conv1.weight', 'model.conv1.weight', 'model.conv1']);
    expect(kernel.channelOrderSource).toBe('preset torchvision-resnet');
    for (const layer of ['model.conv1', 'model.conv1.weight', 'conv1.weight']) expect((await readKernel(at('lightning.ckpt'), { layer })).layer).toBe('conv1');
    const deeper = await readKernel(at('lightning.ckpt'), { layer: 'model.layer1.0.conv1' });
    expect(deeper.data).toEqual(await expected('resnet18.layer1.0.conv1.f32'));
    const error = await conv1Error(readKernel(at('lightning.ckpt'), { layer: 'model.bn1' }));
    expect(error.reason).toContain('has a layer "model.bn1", but it is not a convolution');
  });

  it('honours strides and storage offsets: a permuted view, a stepped slice and an offset view read as torch sees them', async () => {
    expect((await readKernel(at('views.pt'))).data).toEqual(await expected('views.conv1.f32'));
    expect((await readKernel(at('views.pt'), { layer: 'stepped' })).data).toEqual(await expected('views.stepped.f32'));
    const shifted = await readModel(at('views.pt'), { layer: 'shifted' });
    expect(shifted.kernel.data).toEqual(await expected('views.shifted.f32'));
  });

  it.each(['float16', 'bfloat16', 'float64'])('reads %s weights as torch converts them to float32', async (dtype) => {
    const kernel = await readKernel(at(`${dtype}.pt`));
    expect(kernel.layer).toBe('features.0');
    expect(kernel.shape).toEqual([3, 3, 3, 8]);
    expect(kernel.data).toEqual(await expected(`${dtype}.f32`));
  });

  it('reads a Hugging Face pytorch_model.bin, choosing the patch embedding by name', async () => {
    const kernel = await readKernel(at('pytorch_model.bin'));
    expect(kernel.layer).toBe('embeddings.patch_embeddings.projection');
    expect(kernel.shape).toEqual([16, 16, 3, 32]);
    expect(kernel.data).toEqual(await expected('pytorch_model.f32'));
    expect(kernel.channelOrderSource).toBe('default');
  });

  it("takes timm's deep-stem ResNets (conv1.0 … conv1.6) for RGB ResNets too, drawing conv1.0", async () => {
    const names = ['bn1.weight', 'conv1.6.weight', 'conv1.3.weight', 'layer1.0.conv1.weight', 'conv1.0.weight'];
    const shapes: Record<string, number[]> = { 'conv1.0.weight': [4, 3, 3, 3], 'conv1.3.weight': [4, 4, 3, 3], 'conv1.6.weight': [8, 4, 3, 3], 'layer1.0.conv1.weight': [8, 8, 1, 1], 'bn1.weight': [8] };
    const tensors = names.map((name, i) => ({ name, key: String(i), size: shapes[name]! }));
    const storages = Object.fromEntries(tensors.map(({ key, size }) => [key, float32Bytes(randomValues(size.reduce((a, b) => a * b, 1), 7))]));
    await writeFile(at('resnet50d.pth'), torchArchive(stateDictPickle(tensors), storages));
    const kernel = await readKernel(at('resnet50d.pth'));
    expect([kernel.layer, kernel.channelOrderSource]).toEqual(['conv1.0', 'preset torchvision-resnet']);
  });

  it('goes by content, not extension: a checkpoint named .keras, .ckpt or .bin is read as PyTorch', async () => {
    for (const name of ['renamed.keras', 'renamed.ckpt', 'renamed.bin', 'renamed.safetensors']) {
      await copyFile(at('checkpoint.pth'), at(name));
      const kernel = await readKernel(at(name));
      expect([kernel.format, kernel.layer], name).toEqual(['pytorch', 'conv1']);
    }
  });

  it('astro-conv1 info shows a PyTorch checkpoint like any other model', async () => {
    const run = await runCli(['info', fileURLToPath(at('resnet50.pth'))]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^format\s+pytorch$/m);
    expect(run.stdout).toMatch(/^layer\s+conv1 \(Conv2d\)$/m);
    expect(run.stdout).toMatch(/^shape\s+7 × 7 × 3 × 64 /m);
    expect(run.stdout).toMatch(/^channels\s+RGB \(preset torchvision-resnet\)$/m);
    expect(run.stdout).toContain(`convolutions (${Object.keys(meta.resnet50).length}, from the input)`);
  });

  it('the hand-written archives the robustness tests use are ones torch itself loads (weights_only=True) to the same kernel', async () => {
    const storage = randomValues(200, 3);
    const tensors = [
      { name: 'conv1.weight', key: '0', size: [4, 3, 3, 3], stride: [1, 4, 36, 12], offset: 5, numel: 200 },
      { name: 'fc.bias', key: '1', size: [2], type: 'HalfStorage' },
    ];
    const path = fileURLToPath(at('handmade.pt'));
    await writeFile(path, torchArchive(stateDictPickle(tensors), { '0': float32Bytes(storage), '1': new Uint8Array(4) }));
    // Loading is safe here: the file is ours, and weights_only refuses anything but tensors.
    const torchSees = float32s(await runPython('import sys, torch\nw = torch.load(sys.argv[1], weights_only=True)["conv1.weight"]\nsys.stdout.buffer.write(w.permute(2, 3, 1, 0).contiguous().numpy().tobytes())', [path]));
    expect((await readKernel(path)).data).toEqual(torchSees);
  });
});

describe('PyTorch: files refused with advice', () => {
  it('refuses the legacy format (before 1.6) and a bare pickle, telling how to save again', async () => {
    const legacy = await conv1Error(readKernel(at('legacy.pth')));
    expect(legacy.file).toBe(fileURLToPath(at('legacy.pth')));
    expect(legacy.reason).toContain('legacy format torch.save wrote before PyTorch 1.6');
    expect(legacy.hint).toContain("torch.save(model.state_dict(), 'model.pt')");
    expect(legacy.hint).toContain("save_file(model.state_dict(), 'model.safetensors')");
    // pickle.dumps({}, protocol=4)
    await writeFile(at('plain.pth'), Uint8Array.of(0x80, 0x04, 0x95, 0x04, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e));
    expect((await conv1Error(readKernel(at('plain.pth')))).reason).toContain('is a bare pickle, not the zip archive torch.save has written since PyTorch 1.6');
  });

  it('refuses a TorchScript archive (torch.jit.save)', async () => {
    const error = await conv1Error(readKernel(at('scripted.pt')));
    expect(error.reason).toContain('is a TorchScript archive');
    expect(error.hint).toContain('torch.jit.load');
  });

  it('refuses a whole pickled model (torch.save(model)), naming the class it would import', async () => {
    const error = await conv1Error(readKernel(at('whole-model.pt')));
    expect(error.reason).toContain('names torchvision.models.resnet.ResNet, which is not on the allow-list');
    expect(error.reason).toContain('ran nothing');
    expect(error.hint).toContain('If you trust the file');
    expect(error.hint).toContain('torch.save(model.state_dict()');
  });

  it.each([
    ['system.pt', 'posix.system', 'ran-system'],
    ['system-protocol4.pt', 'posix.system', 'ran-system'],
    // Protocol 2 keeps Python 2's module names, as Python 3's unpickler maps them back.
    ['eval.pt', '__builtin__.eval', 'ran-eval'],
    ['eval-protocol4.pt', 'builtins.eval', 'ran-eval'],
    ['system-bare.pth', 'bare pickle', 'ran-system'],
  ])('refuses %s, which calls %s, and nothing runs', async (name, named, marker) => {
    const bytes = Buffer.from(await readFile(at(name)));
    // The payload is really there: the command would create the marker file.
    expect(bytes.includes(fileURLToPath(at(marker)))).toBe(true);
    const error = await conv1Error(readKernel(at(name)));
    expect(error.reason).toContain(named);
    await expect(stat(at(marker))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('claims only pickles as bare PyTorch files: not a safetensors header that happens to start with 0x80 0x02, nor JSON', () => {
    expect(isPickleHead(Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc))).toBe(true);
    expect(isPickleHead(Uint8Array.of(0x80, 0x04, 0x95, 0x04, 0))).toBe(true);
    expect(isPickleHead(Uint8Array.of(0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x7b))).toBe(false);
    expect(isPickleHead(new TextEncoder().encode('{"format": "layers-model"}'))).toBe(false);
  });
});

describe('the pickle interpreter', () => {
  /** Rules that allow nothing beyond plain data. */
  const PLAIN: PickleRules = {
    allows: () => false,
    call: () => {
      throw new Error('never called');
    },
    build: () => false,
    persistentLoad: () => {
      throw new PickleRefusal('disallowed', 'has a persistent id');
    },
  };
  const refusal = (bytes: Uint8Array, limits = PICKLE_LIMITS, rules = PLAIN): PickleRefusal => {
    try {
      interpretPickle(bytes, rules, limits);
    } catch (error) {
      expect(error).toBeInstanceOf(PickleRefusal);
      return error as PickleRefusal;
    }
    throw new Error('the pickle was accepted');
  };

  it('builds the values of what Python pickled, protocols 2 and 4, with memo sharing', async () => {
    const script = String.raw`
import pickle, sys
protocol = int(sys.argv[1])
shared = [1, 2]
value = {"ints": (0, 255, 256, 65535, 65536, -1, -2**31, 2**31, 2**63, -2**70), "floats": [0.5, -1e300],
         "text": ["", "ß→文"], "none": None, "bools": (True, False), "a": shared, "b": shared, "nested": {"x": [[]]}}
if protocol >= 4:
    # Protocol 2 writes these as calls (_codecs.encode, builtins.set), which are refused.
    value.update({"bytes": b"\x00\xff", "set": {3}, "frozen": frozenset()})
sys.stdout.buffer.write(pickle.dumps(value, protocol=protocol))`;
    for (const protocol of ['2', '4']) {
      const value = interpretPickle(await runPython(script, [protocol]), PLAIN) as Map<PickleValue, PickleValue>;
      const ints = (value.get('ints') as PickleTuple).items;
      expect(ints, protocol).toEqual([0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31, 2n ** 63n, -(2n ** 70n)]);
      expect(value.get('floats')).toEqual([0.5, -1e300]);
      expect(value.get('text')).toEqual(['', 'ß→文']);
      if (protocol === '4') {
        expect(Array.from(value.get('bytes') as Uint8Array)).toEqual([0, 255]);
        expect((value.get('set') as PickleSet).items).toEqual([3]);
        expect(value.get('frozen')).toMatchObject({ frozen: true, items: [] });
      }
      expect([value.get('none'), (value.get('bools') as PickleTuple).items]).toEqual([null, [true, false]]);
      expect(value.get('a')).toBe(value.get('b'));
      expect(value.get('nested')).toEqual(new Map([['x', [[]]]]));
    }
  });

  it('refuses what protocol 2 makes of bytes: a call of _codecs.encode', async () => {
    const bytes = await runPython('import pickle, sys\nsys.stdout.buffer.write(pickle.dumps(b"x", protocol=2))');
    expect(refusal(bytes).message).toContain('names _codecs.encode');
  });

  it('names a refused global and calls the rules for nothing else', () => {
    const calls: string[] = [];
    const rules: PickleRules = { ...PLAIN, allows: (global) => (calls.push(global.fullName), false) };
    const error = refusal(new Pickle().proto().global('posix', 'system').str('touch x').tuple().reduce().stop().bytes(), PICKLE_LIMITS, rules);
    expect([error.kind, error.message, calls]).toEqual(['disallowed', 'names posix.system, which is not on the allow-list', ['posix.system']]);
  });

  it('passes allowed calls and builds to the rules, never acting on them itself', () => {
    const seen: unknown[] = [];
    const rules: PickleRules = {
      allows: (global) => global.fullName === 'm.f',
      call: (callee, args) => (seen.push(['call', callee.fullName, args]), 'made'),
      build: (target, state) => (seen.push(['build', target, state]), true),
      persistentLoad: (pid) => (seen.push(['pid', pid]), 'loaded'),
    };
    const bytes = new Pickle().proto().mark().global('m', 'f').mark().int(1).tuple().reduce().str('id').binpersid().emptyDict().int(2).build().tuple().stop().bytes();
    const value = interpretPickle(bytes, rules) as PickleTuple;
    expect(value.items).toEqual(['made', 'loaded', new Map()]);
    expect(seen).toEqual([['call', 'm.f', [1]], ['pid', 'id'], ['build', new Map(), 2]]);
    expect(new PickleGlobal('m', 'f').fullName).toBe('m.f');
  });

  it('costs no more than its opcodes for memoised values referenced exponentially often (a billion laughs)', () => {
    // memo 0 = 'lol'; memo k = [memo k-1, memo k-1] for 100 levels: 2^100 leaves from 700 opcodes.
    const pickle = new Pickle().proto().str('lol').put(0).raw(0x30);
    for (let k = 1; k <= 100; k++) pickle.emptyList().get(k - 1).append().get(k - 1).append().put(k).raw(0x30);
    const started = performance.now();
    const value = interpretPickle(pickle.get(100).stop().bytes(), PLAIN);
    expect(performance.now() - started).toBeLessThan(100);
    expect((value as PickleValue[])[0]).toBe((value as PickleValue[])[1]);
  });

  it.each([
    ['opcodes', { opcodes: 50 }, new Pickle().proto().raw(...new Array<number>(100).fill(0x4e)).stop(), 'has more than 50 opcodes'],
    ['values built', { built: 20 }, new Pickle().proto().raw(...new Array<number>(30).fill(0x5d)).stop(), 'builds more than 20 values'],
    ['memo entries', { memo: 10 }, new Pickle().proto().none().raw(...Array.from({ length: 20 }, (_, i) => [0x71, i]).flat()).stop(), 'memoises more than 10 values'],
    ['stack depth', { stack: 10 }, new Pickle().proto().raw(...new Array<number>(20).fill(0x4e)).stop(), 'more than 10 values on its stack'],
    ['MARK nesting', { marks: 10 }, new Pickle().proto().raw(...new Array<number>(20).fill(0x28)).stop(), 'nests more than 10 MARKs'],
  ])('stops at its cap on %s', (_what, cap, pickle, message) => {
    const error = refusal(pickle.bytes(), { ...PICKLE_LIMITS, ...cap });
    expect([error.kind, error.message]).toEqual(['limit', expect.stringContaining(message)]);
  });

  it.each([
    ['INST', new Pickle().proto().mark().raw(0x69, ...new TextEncoder().encode('os\nsystem\n')), 'instantiates os.system with the INST opcode'],
    ['OBJ', new Pickle().proto().mark().str('x').raw(0x6f), 'instantiates a string with the OBJ opcode'],
    ['NEWOBJ on a list', new Pickle().proto().emptyList().emptyTuple().newobj(), 'instantiates a list'],
    ['REDUCE on a string', new Pickle().proto().str('os.system').emptyTuple().reduce(), 'calls a string'],
    ['BUILD on a dict', new Pickle().proto().emptyDict().emptyDict().build(), 'sets the state of a dict with BUILD'],
    ['EXT1', new Pickle().proto().raw(0x82, 1), 'names a global through the copyreg extension registry (EXT1)'],
    ['NEWOBJ_EX', new Pickle().proto().str('C').emptyTuple().emptyDict().raw(0x92), 'instantiates a string with keyword arguments (NEWOBJ_EX)'],
  ])('refuses %s', (_name, pickle, message) => {
    const error = refusal(pickle.stop().bytes());
    expect([error.kind, error.message]).toEqual(['disallowed', expect.stringContaining(message)]);
  });

  it.each([
    ['a truncated pickle', new Pickle().proto().str('conv1.weight').bytes().subarray(0, 5), 'ends inside the argument of BINUNICODE'],
    ['no STOP', new Pickle().proto().none().bytes(), 'ends before its STOP opcode'],
    ['protocol 6', new Pickle().proto(6).none().stop().bytes(), 'declares pickle protocol 6'],
    ['a text opcode', new Pickle().proto().raw(0x49, 0x31, 0x0a).stop().bytes(), 'protocol 0 text opcode INT'],
    ['a byte that is no opcode', new Pickle().proto().raw(0xff).stop().bytes(), 'the byte 0xff, which is not a pickle opcode'],
    ['a GET of an empty memo slot', new Pickle().proto().get(7).stop().bytes(), 'memo entry 7, which was never stored'],
    ['a pop from an empty stack', new Pickle().proto().raw(0x30).stop().bytes(), 'takes a value from an empty stack'],
    ['a pop through a MARK', new Pickle().proto().none().mark().raw(0x30).stop().bytes(), 'takes a value from an empty stack'],
    ['SETITEM on a list', new Pickle().proto().emptyList().str('k').none().setitem().stop().bytes(), 'sets items on a list, not a dict'],
    ['a list as a dict key', new Pickle().proto().emptyDict().emptyList().none().setitem().stop().bytes(), 'uses a list as a dict key'],
    ['a string of 4 GB', new Pickle().proto().raw(0x58, 0xff, 0xff, 0xff, 0xff).stop().bytes(), 'declares 4294967295 bytes for BINUNICODE'],
    ['bad UTF-8', new Pickle().proto().raw(0x8c, 2, 0xc3, 0x28).stop().bytes(), 'not valid UTF-8'],
  ])('refuses %s as malformed', (_name, bytes, message) => {
    const error = refusal(bytes);
    expect([error.kind, error.message]).toEqual(['malformed', expect.stringContaining(message)]);
  });
});
