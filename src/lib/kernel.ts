/**
 * The one agreed shape for first-layer weights. Whatever the file format, readers hand over a Kernel
 * in HWIO layout (height, width, input channel, output filter), float32, plus what the page needs to
 * explain it. Layout and channel-order conversions live here and nowhere else.
 */
export type ChannelOrder = 'rgb' | 'bgr';

export interface Kernel {
  /** float32 weights, HWIO, C order: index = ((y * kw + x) * cin + c) * cout + f. */
  data: Float32Array;
  shape: [kh: number, kw: number, cin: number, cout: number];
  /** Name of the layer the kernel belongs to, as the model calls it. */
  layer: string;
  /** The layer's class or op, e.g. Conv2D. */
  layerType: string;
  strides: [number, number];
  /** Channel order of the model's input, i.e. of the kernel's `cin` axis. */
  channelOrder: ChannelOrder;
  /** Why we believe that channel order: an option, a preset for a known model, or the default. */
  channelOrderSource: string;
  /** Per-channel means (in `channelOrder`) the model subtracts from 0–255 pixels before conv1. */
  inputMean: [number, number, number];
  /** The file format the kernel was read from. */
  format: string;
  /** Where the model came from, for display. */
  source: string;
  /** Bytes actually read from the model's files to get this kernel (metadata included). */
  bytesRead: number;
}

export function kernelIndex(kernel: Kernel, y: number, x: number, c: number, f: number): number {
  const [, kw, cin, cout] = kernel.shape;
  return ((y * kw + x) * cin + c) * cout + f;
}

/**
 * For each display channel R, G, B: the kernel's input channel to show there. A BGR kernel shows
 * input channel 2 as red; a single-channel kernel shows its one channel as grey.
 */
export function displayChannels(kernel: Pick<Kernel, 'shape' | 'channelOrder'>): [number, number, number] {
  const cin = kernel.shape[2];
  if (cin === 1) return [0, 0, 0];
  return kernel.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
}

/** The input channels to show, in display order: R, G, B for colour kernels, all of them otherwise. */
export function channelsForDisplay(kernel: Pick<Kernel, 'shape' | 'channelOrder'>): { index: number; name: string }[] {
  const cin = kernel.shape[2];
  if (cin === 3) return displayChannels(kernel).map((index, d) => ({ index, name: 'RGB'[d]! }));
  return Array.from({ length: cin }, (_, index) => ({ index, name: cin === 1 ? 'grey' : `c${index}` }));
}

/**
 * PyTorch and ONNX store convolution weights OIHW (filter, input channel, row, column); a Kernel is
 * HWIO. Returns a new array; `data` is left as it is.
 */
export function oihwToHwio(data: Float32Array, [o, i, h, w]: readonly [number, number, number, number]): Float32Array {
  if (data.length !== o * i * h * w) throw new RangeError(`oihwToHwio: ${data.length} values do not fill the shape [${o}, ${i}, ${h}, ${w}]`);
  const out = new Float32Array(data.length);
  let from = 0;
  for (let f = 0; f < o; f++)
    for (let c = 0; c < i; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y * w + x) * i + c) * o + f] = data[from++]!;
  return out;
}
