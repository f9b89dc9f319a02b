/**
 * Just enough of the protobuf wire format to walk an ONNX model: tags, varints, fixed 32/64-bit
 * values and length-delimited fields (with packed repeated scalars inside them). Every length is
 * checked against the end of the message that holds it, so a truncated or overlong input is a
 * ProtobufError, never a read past the end or a silent misparse. Offsets are absolute file
 * offsets, so callers can note where a large field lies and read it later instead of holding it.
 */

/** The wire types this decoder accepts; groups (3, 4) are deprecated and not used by ONNX. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** A malformed message. Callers turn it into a Conv1Error that names the file. */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
  /** Absolute offset of the byte where decoding failed. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

export interface FieldHeader {
  field: number;
  wireType: WireType;
  /** Absolute offset of the payload: after the tag, and after the length for length-delimited fields. */
  start: number;
  /** Absolute offset just past the payload. */
  end: number;
  /** A varint field's value as an unsigned 64-bit integer; 0n for other wire types. */
  value: bigint;
}

/** The longest a tag plus a length (or a varint value) can be: two 10-byte varints. */
export const MAX_FIELD_HEADER_BYTES = 20;
const MAX_VARINT_BYTES = 10;

/**
 * Decodes a varint starting at bytes[index]. `base` is the absolute offset of bytes[0]; `limit` the
 * index where the enclosing message ends.
 */
export function readVarint(bytes: Uint8Array, index: number, limit: number, base: number): { value: bigint; next: number } {
  let value = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (index + i >= limit) throw new ProtobufError('a varint runs past the end of its message (truncated input)', base + index);
    const byte = bytes[index + i]!;
    // The 10th byte carries bit 63 only; more would not fit in 64 bits.
    if (i === MAX_VARINT_BYTES - 1 && (byte & 0x7f) > 1) throw new ProtobufError('a varint does not fit in 64 bits (overlong input)', base + index);
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value, next: index + i + 1 };
  }
  throw new ProtobufError('a varint is longer than 10 bytes (overlong input)', base + index);
}

/**
 * Decodes the field header at bytes[index] (absolute offset base + index). `messageEnd` is the
 * absolute end of the enclosing message: a payload must end within it.
 */
export function readFieldHeader(bytes: Uint8Array, index: number, base: number, messageEnd: number): FieldHeader {
  const limit = Math.min(bytes.length, messageEnd - base);
  const at = base + index;
  const tag = readVarint(bytes, index, limit, base);
  if (tag.value > 0xffffffffn) throw new ProtobufError('a field tag is larger than 32 bits', at);
  const field = Number(tag.value >> 3n);
  const wireType = Number(tag.value & 7n);
  if (field === 0) throw new ProtobufError('a field has the number 0, which protobuf forbids', at);
  let start = base + tag.next;
  let end: number;
  let value = 0n;
  switch (wireType) {
    case WireType.Varint: {
      const varint = readVarint(bytes, tag.next, limit, base);
      value = varint.value;
      end = base + varint.next;
      break;
    }
    case WireType.Fixed64:
      end = start + 8;
      break;
    case WireType.Fixed32:
      end = start + 4;
      break;
    case WireType.LengthDelimited: {
      const length = readVarint(bytes, tag.next, limit, base);
      start = base + length.next;
      if (length.value > BigInt(messageEnd - start))
        throw new ProtobufError(`field ${field} declares ${length.value} bytes, but its message has only ${messageEnd - start} left (truncated or overlong input)`, at);
      end = start + Number(length.value);
      break;
    }
    default:
      throw new ProtobufError(`field ${field} uses wire type ${wireType}, which is ${wireType === 3 || wireType === 4 ? 'the deprecated group encoding' : 'not a protobuf wire type'}`, at);
  }
  if (end > messageEnd) throw new ProtobufError(`field ${field} runs past the end of its message (truncated input)`, at);
  return { field, wireType: wireType as WireType, start, end, value };
}

