/**
 * A pickle interpreter that builds data and never runs anything. Python's own unpickler imports
 * whatever module a GLOBAL names and calls whatever REDUCE is given, so loading a pickle runs
 * code that the file chooses. Here every opcode is interpreted by hand: strings, numbers, lists,
 * tuples, dicts and sets are built as JavaScript values; a GLOBAL becomes a PickleGlobal, a name
 * and nothing more, and only if the caller's rules allow that name; REDUCE, NEWOBJ and BUILD are
 * handed to the rules, which may build a value of their own (a tensor reference) or refuse.
 * Nothing is ever looked up by name, imported or called.
 *
 * Protocols 2 to 5 are read (torch.save writes 2). The text opcodes of protocols 0 and 1, the
 * copyreg extension registry, INST, OBJ and out-of-band buffers are refused. Work is bounded:
 * the opcode count, the values built, the memo, the stack and MARK nesting all have caps, so a
 * file that references memoised values over and over (a "billion laughs") costs no more than its
 * opcodes, and values are shared, never copied.
 */

export class PickleTuple {
  readonly items: readonly PickleValue[];
  constructor(items: readonly PickleValue[]) {
    this.items = items;
  }
}

export class PickleSet {
  readonly items: PickleValue[] = [];
  readonly frozen: boolean;
  constructor(frozen: boolean) {
    this.frozen = frozen;
  }
}

/** A `module.name` the rules allowed, as a name only: it is never resolved to anything. */
export class PickleGlobal {
  readonly module: string;
  readonly name: string;
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }

  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A value the rules built from an allowed call; the interpreter passes it along without looking inside. */
export abstract class PickleObject {
  /** What it is, for messages: "a tensor". */
  abstract readonly description: string;
}

export type PickleDict = Map<PickleValue, PickleValue>;
export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleValue[] | PickleTuple | PickleDict | PickleSet | PickleGlobal | PickleObject;

/**
 * Why a pickle was not interpreted: `disallowed` when it asks for something other than plain
 * data (a global outside the allow-list, a call, an instance), `malformed` when it is not a valid
 * pickle, `limit` when it is larger or deeper than any checkpoint.
 */
export class PickleRefusal extends Error {
  readonly kind: 'disallowed' | 'malformed' | 'limit';
  constructor(kind: 'disallowed' | 'malformed' | 'limit', message: string) {
    super(message);
    this.kind = kind;
    this.name = 'PickleRefusal';
  }
}

/** What the caller allows beyond plain data. Every method may throw a PickleRefusal. */
export interface PickleRules {
  /** Whether GLOBAL or STACK_GLOBAL may name this global. */
  allows(global: PickleGlobal): boolean;
  /** REDUCE or NEWOBJ of an allowed global: the value it stands for. */
  call(callee: PickleGlobal, args: readonly PickleValue[]): PickleValue;
  /** BUILD: whether `target` may take `state` (which is then dropped: no attribute is ever set). */
  build(target: PickleValue, state: PickleValue): boolean;
  /** BINPERSID: the value of a persistent id, e.g. a reference to a storage outside the pickle. */
  persistentLoad(pid: PickleValue): PickleValue;
}

export interface PickleLimits {
  opcodes: number;
  /** Containers, strings and call results created, plus items put into containers. */
  built: number;
  memo: number;
  stack: number;
  /** MARKs open at once. */
  marks: number;
}

/**
 * Python's pickler recurses once per level of nesting and stops near its recursion limit (1,000),
 * so no pickle Python wrote is nested deeper. A state dict of a large model takes a few hundred
 * thousand opcodes and values; these caps are far above that and far below what would strain memory.
 */
export const PICKLE_LIMITS: PickleLimits = { opcodes: 20_000_000, built: 4_000_000, memo: 2_000_000, stack: 1_000_000, marks: 1_000 };

