/**
 * A float32 safetensors file: the 8-byte little-endian header length, the JSON header padded with
 * spaces to a multiple of 8 (as the reference writer pads), then each tensor's little-endian bytes
 * in the order given, which is also the header's order. The same tensors and metadata always give
 * the same bytes.
 */

export interface F32Tensor {
  name: string;
  shape: readonly number[];
  values: Float32Array;
}

export function encodeSafetensors(tensors: readonly F32Tensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let at = 0;
  for (const { name, shape, values } of tensors) {
    if (values.length !== shape.reduce((a, b) => a * b, 1)) throw new RangeError(`${name}: ${values.length} values do not fill the shape [${shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + values.length * 4] };
    at += values.length * 4;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + at);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  out.set(json, 8);
  let position = 8 + headerLength;
  for (const { values } of tensors)
    for (const value of values) {
      view.setFloat32(position, value, true);
      position += 4;
    }
  return out;
}
