import { describe, expect, it } from 'vitest';
import { decodeLittleEndian } from '../../src/lib/formats/dtypes.ts';
import { mulberry32 } from '../helpers/tfjs-fixture.ts';

/** float32 as the reference decodes it: value by value through a DataView, little-endian. */
function viaDataView(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** The bits of each float, so that NaNs and -0 compare exactly. */
function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

describe('decodeLittleEndian float32', () => {
  it('decodes random bit patterns, at every alignment within a larger buffer, as a DataView does', () => {
    const next = mulberry32(11);
    const backing = Uint8Array.from({ length: 4 * 1000 + 3 }, () => Math.floor(next() * 256));
    for (const offset of [0, 1, 2, 3]) {
      const bytes = backing.subarray(offset, offset + 4 * 1000);
      const decoded = decodeLittleEndian(bytes, 'float32');
      const expected = viaDataView(bytes);
      // NaN payloads may differ between the two (a DataView read goes through a double); every
      // other value must be identical to the bit.
      const same = Array.from(decoded, (value, i) => (Number.isNaN(value) ? Number.isNaN(expected[i]!) : Object.is(value, expected[i]!)));
      expect(same.every(Boolean)).toBe(true);
    }
  });

  it('keeps special values and copies rather than aliases the input', () => {
    const values = Float32Array.of(0, -0, 1, -1.5, Number.MIN_VALUE, 3.4028234663852886e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45);
    const bytes = new Uint8Array(values.buffer.slice(0));
    const decoded = decodeLittleEndian(bytes, 'float32');
    expect(Array.from(bits(decoded))).toEqual(Array.from(bits(values)));
    bytes.fill(0);
    expect(Array.from(bits(decoded))).toEqual(Array.from(bits(values)));
  });

  it('decodes an empty range to an empty array', () => {
    expect(decodeLittleEndian(new Uint8Array(0), 'float32')).toEqual(new Float32Array(0));
  });
});