/** Opcodes by byte, as pickletools names them. */
const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49, BININT: 0x4a, BININT1: 0x4b, LONG: 0x4c,
  BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50, BINPERSID: 0x51, REDUCE: 0x52, STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55,
  UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61, BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67,
  BINGET: 0x68, INST: 0x69, LONG_BINGET: 0x6a, LIST: 0x6c, EMPTY_LIST: 0x5d, OBJ: 0x6f, PUT: 0x70, BINPUT: 0x71, LONG_BINPUT: 0x72,
  SETITEM: 0x73, TUPLE: 0x74, EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47, BINBYTES: 0x42, SHORT_BINBYTES: 0x43,
  PROTO: 0x80, NEWOBJ: 0x81, EXT1: 0x82, EXT2: 0x83, EXT4: 0x84, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, NEWTRUE: 0x88, NEWFALSE: 0x89,
  LONG1: 0x8a, LONG4: 0x8b, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90, FROZENSET: 0x91,
  NEWOBJ_EX: 0x92, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95, BYTEARRAY8: 0x96, NEXT_BUFFER: 0x97, READONLY_BUFFER: 0x98,
} as const;
const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([name, code]) => [code, name]));
/** Protocol 0 and 1 opcodes that spell their argument as a line of text; torch.save never writes them. */
const TEXT_OPCODES = new Set<number>([OP.FLOAT, OP.INT, OP.LONG, OP.STRING, OP.UNICODE, OP.GET, OP.PUT, OP.PERSID]);
/** A GLOBAL line longer than this names no real module. */
const MAX_LINE_BYTES = 1024;
/** An integer of more bytes than this is no count, size or offset (a LONG4 may claim 2 GB). */
const MAX_LONG_BYTES = 1024;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LATIN1 = new TextDecoder('latin1');
const EMPTY_TUPLE = new PickleTuple([]);

/** A value as messages name it, without its content: "a list", "the global os.system". */
export function describeValue(value: PickleValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'a bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an int' : 'a float';
  if (typeof value === 'bigint') return 'an int';
  if (typeof value === 'string') return 'a string';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof PickleTuple) return 'a tuple';
  if (value instanceof Map) return 'a dict';
  if (value instanceof PickleSet) return value.frozen ? 'a frozenset' : 'a set';
  if (value instanceof PickleGlobal) return `the global ${quoteName(value.fullName)}`;
  return value.description;
}

/** A name from the file, safe to print: control characters escaped, length capped. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name).slice(1, -1);
}

/** Interprets `bytes` as one pickle and returns the value its STOP leaves. */
export function interpretPickle(bytes: Uint8Array, rules: PickleRules, limits: PickleLimits = PICKLE_LIMITS): PickleValue {
  return new Interpreter(bytes, rules, limits).run();
}

class Interpreter {
  private pos = 0;
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  /** Stack heights at each open MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private opcodes = 0;
  private built = 0;
  /** The opcode being interpreted, for messages. */
  private op = 0;
  private at = 0;

  private readonly bytes: Uint8Array;
  private readonly rules: PickleRules;
  private readonly limits: PickleLimits;

