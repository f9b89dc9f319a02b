/**
 * What a reader's browser downloads when an article opens: every response until the network is
 * idle, at a laptop-sized viewport, from a static server that gzips text as static hosts do.
 * Images below the fold are lazy and are not fetched until scrolled to. JavaScript is counted
 * twice: all JS transferred on load (external, gzipped), and the size of inline scripts.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export interface PageWeight {
  page: string;
  requests: number;
  transferred: number;
  html: number;
  css: number;
  js: number;
  images: number;
  inlineJs: number;
}

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', css: 'text/css', js: 'text/javascript', png: 'image/png', webp: 'image/webp', avif: 'image/avif', svg: 'image/svg+xml' };

export async function measurePageWeight(dist: URL, base: string, pages: string[]): Promise<PageWeight[]> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!);
    let file = new URL(path.slice(base.length), dist);
    if ((await stat(file).catch(() => undefined))?.isDirectory()) file = new URL('index.html', `${file.href.replace(/\/?$/, '/')}`);
    const body = await readFile(file).catch(() => undefined);
    if (!path.startsWith(base) || !body) return void response.writeHead(404).end();
    const type = TYPES[file.pathname.split('.').pop()!] ?? 'application/octet-stream';
    const compress = /text|javascript|svg/.test(type) && /gzip/.test(String(request.headers['accept-encoding']));
    response.writeHead(200, { 'Content-Type': type, ...(compress ? { 'Content-Encoding': 'gzip' } : {}) }).end(compress ? gzipSync(body, { level: 9 }) : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results: PageWeight[] = [];
  try {
    for (const page of pages) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const tab = await context.newPage();
      const cdp = await context.newCDPSession(tab);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      const types = new Map<string, string>();
      const sizes = new Map<string, number>();
      cdp.on('Network.responseReceived', (event) => types.set(event.requestId, event.type));
      cdp.on('Network.loadingFinished', (event) => sizes.set(event.requestId, event.encodedDataLength));
      await tab.goto(`${origin}${base}${page}`, { waitUntil: 'networkidle' });
      const sum = (type?: string) => [...sizes].filter(([id]) => !type || types.get(id) === type).reduce((total, [, size]) => total + size, 0);
      const inlineJs = await tab.evaluate(() => [...document.querySelectorAll('script:not([src])')].reduce((total, s) => total + (s.textContent?.length ?? 0), 0));
      results.push({ page, requests: sizes.size, transferred: sum(), html: sum('Document'), css: sum('Stylesheet'), js: sum('Script'), images: sum('Image'), inlineJs });
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return results;
}
