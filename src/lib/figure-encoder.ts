import type { FigureRef } from './figures.ts';
import type { RgbImage } from './render/image.ts';
import { encodePng } from './render/png.ts';

/** Encodes in flight at once: enough to fill libuv's default pool of four threads. */
const ENCODE_CONCURRENCY = 4;

/**
 * Photos and response maps are continuous-tone: WebP at effort 2 (twice as fast as the default 4,
 * files about 6% larger). AVIF was measured against it (npm run bench, BENCHMARKS.md §3): at the
 * WebP's fidelity it saves only about 10% of the bytes for an encode 8 to 15 times slower, short of
 * what a slower cold build would need to pay for, so both kinds of figure stay WebP; the bench
 * checks this choice against its own rule on every run.
 */
export const TONE_ENCODING = {
  small: { format: 'webp', quality: 80, effort: 2 },
  large: { format: 'webp', quality: 80, effort: 2 },
} as const;

/**
 * Collects a model's figure files as they are encoded. Encoding is most of a cold build's work;
 * sharp encodes on libuv's thread pool, so a few at a time keep every core busy. Each continuous-tone
 * image is drawn only when its encode can start: drawing all of them up front would hold every image
 * in memory and leave the encoders idle while this thread draws.
 */
export class FigureEncoder {
  readonly files = new Map<string, Uint8Array>();
  private readonly encoding = new Set<Promise<unknown>>();

  private async queue<T>(job: () => Promise<T>): Promise<T> {
    while (this.encoding.size >= ENCODE_CONCURRENCY) await Promise.race(this.encoding);
    const running = job();
    const tracked = running.finally(() => this.encoding.delete(tracked));
    this.encoding.add(tracked);
    return running;
  }

  /**
   * A figure of exact pixels (grids, filters), lossless. Encoded at once on this thread (render/png.ts),
   * while sharp encodes the continuous-tone figures on libuv's.
   */
  png(file: string, image: RgbImage): FigureRef {
    this.files.set(file, encodePng(image));
    return { file, width: image.width, height: image.height };
  }

  /**
   * A continuous-tone figure. A large one comes at full width with a half-width rendition for
   * phones; the explorer's many small responses come at half width only, which is most of the
   * encoding a cold build saves.
   */
  tone(name: string, drawHalf: () => RgbImage, drawFull?: () => RgbImage): Promise<FigureRef> {
    return this.queue(async () => {
      const halfImage = drawHalf();
      const half = await this.encodeTone(`${name}-${halfImage.width}w`, halfImage, drawFull ? 'large' : 'small');
      if (!drawFull) return half;
      return { ...(await this.encodeTone(name, drawFull(), 'large')), variants: [half] };
    });
  }

  private async encodeTone(file: string, image: RgbImage, size: keyof typeof TONE_ENCODING): Promise<FigureRef> {
    const { default: sharp } = await import('sharp');
    const { format, ...settings } = TONE_ENCODING[size];
    const bytes = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).toFormat(format, settings).toBuffer();
    this.files.set(`${file}.${format}`, bytes);
    return { file: `${file}.${format}`, width: image.width, height: image.height };
  }
}
