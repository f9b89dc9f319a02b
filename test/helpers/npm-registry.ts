/**
 * A local stand-in for the npm registry: a packument per package and its tarball, served over
 * HTTP, with ways to lie (a wrong integrity, a tampered tarball) and to be slow (so a test can
 * interrupt a download). Tarballs are built in memory with a minimal ustar writer, so the same
 * files always give the same bytes and the same integrity.
 */
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** A ustar archive of `files` under the folder package/, as npm pack lays a package out. */
export function tarball(files: Record<string, Uint8Array | string>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const header = Buffer.alloc(512);
    const path = `package/${name}`;
    if (Buffer.byteLength(path) > 100) throw new Error(`tarball: name too long for a plain ustar header: ${path}`);
    header.write(path, 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136); // mtime 0: the same files give the same bytes
    header.write('        ', 148); // the checksum is computed with its own field as spaces
    header.write('0', 156);
    header.write('ustar\0' + '00', 257);
    const checksum = header.reduce((sum, byte) => sum + byte, 0);
    header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 6 });
}

export function sriSha512(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

export interface RegistryPackage {
  name: string;
  version: string;
  tarball: Uint8Array;
  /** The integrity the packument advertises; by default the tarball's real sha512. */
  advertisedIntegrity?: string;
}

export interface RegistryOptions {
  /** Serve tarballs in pieces of this many bytes, waiting `delayMs` before each one. */
  throttle?: { chunkBytes: number; delayMs: number };
}

export interface LocalRegistry {
  /** The registry's URL, ending in a slash. */
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startRegistry(packages: RegistryPackage[], options: RegistryOptions = {}): Promise<LocalRegistry> {
  const requests: string[] = [];
  const open = new Set<ServerResponse>();
  let base = '';
  const tarballPath = (pkg: RegistryPackage) => `/${pkg.name}/-/${pkg.name.split('/').pop()}-${pkg.version}.tgz`;
  const server = createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!);
    requests.push(path);
    open.add(response);
    response.on('close', () => open.delete(response));
    const byPackument = packages.filter((pkg) => path === `/${pkg.name}`);
    if (byPackument.length > 0) {
      const versions = Object.fromEntries(
        byPackument.map((pkg) => [
          pkg.version,
          { name: pkg.name, version: pkg.version, dist: { tarball: `${base}${tarballPath(pkg).slice(1)}`, integrity: pkg.advertisedIntegrity ?? sriSha512(pkg.tarball) } },
        ]),
      );
      const packument = { name: byPackument[0]!.name, 'dist-tags': { latest: byPackument.at(-1)!.version }, versions };
      // no-store keeps npm's own HTTP cache (pacote's) from remembering this server's port.
      response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(packument));
      return;
    }
    const pkg = packages.find((candidate) => tarballPath(candidate) === path);
    if (!pkg) return void response.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}');
    response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(pkg.tarball.length), 'Cache-Control': 'no-store' });
    if (!options.throttle) return void response.end(pkg.tarball);
    const { chunkBytes, delayMs } = options.throttle;
    let at = 0;
    const next = () => {
      if (response.destroyed) return;
      if (at >= pkg.tarball.length) return void response.end();
      response.write(pkg.tarball.subarray(at, at + chunkBytes));
      at += chunkBytes;
      setTimeout(next, delayMs);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // A client killed mid-download leaves its socket open; do not wait for it.
        for (const response of open) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