  constructor(bytes: Uint8Array, rules: PickleRules, limits: PickleLimits) {
    this.bytes = bytes;
    this.rules = rules;
    this.limits = limits;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleValue {
    while (this.pos < this.bytes.length) {
      if (++this.opcodes > this.limits.opcodes) throw new PickleRefusal('limit', `has more than ${this.limits.opcodes} opcodes`);
      this.at = this.pos;
      this.op = this.bytes[this.pos++]!;
      if (this.op === OP.STOP) return this.pop();
      this.step();
    }
    throw this.malformed('ends before its STOP opcode');
  }

  // -------------------------------------------------------------------------------------------
  // The opcodes

  private step(): void {
    const op = this.op;
    switch (op) {
      case OP.PROTO: {
        const version = this.u8();
        if (version > 5) throw this.malformed(`declares pickle protocol ${version}; protocols 2 to 5 are read`);
        return;
      }
      case OP.FRAME:
        // Frames only group opcodes for buffered reading; their bytes are interpreted in place.
        this.length(8);
        return;
      case OP.MARK:
        if (this.marks.length >= this.limits.marks) throw new PickleRefusal('limit', `nests more than ${this.limits.marks} MARKs, deeper than any pickle Python writes`);
        this.marks.push(this.stack.length);
        return;
      case OP.POP:
        this.pop();
        return;
      case OP.POP_MARK:
        this.popMark();
        return;
      case OP.DUP:
        this.push(this.top());
        return;

      case OP.NONE:
        return this.push(null);
      case OP.NEWTRUE:
        return this.push(true);
      case OP.NEWFALSE:
        return this.push(false);
      case OP.BININT1:
        return this.push(this.u8());
      case OP.BININT2:
        return this.push(this.u16());
      case OP.BININT:
        this.need(4);
        this.pos += 4;
        return this.push(this.view.getInt32(this.pos - 4, true));
      case OP.LONG1:
        return this.push(this.long(this.u8()));
      case OP.LONG4: {
        this.need(4);
        this.pos += 4;
        const size = this.view.getInt32(this.pos - 4, true);
        if (size < 0) throw this.malformed('gives a LONG4 a negative length');
        return this.push(this.long(size));
      }
      case OP.BINFLOAT:
        this.need(8);
        this.pos += 8;
        return this.push(this.view.getFloat64(this.pos - 8, false));

      case OP.SHORT_BINUNICODE:
        return this.push(this.text(this.u8()));
      case OP.BINUNICODE:
        return this.push(this.text(this.length(4)));
      case OP.BINUNICODE8:
        return this.push(this.text(this.length(8)));
      // Python 2 str: bytes in principle, but in checkpoints ASCII names and keys.
      case OP.SHORT_BINSTRING:
        return this.push(LATIN1.decode(this.take(this.u8())));
      case OP.BINSTRING: {
        this.need(4);
        this.pos += 4;
        const size = this.view.getInt32(this.pos - 4, true);
        if (size < 0) throw this.malformed('gives a BINSTRING a negative length');
        return this.push(LATIN1.decode(this.take(size)));
      }
      case OP.SHORT_BINBYTES:
        return this.push(this.take(this.u8()));
      case OP.BINBYTES:
        return this.push(this.take(this.length(4)));
      case OP.BINBYTES8:
      case OP.BYTEARRAY8:
        return this.push(this.take(this.length(8)));

      case OP.EMPTY_TUPLE:
        return this.push(EMPTY_TUPLE);
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const count = op - OP.TUPLE1 + 1;
        const items = Array.from({ length: count }, () => this.pop()).reverse();
        return this.push(this.make(new PickleTuple(items), count));
      }
      case OP.TUPLE: {
        const items = this.popMark();
        return this.push(this.make(new PickleTuple(items), items.length));
      }
      case OP.EMPTY_LIST:
        return this.push(this.make([]));
      case OP.LIST: {
        const items = this.popMark();
        return this.push(this.make(items, items.length));
      }
      case OP.APPEND: {
        const item = this.pop();
        this.list(this.top()).push(item);
        return void this.count(1);
      }
      case OP.APPENDS: {
        const items = this.popMark();
        const list = this.list(this.top());
        for (const item of items) list.push(item);
        return void this.count(items.length);
      }
      case OP.EMPTY_DICT:
        return this.push(this.make(new Map()));
      case OP.DICT: {
        const items = this.popMark();
        return this.push(this.fill(this.make(new Map()), items));
      }
      case OP.SETITEM: {
        const value = this.pop();
        const key = this.pop();
        this.fill(this.top(), [key, value]);
        return;
      }
      case OP.SETITEMS: {
        const items = this.popMark();
        this.fill(this.top(), items);
        return;
      }
      case OP.EMPTY_SET:
        return this.push(this.make(new PickleSet(false)));
      case OP.ADDITEMS: {
        const items = this.popMark();
        const set = this.top();
        if (!(set instanceof PickleSet) || set.frozen) throw this.malformed(`adds items to ${describeValue(set)}, not a set`);
        for (const item of items) set.items.push(item);
        return void this.count(items.length);
      }
      case OP.FROZENSET: {
        const set = new PickleSet(true);
        for (const item of this.popMark()) set.items.push(item);
        return this.push(this.make(set, set.items.length));
      }

      case OP.BINPUT:
        return this.put(this.u8());
      case OP.LONG_BINPUT:
        return this.put(this.u32());
      case OP.MEMOIZE:
        return this.put(this.memo.size);
      case OP.BINGET:
        return this.get(this.u8());
      case OP.LONG_BINGET:
        return this.get(this.u32());

      case OP.GLOBAL: {
        const module = this.line();
        return this.push(this.global(module, this.line()));
      }
      case OP.STACK_GLOBAL: {
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.malformed(`names a global with ${describeValue(module)} and ${describeValue(name)}, not two strings`);
        return this.push(this.global(module, name));
      }
      case OP.REDUCE: {
        const args = this.pop();
        const callee = this.pop();
        return this.push(this.call(callee, args, 'calls'));
      }
      case OP.NEWOBJ: {
        const args = this.pop();
        const cls = this.pop();
        return this.push(this.call(cls, args, 'instantiates'));
      }
      case OP.BUILD: {
        const state = this.pop();
        const target = this.top();
        if (!this.rules.build(target, state)) throw new PickleRefusal('disallowed', `sets the state of ${describeValue(target)} with BUILD`);
        return;
      }
      case OP.BINPERSID: {
        const pid = this.pop();
        return this.push(this.make(this.rules.persistentLoad(pid)));
      }

      case OP.INST: {
        const module = this.line();
        throw new PickleRefusal('disallowed', `instantiates ${quoteName(`${module}.${this.line()}`)} with the INST opcode`);
      }
      case OP.OBJ: {
        const [cls] = this.popMark();
        throw new PickleRefusal('disallowed', `instantiates ${cls === undefined ? 'nothing' : describeValue(cls)} with the OBJ opcode`);
      }
      case OP.NEWOBJ_EX: {
        this.pop();
        this.pop();
        throw new PickleRefusal('disallowed', `instantiates ${describeValue(this.pop())} with keyword arguments (NEWOBJ_EX)`);
      }
      case OP.EXT1:
      case OP.EXT2:
      case OP.EXT4:
        throw new PickleRefusal('disallowed', `names a global through the copyreg extension registry (${OP_NAMES.get(op)}), which can stand for any class`);
      case OP.NEXT_BUFFER:
      case OP.READONLY_BUFFER:
        throw this.malformed(`refers to an out-of-band buffer (${OP_NAMES.get(op)}), which a file cannot carry`);
    }
    if (TEXT_OPCODES.has(op)) throw this.malformed(`uses the protocol 0 text opcode ${OP_NAMES.get(op)}, which torch.save does not write`);
    throw this.malformed(`has the byte 0x${op.toString(16).padStart(2, '0')}, which is not a pickle opcode`);
  }

