import { createRequire } from 'node:module';

/** The optional native convolution (native/conv2d.cc), when it was built for this machine. */
export interface NativeConv {
  conv2d(input: Float32Array, height: number, width: number, cin: number, kernel: Float32Array, kh: number, kw: number, cout: number, threads: number): Float32Array;
  kernelName(cout: number): 'avx512' | 'avx2' | 'portable';
}

let native: NativeConv | null | undefined;

export function loadNativeConv(): NativeConv | undefined {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('../../../native/build/Release/conv1_native.node') as NativeConv;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}
