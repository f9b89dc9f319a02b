/**
 * "Your own photo": loaded only when a reader picks a photo. It runs the same preprocessing,
 * convolution and grey mapping as the build (src/lib/convolve/response.ts), on the kernel the build
 * published, so the browser's response matches the build's for the same image.
 */
import { convolveFilter, preprocess, responseImage, type KernelLike } from '../../compiled/lib/convolve/response.js';
import type { RgbImage } from '../../compiled/lib/render/image.js';

/** Kernels by URL: explorers of two models on one page each have their own. */
const kernels = new Map<string, Promise<KernelLike>>();

function loadKernel(explorer: HTMLElement): Promise<KernelLike> {
  const url = explorer.dataset.kernel!;
  let kernel = kernels.get(url);
  if (kernel) return kernel;
  kernel = (async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`kernel: HTTP ${response.status}`);
    const bytes = new DataView(await response.arrayBuffer());
    const data = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < data.length; i++) data[i] = bytes.getFloat32(i * 4, true);
    return {
      data,
      shape: explorer.dataset.shape!.split(',').map(Number) as [number, number, number, number],
      channelOrder: explorer.dataset.channelOrder === 'bgr' ? 'bgr' : 'rgb',
      inputMean: explorer.dataset.mean!.split(',').map(Number) as [number, number, number],
    };
  })();
  kernels.set(url, kernel);
  return kernel;
}

/** Decodes the photo to RGB at most `width` pixels wide, as the build scales its photos (never enlarging). */
async function decodePhoto(file: Blob, width: number): Promise<RgbImage> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, width / bitmap.width);
  const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
  const context = canvas.getContext('2d')!;
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const data = new Uint8Array(canvas.width * canvas.height * 3);
  for (let p = 0; p < canvas.width * canvas.height; p++) data.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
  return { width: canvas.width, height: canvas.height, data };
}

function draw(canvas: HTMLCanvasElement, image: RgbImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const pixels = new ImageData(image.width, image.height);
  for (let p = 0; p < image.width * image.height; p++) {
    pixels.data.set(image.data.subarray(p * 3, p * 3 + 3), p * 4);
    pixels.data[p * 4 + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

export async function showOwnPhoto(explorer: HTMLElement, file: Blob, filter: number): Promise<void> {
  const status = explorer.querySelector<HTMLElement>('.own-photo .status')!;
  const responseCanvas = explorer.querySelector<HTMLCanvasElement>('.own-response')!;
  status.textContent = status.dataset.working!;
  try {
    const started = performance.now();
    const [weights, photo] = await Promise.all([loadKernel(explorer), decodePhoto(file, Number(explorer.dataset.photoWidth))]);
    const f = Math.max(0, Math.min(weights.shape[3] - 1, Math.trunc(filter) || 0));
    const response = responseImage(convolveFilter(preprocess(photo, weights), weights, f));
    draw(explorer.querySelector<HTMLCanvasElement>('.own-input')!, photo);
    draw(responseCanvas, response);
    responseCanvas.setAttribute('aria-label', responseCanvas.dataset.alt!.replace('{f}', String(f)));
    status.textContent = status.dataset
      .done!.replace('{w}', String(response.width))
      .replace('{h}', String(response.height))
      .replace('{ms}', String(Math.round(performance.now() - started)));
  } catch {
    status.textContent = status.dataset.failed!;
  }
}