  private global(module: string, name: string): PickleGlobal {
    const global = new PickleGlobal(module, name);
    if (!this.rules.allows(global)) throw new PickleRefusal('disallowed', `names ${quoteName(global.fullName)}, which is not on the allow-list`);
    return this.make(global);
  }

  private call(callee: PickleValue, args: PickleValue, verb: string): PickleValue {
    if (!(callee instanceof PickleGlobal)) throw new PickleRefusal('disallowed', `${verb} ${describeValue(callee)}`);
    if (!(args instanceof PickleTuple)) throw this.malformed(`${verb} ${quoteName(callee.fullName)} with ${describeValue(args)} as its arguments, not a tuple`);
    return this.make(this.rules.call(callee, args.items));
  }

  private fill(dict: PickleValue, items: readonly PickleValue[]): PickleDict {
    if (!(dict instanceof Map)) throw this.malformed(`sets items on ${describeValue(dict)}, not a dict`);
    if (items.length % 2 !== 0) throw this.malformed('sets a key without a value');
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]!;
      if (Array.isArray(key) || key instanceof Map || (key instanceof PickleSet && !key.frozen)) throw this.malformed(`uses ${describeValue(key)} as a dict key`);
      dict.set(key, items[i + 1]!);
    }
    this.count(items.length / 2);
    return dict;
  }

  private list(value: PickleValue): PickleValue[] {
    if (!Array.isArray(value)) throw this.malformed(`appends to ${describeValue(value)}, not a list`);
    return value;
  }

  private put(index: number): void {
    if (!this.memo.has(index) && this.memo.size >= this.limits.memo) throw new PickleRefusal('limit', `memoises more than ${this.limits.memo} values`);
    this.memo.set(index, this.top());
  }

  private get(index: number): void {
    if (!this.memo.has(index)) throw this.malformed(`refers to memo entry ${index}, which was never stored`);
    this.push(this.memo.get(index)!);
  }

  // -------------------------------------------------------------------------------------------
  // The stack

  private push(value: PickleValue): void {
    if (this.stack.length >= this.limits.stack) throw new PickleRefusal('limit', `holds more than ${this.limits.stack} values on its stack at once`);
    this.stack.push(value);
  }

  /** The topmost value above the innermost MARK, as Python's stack segments see it. */
  private top(): PickleValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw this.malformed('takes a value from an empty stack');
    return this.stack[this.stack.length - 1]!;
  }

  private pop(): PickleValue {
    const value = this.top();
    this.stack.length--;
    return value;
  }

  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.malformed('collects items without a MARK');
    return this.stack.splice(mark);
  }

  /** Counts `items` more pieces of work against the cap. */
  private count(items: number): void {
    this.built += items;
    if (this.built > this.limits.built) throw new PickleRefusal('limit', `builds more than ${this.limits.built} values`);
  }

  private make<T>(value: T, items = 0): T {
    this.count(1 + items);
    return value;
  }

  // -------------------------------------------------------------------------------------------
  // Arguments

  private need(count: number): void {
    if (count > this.bytes.length - this.pos) throw this.malformed(`ends inside the argument of ${OP_NAMES.get(this.op)}`);
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2, true);
  }

  private u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4, true);
  }

  /** A byte count of `width` bytes, which must fit in what is left of the pickle. */
  private length(width: 4 | 8): number {
    this.need(width);
    const value = width === 4 ? this.view.getUint32(this.pos, true) : this.view.getBigUint64(this.pos, true);
    this.pos += width;
    if (BigInt(value) > BigInt(this.bytes.length - this.pos)) throw this.malformed(`declares ${value} bytes for ${OP_NAMES.get(this.op)}, more than the pickle has left`);
    return Number(value);
  }

  private take(count: number): Uint8Array {
    this.need(count);
    this.pos += count;
    return this.make(this.bytes.subarray(this.pos - count, this.pos));
  }

  private text(count: number): string {
    const bytes = this.take(count);
    try {
      return UTF8.decode(bytes);
    } catch {
      throw this.malformed(`has a ${OP_NAMES.get(this.op)} string that is not valid UTF-8`);
    }
  }

  /** A little-endian two's-complement integer of `size` bytes, as a number when it is exact. */
  private long(size: number): number | bigint {
    if (size > MAX_LONG_BYTES) throw new PickleRefusal('limit', `has an integer of ${size} bytes`);
    const bytes = this.take(size);
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (size > 0 && bytes[size - 1]! & 0x80) value -= 1n << BigInt(size * 8);
    return Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value ? Number(value) : value;
  }

  /** A GLOBAL or INST argument: UTF-8 up to a newline. */
  private line(): string {
    const end = this.bytes.subarray(this.pos, this.pos + MAX_LINE_BYTES + 1).indexOf(0x0a) + this.pos;
    if (end < this.pos) throw this.malformed(`has a ${OP_NAMES.get(this.op)} name that does not end within ${MAX_LINE_BYTES} bytes`);
    const bytes = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    try {
      return UTF8.decode(bytes);
    } catch {
      throw this.malformed(`has a ${OP_NAMES.get(this.op)} name that is not valid UTF-8`);
    }
  }

  private malformed(what: string): PickleRefusal {
    return new PickleRefusal('malformed', `${what} (at byte ${this.at})`);
  }
}
