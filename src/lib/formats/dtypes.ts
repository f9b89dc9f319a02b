import { endianness } from 'node:os';

/** Decoding of the numeric encodings model files use, into float32. */

/** On a little-endian host a float32 stream is already in memory order, so a copy decodes it. */
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Reads little-endian values of `dtype` from `bytes` into float32. */
export function decodeLittleEndian(bytes: Uint8Array, dtype: 'float32' | 'float16' | 'bfloat16' | 'uint8' | 'uint16'): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32': {
      if (HOST_IS_LITTLE_ENDIAN) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = float16ToFloat32(view.getUint16(i * 2, true));
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the upper half of a float32: shifting the bits back up is exact, NaNs included.
      const out = new Float32Array(bytes.byteLength / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'uint16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
      return out;
    }
    case 'uint8':
      return Float32Array.from(bytes);
  }
}