/** A varint field's value as a count, length or enum: a non-negative safe integer. */
export function unsignedValue(header: FieldHeader): number {
  if (header.value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtobufError(`field ${header.field} holds ${header.value}, too large for this reader`, header.start);
  return Number(header.value);
}

/** Signed int64 and int32 fields store negatives as 64-bit two's complement varints. */
export function signedValue(value: bigint, offset: number): number {
  const signed = BigInt.asIntN(64, value);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER))
    throw new ProtobufError(`an integer field holds ${signed}, too large for this reader`, offset);
  return Number(signed);
}

/** The values of a packed repeated int32/int64 field, decoded as signed. */
export function readPackedSigned(bytes: Uint8Array, base: number): number[] {
  const values: number[] = [];
  for (let index = 0; index < bytes.length; ) {
    const varint = readVarint(bytes, index, bytes.length, base);
    values.push(signedValue(varint.value, base + index));
    index = varint.next;
  }
  return values;
}

/** A message held in memory, read field by field. */
export class ProtoReader {
  readonly bytes: Uint8Array;
  /** Absolute offset of bytes[0]. */
  readonly base: number;

  constructor(bytes: Uint8Array, base = 0) {
    this.bytes = bytes;
    this.base = base;
  }

  *fields(): Generator<FieldHeader> {
    for (let index = 0; index < this.bytes.length; ) {
      const header = readFieldHeader(this.bytes, index, this.base, this.base + this.bytes.length);
      index = header.end - this.base;
      yield header;
    }
  }

  payload(header: FieldHeader): Uint8Array {
    return this.bytes.subarray(header.start - this.base, header.end - this.base);
  }

  nested(header: FieldHeader): ProtoReader {
    return new ProtoReader(this.payload(header), header.start);
  }

  string(header: FieldHeader): string {
    return decodeUtf8(this.payload(header), header);
  }
}

/**
 * A file read in chunks through a range reader. Small reads are served from one cached chunk;
 * a read at least a chunk long goes straight to the file, so skipping a large field costs nothing.
 */
export class ChunkedSource {
  readonly size: number;
  private readonly readRange: (offset: number, length: number) => Promise<Uint8Array>;
  private readonly chunkBytes: number;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;

  constructor(readRange: (offset: number, length: number) => Promise<Uint8Array>, size: number, chunkBytes: number) {
    this.readRange = readRange;
    this.size = size;
    this.chunkBytes = chunkBytes;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.chunkStart && offset + length <= this.chunkStart + this.chunk.length)
      return this.chunk.subarray(offset - this.chunkStart, offset - this.chunkStart + length);
    if (length >= this.chunkBytes) return this.readRange(offset, length);
    this.chunk = await this.readRange(offset, Math.min(this.chunkBytes, this.size - offset));
    this.chunkStart = offset;
    return this.chunk.subarray(0, length);
  }
}

/**
 * A message in a file, read field by field: headers come from the source's chunk, and a payload is
 * only read when asked for, so the fields a caller skips are never read.
 */
export class ProtoStream {
  readonly source: ChunkedSource;
  readonly start: number;
  readonly end: number;

  constructor(source: ChunkedSource, start: number, end: number) {
    this.source = source;
    this.start = start;
    this.end = end;
  }

  async *fields(): AsyncGenerator<FieldHeader> {
    for (let position = this.start; position < this.end; ) {
      const head = await this.source.read(position, Math.min(MAX_FIELD_HEADER_BYTES, this.end - position));
      const header = readFieldHeader(head, 0, position, this.end);
      position = header.end;
      yield header;
    }
  }

  /** The payload of a length-delimited field, refused when longer than `maxBytes`. */
  async payload(header: FieldHeader, maxBytes: number): Promise<Uint8Array> {
    const length = header.end - header.start;
    if (length > maxBytes) throw new ProtobufError(`field ${header.field} holds ${length} bytes, more than the ${maxBytes} this reader accepts there`, header.start);
    return this.source.read(header.start, length);
  }

  async string(header: FieldHeader, maxBytes: number): Promise<string> {
    return decodeUtf8(await this.payload(header, maxBytes), header);
  }

  nested(header: FieldHeader): ProtoStream {
    return new ProtoStream(this.source, header.start, header.end);
  }
}

function decodeUtf8(bytes: Uint8Array, header: FieldHeader): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ProtobufError(`field ${header.field} should hold UTF-8 text but does not`, header.start);
  }
}
