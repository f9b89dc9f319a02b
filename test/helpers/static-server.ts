import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css',
  js: 'text/javascript',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  json: 'application/json',
};

/** Serves a built site from `dir` under the path `base`, as a static host would; everything else is 404. */
export async function serveStatic(dir: URL, base: string): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!);
    requests.push(path);
    if (!path.startsWith(base) || path.includes('..')) return void response.writeHead(404).end();
    let file = new URL(path.slice(base.length), dir);
    if ((await stat(file).catch(() => undefined))?.isDirectory()) file = new URL('index.html', `${file.href.replace(/\/?$/, '/')}`);
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'Content-Type': TYPES[file.pathname.split('.').pop()!] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${base}`, server, requests };
}
