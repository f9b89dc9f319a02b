import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { Conv1Error, readKernel, readModel } from '../../src/lib/index.ts';
import { runPipelineInThread } from '../../src/lib/pipeline-in-thread.ts';
import { HttpModelFiles } from '../../src/lib/sources/http-model-files.ts';
import {
  constNode,
  conv2dLayer,
  convNode,
  denseLayer,
  inputLayer,
  kerasLayer,
  placeholderNode,
  planWeights,
  randomWeight,
  shardName,
  shardsTouched,
  TempDirs,
  writeTfjsGraphModel,
  writeTfjsModel,
  type ModelJson,
} from '../helpers/tfjs-fixture.ts';
import { runCli } from '../helpers/cli.ts';
import { conv1Error } from '../helpers/conv1-error.ts';
import { detectFormat } from '../../src/lib/formats/registry.ts';
import { HeadCachingFiles, LocalModelFiles } from '../../src/lib/sources/model-files.ts';
import { keras3Config, writeKeras3Weights, writeKerasH5, writeKerasZip } from '../helpers/h5-fixture.ts';
import { convWeights, denseWeights, keras3Inbound, withInbound } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
const servers: Server[] = [];
const tcpServers: TcpServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const server of tcpServers.splice(0)) await new Promise((resolve) => server.close(resolve));
  await dirs.cleanup();
});

interface ServeOptions {
  /** Honour Range headers (206); otherwise every GET is answered 200 with the whole file. */
  ranges?: boolean;
  /** Answer HEAD; otherwise 405. */
  head?: boolean;
  /** Accept connections but never answer. */
  silent?: boolean;
  /** Wait this long before answering each request. */
  delayMs?: number;
  /** Answers a request itself (a redirect, a stall) when it returns true; the files answer the rest. */
  route?: (path: string, request: IncomingMessage, response: ServerResponse) => boolean;
}

/** Serves the files of `dir` at http://127.0.0.1:<port>/, recording each request as "METHOD /path[?query] [range]". */
async function serve(dir: URL, options: ServeOptions = {}): Promise<{ base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    const range = request.headers.range;
    requests.push(`${request.method} ${request.url}${range ? ` ${range}` : ''}`);
    if (options.silent) return;
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (options.route?.(path, request, response)) return;
    const body = path.includes('..') ? undefined : await readFile(new URL(`.${path}`, dir)).catch(() => undefined);
    if (!body) return void response.writeHead(404, 'Not Found').end();
    if (request.method === 'HEAD') {
      if (options.head === false) return void response.writeHead(405, 'Method Not Allowed').end();
      return void response.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': options.ranges === false ? 'none' : 'bytes' }).end();
    }
    const match = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
    if (!match || options.ranges === false) return void response.writeHead(200, { 'Content-Length': body.length }).end(body);
    const start = Number(match[1]);
    if (start >= body.length) return void response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    const end = Math.min(Number(match[2]), body.length - 1);
    response.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1 }).end(body.subarray(start, end + 1));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

/**
 * input_1 -> conv1 -> flat -> fc with shards of 256 bytes: fc/kernel (560 bytes), conv1/kernel (192
 * bytes, inside shard 3 at 48..239), conv1/bias, fc/bias; 7 shards in all.
 */
async function layersModel(editModelJson?: (json: ModelJson) => void) {
  const dir = await dirs.make();
  const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [2, 2], 4), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 2)];
  const weights = [randomWeight('fc/kernel', [140], 1), randomWeight('conv1/kernel', [2, 2, 3, 4], 2), randomWeight('conv1/bias', [4], 3), randomWeight('fc/bias', [200], 4)];
  const url = await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 256, ...(editModelJson ? { editModelJson } : {}) });
  const plan = planWeights(weights);
  expect(Math.ceil(plan.totalBytes / 256)).toBe(7);
  expect(shardsTouched(560, 192, 256, plan.totalBytes)).toEqual([shardName(2, 7)]);
  return { dir, url, kernel: weights[1]!, jsonBytes: (await stat(url)).size };
}

/** Placeholder -> _FusedConv2D whose filter (216 bytes at 200..415) spans shards 1 and 2 of 256 bytes. */
async function graphModel() {
  const dir = await dirs.make();
  const filter = randomWeight('w', [3, 3, 3, 2], 5);
  const nodes = [placeholderNode('input'), constNode('pad', [50]), constNode('w', [3, 3, 3, 2]), constNode('b', [2]), convNode('_FusedConv2D', 'conv', 'input', 'w', { strides: [2, 2], extraInputs: ['b'] })];
  const weights = [randomWeight('pad', [50], 6), filter, randomWeight('b', [2], 7), randomWeight('tail', [40], 8)];
  const url = await writeTfjsGraphModel(dir, { nodes, weights, shardBytes: 256 });
  expect(shardsTouched(200, 216, 256, planWeights(weights).totalBytes)).toEqual([shardName(0, 3), shardName(1, 3)]);
  return { dir, url, filter, jsonBytes: (await stat(url)).size };
}

describe('a model over HTTP with range requests', () => {
  it('layers model: asks only for model.json (its first bytes once), the first shard size and the kernel range; reads what a local read reads', async () => {
    const { dir, url, kernel, jsonBytes } = await layersModel();
    const { base, requests } = await serve(dir);
    const { kernel: remote } = await readModel(`${base}model.json`);
    expect(requests).toEqual([
      'HEAD /model.json',
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`,
      'HEAD /group1-shard1of7.bin',
      'HEAD /group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
    ]);
    const local = await readKernel(url);
    expect(Array.from(remote.data)).toEqual(Array.from(kernel.values));
    expect(Array.from(remote.data)).toEqual(Array.from(local.data));
    expect(remote).toMatchObject({ format: 'tfjs-layers', layer: 'conv1', shape: [2, 2, 3, 4], source: `${base}model.json`, bytesRead: local.bytesRead });
  });

  it('graph model: a filter spanning two shards costs one range in each', async () => {
    const { dir, url, filter, jsonBytes } = await graphModel();
    const { base, requests } = await serve(dir);
    const remote = await readKernel(new URL('model.json', base));
    expect(requests).toEqual([
      'HEAD /model.json',
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`,
      'HEAD /group1-shard1of3.bin',
      'HEAD /group1-shard2of3.bin',
      'GET /group1-shard1of3.bin bytes=200-255',
      'GET /group1-shard2of3.bin bytes=0-159',
    ]);
    expect(Array.from(remote.data)).toEqual(Array.from(filter.values));
    expect(remote).toMatchObject({ format: 'tfjs-graph', layer: 'conv', strides: [2, 2], source: `${base}model.json`, bytesRead: (await readKernel(url)).bytesRead });
  });

  it('carries the query string of model.json to the shards, as tfjs does', async () => {
    const { dir } = await layersModel();
    const { base, requests } = await serve(dir);
    await readKernel(`${base}model.json?tfjs-format=file`);
    expect(requests.filter((r) => r.includes('shard'))).toEqual([
      'HEAD /group1-shard1of7.bin?tfjs-format=file',
      'HEAD /group1-shard3of7.bin?tfjs-format=file',
      'GET /group1-shard3of7.bin?tfjs-format=file bytes=48-239',
    ]);
  });

  it('a server that refuses HEAD: sizes come from a one-byte range', async () => {
    const { dir, kernel } = await layersModel();
    const { base, requests } = await serve(dir, { head: false });
    const remote = await readKernel(`${base}model.json`);
    expect(Array.from(remote.data)).toEqual(Array.from(kernel.values));
    expect(requests.filter((r) => r.includes('shard'))).toEqual([
      'HEAD /group1-shard1of7.bin',
      'GET /group1-shard1of7.bin bytes=0-0',
      'HEAD /group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=0-0',
      'GET /group1-shard3of7.bin bytes=48-239',
    ]);
  });

  it('asks for each size once, however often the reader needs it', async () => {
    const { dir } = await layersModel();
    const { base, requests } = await serve(dir);
    const files = new HttpModelFiles(new URL('model.json', base));
    const sizes = await Promise.all([files.size('group1-shard1of7.bin'), files.size('group1-shard1of7.bin')]);
    expect(await files.size('group1-shard1of7.bin')).toBe(256);
    expect(sizes).toEqual([256, 256]);
    expect(requests).toEqual(['HEAD /group1-shard1of7.bin']);
  });
});

describe('a server without range support', () => {
  it('small files are taken whole, once each', async () => {
    const { dir, kernel, jsonBytes } = await layersModel();
    const { base, requests } = await serve(dir, { ranges: false });
    const remote = await readKernel(`${base}model.json`);
    expect(Array.from(remote.data)).toEqual(Array.from(kernel.values));
    expect(requests).toEqual([
      'HEAD /model.json',
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      'HEAD /group1-shard1of7.bin',
      'HEAD /group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
    ]);
    // What was downloaded: model.json and the kernel's shard, whole.
    expect(remote.bytesRead).toBe(jsonBytes + 256);
  });

  it('a file above the limit is refused with a hint about range requests', async () => {
    const dir = await dirs.make();
    // A single 4.8 MB shard, above the default 4 MiB a range-less server may send whole.
    const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [1, 1], 1), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 2)];
    const weights = [randomWeight('fc/kernel', [1_200_000], 9), randomWeight('conv1/kernel', [1, 1, 3, 1], 10)];
    await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 8 << 20 });
    const { base, requests } = await serve(dir, { ranges: false });
    const error = await conv1Error(readKernel(`${base}model.json`));
    expect(error.file).toBe(`${base}${shardName(0, 1)}`);
    expect(error.reason).toContain('without support for range requests');
    expect(error.hint).toContain('Range');
    expect(error.hint).toContain('local model.json');
    expect(requests.at(-1)).toBe(`GET /${shardName(0, 1)} bytes=4800000-4800011`);
  });

  it('the limit can be set per source: of a larger file, only the start up to the range is read, if the range starts within the limit', async () => {
    const { dir, kernel } = await layersModel();
    const { base, requests } = await serve(dir, { ranges: false });
    const files = new HttpModelFiles(new URL('model.json', base), { fullBodyLimit: 100 });
    const bytes = await files.read('group1-shard3of7.bin', 48, 192);
    expect(Array.from(new Float32Array(bytes.slice().buffer))).toEqual(Array.from(kernel.values));
    const error = await conv1Error(files.read('group1-shard2of7.bin', 200, 10));
    expect(error.file).toBe(`${base}group1-shard2of7.bin`);
    expect(error.reason).toBe('is served without support for range requests, and the bytes needed start at 200, past the 100 bytes astro-conv1 will download to reach them');
    // The first answer brought the whole shard (Content-Length 256): later reads of it are cut from memory.
    expect((await files.read('group1-shard3of7.bin', 200, 10)).length).toBe(10);
    expect(requests).toEqual(['GET /group1-shard3of7.bin bytes=48-239', 'GET /group1-shard2of7.bin bytes=200-209']);
  });
});

describe('HTTP failures', () => {
  it('a missing shard: names its URL and says to upload the whole folder', async () => {
    const { dir } = await layersModel();
    await rm(new URL('group1-shard3of7.bin', dir));
    const { base } = await serve(dir);
    const error = await conv1Error(readKernel(`${base}model.json`));
    expect(error.file).toBe(`${base}group1-shard3of7.bin`);
    expect(error.message).toContain(`${base}group1-shard3of7.bin`);
    expect(error.reason).toBe('does not exist on the server (HTTP 404 Not Found)');
    expect(error.hint).toContain('whole model folder');
  });

  it('a missing model.json: points at the model option', async () => {
    const dir = await dirs.make();
    const { base } = await serve(dir);
    const error = await conv1Error(readKernel(`${base}nope/model.json`));
    expect(error.file).toBe(`${base}nope/model.json`);
    expect(error.reason).toContain('HTTP 404');
    expect(error.hint).toContain('`model`');
  });

  it('a truncated shard: the size check names its URL before any range is read', async () => {
    const { dir } = await layersModel();
    await truncate(fileURLToPath(new URL('group1-shard3of7.bin', dir)), 200);
    const { base, requests } = await serve(dir);
    const error = await conv1Error(readKernel(`${base}model.json`));
    expect(error.file).toBe(`${base}group1-shard3of7.bin`);
    expect(error.reason).toContain('is 200 bytes but model.json implies 256');
    expect(requests.some((r) => r.startsWith('GET /group1'))).toBe(false);
  });

  it('a weight path leaving the folder is refused without a request for it', async () => {
    const { dir } = await layersModel((json) => {
      json.weightsManifest[0]!.paths[2] = '../secret.bin';
    });
    const { base, requests } = await serve(dir);
    const error = await conv1Error(readKernel(`${base}model.json`));
    expect(error.reason).toContain('"../secret.bin"');
    expect(requests.some((r) => r.includes('secret'))).toBe(false);
  });

  it('a closed port: a network error with a hint, quickly', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const started = Date.now();
    const error = await conv1Error(readKernel(`http://127.0.0.1:${port}/model.json`));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.file).toBe(`http://127.0.0.1:${port}/model.json`);
    expect(error.reason).toBe(`could not be fetched (connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(error.hint).toContain('network connection');
    expect(error.hint).toContain('local model.json');
  });

  it('a server that never answers: a timeout error', async () => {
    const dir = await dirs.make();
    const { base } = await serve(dir, { silent: true });
    const files = new HttpModelFiles(new URL('model.json', base), { timeoutMs: 200 });
    const error = await conv1Error(files.size('model.json'));
    expect(error.file).toBe(`${base}model.json`);
    expect(error.reason).toBe('did not answer within 0.2 s');
    expect(error.hint).toContain('network connection');
  });

  it('a URL naming a folder, or carrying credentials, is refused before any request', () => {
    expect(() => new HttpModelFiles(new URL('http://127.0.0.1:9/models/'))).toThrow(/names a folder/);
    let error: unknown;
    try {
      new HttpModelFiles(new URL('https://user:secret@example.com/model.json'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Conv1Error);
    expect((error as Conv1Error).file).toBe('https://example.com/model.json');
    expect((error as Conv1Error).message).not.toContain('secret');
  });
});

/** Answers every request with `head` (a status line and headers, sent as bytes) and no body, recording request lines. */
async function serveRaw(head: string): Promise<{ base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createTcpServer((socket) => {
    socket.once('data', (data) => {
      requests.push(data.toString('latin1').split('\r\n')[0]!);
      socket.end(Buffer.from(`${head}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, 'latin1'));
    });
  });
  tcpServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

/** A self-signed certificate for 127.0.0.1, trusted by this test process until `restore()`. */
async function trustedCertificate(): Promise<{ key: Buffer; cert: Buffer; restore: () => void }> {
  const dir = fileURLToPath(await dirs.make());
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const certificate = await readFile(cert);
  const before = getCACertificates('default');
  setDefaultCACertificates([...before, certificate.toString()]);
  return { key: await readFile(key), cert: certificate, restore: () => setDefaultCACertificates(before) };
}

const redirect = (response: ServerResponse, status: number, location: string) => void response.writeHead(status, { Location: location, 'Content-Length': 0 }).end();

/** Every control character a terminal could act on. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('a misbehaving server', () => {
  it('a shard redirected to another path on the same host: followed, its bytes read, the redirect reported once', async () => {
    const { dir, kernel, jsonBytes } = await layersModel();
    await mkdir(new URL('moved/', dir));
    await copyFile(new URL('group1-shard3of7.bin', dir), new URL('moved/group1-shard3of7.bin', dir));
    const { base, requests } = await serve(dir, { route: (path, _request, response) => path === '/group1-shard3of7.bin' && redirect(response, 302, '/moved/group1-shard3of7.bin') === undefined });
    const reported: unknown[] = [];
    const summary = await readModel(`${base}model.json`, { onRedirect: (r) => reported.push(r) });
    expect(Array.from(summary.kernel.data)).toEqual(Array.from(kernel.values));
    expect(requests).toEqual([
      'HEAD /model.json',
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`,
      'HEAD /group1-shard1of7.bin',
      'HEAD /group1-shard3of7.bin',
      'HEAD /moved/group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
      'GET /moved/group1-shard3of7.bin bytes=48-239',
    ]);
    const expected = [{ from: `${base}group1-shard3of7.bin`, to: `${base}moved/group1-shard3of7.bin` }];
    expect(summary.redirects).toEqual(expected);
    expect(reported).toEqual(expected);
  });

  it('model.json redirected to another port (loopback to loopback): followed, its shards still asked beside the URL given, and `info` names the redirect', async () => {
    const { dir, jsonBytes } = await layersModel();
    const other = await serve(dir);
    const first = await serve(dir, { route: (path, _request, response) => path === '/model.json' && redirect(response, 307, `${other.base}model.json`) === undefined });
    const { code, stdout, stderr } = await runCli(['info', `${first.base}model.json`]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`redirected  ${first.base}model.json → ${other.base}model.json\n`);
    expect(stderr).toBe(`redirected: ${first.base}model.json → ${other.base}model.json\n`);
    expect(first.requests).toEqual([
      'HEAD /model.json',
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`,
      'HEAD /group1-shard1of7.bin',
      'HEAD /group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
    ]);
    expect(other.requests).toEqual(['HEAD /model.json', `GET /model.json bytes=0-${HEAD_BYTES - 1}`, `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`]);
  });

  it('https redirected to plain http: refused before the http server is asked', async () => {
    const { dir } = await layersModel();
    const plain = await serve(dir);
    const { key, cert, restore } = await trustedCertificate();
    const requests: string[] = [];
    const tls = createHttpsServer({ key, cert }, (request, response) => {
      requests.push(`${request.method} ${request.url}`);
      redirect(response, 302, `${plain.base}${request.url!.slice(1)}`);
    });
    servers.push(tls as unknown as Server);
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const secure = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
    try {
      const error = await conv1Error(readKernel(`${secure}model.json`));
      expect(error.file).toBe(`${secure}model.json`);
      expect(error.reason).toBe(`was redirected from https (${secure}model.json) to plain http (${plain.base}model.json)`);
      expect(error.hint).toContain('never from https to http');
    } finally {
      restore();
    }
    expect(requests).toEqual(['HEAD /model.json']);
    expect(plain.requests).toEqual([]);
  });

  it('a model on loopback redirected to a private address: refused without connecting; within loopback by name: followed', async () => {
    const { dir, kernel } = await layersModel();
    let target = 'intranet.test';
    const { base, requests } = await serve(dir, {
      route: (path, request, response) => path === '/group1-shard3of7.bin' && redirect(response, 302, `http://${target}:${request.socket.localPort}/moved.bin`) === undefined,
    });
    await copyFile(new URL('group1-shard3of7.bin', dir), new URL('moved.bin', dir));
    const lookups: string[] = [];
    const resolve = async (host: string) => {
      lookups.push(host);
      return host === 'intranet.test' ? ['10.0.0.7'] : ['127.0.0.1'];
    };
    const error = await conv1Error(readKernel(`${base}model.json`, { http: { resolve } }));
    expect(error.file).toBe(`${base}group1-shard3of7.bin`);
    const port = new URL(base).port;
    expect(error.reason).toBe(`was redirected to http://intranet.test:${port}/moved.bin, at a private address (10.0.0.7); a model on a loopback host may reach only those and public addresses`);
    expect(requests.at(-1)).toBe('HEAD /group1-shard3of7.bin');
    expect(requests.some((r) => r.includes('moved'))).toBe(false);
    expect(lookups).toEqual(['intranet.test']);

    target = 'models.test';
    requests.length = 0;
    const summary = await readModel(`${base}model.json`, { http: { resolve } });
    expect(Array.from(summary.kernel.data)).toEqual(Array.from(kernel.values));
    expect(requests.filter((r) => r.includes('3of7') || r.includes('moved'))).toEqual([
      'HEAD /group1-shard3of7.bin',
      'HEAD /moved.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
      'GET /moved.bin bytes=48-239',
    ]);
    expect(summary.redirects).toEqual([{ from: `${base}group1-shard3of7.bin`, to: `http://models.test:${port}/moved.bin` }]);
  });

  it('a redirect loop, and a chain longer than 5 hops: refused, each hop asked once', async () => {
    const { dir } = await layersModel();
    const loop: Record<string, string> = { '/group1-shard3of7.bin': '/a', '/a': '/b', '/b': '/group1-shard3of7.bin' };
    const { base, requests } = await serve(dir, {
      route: (path, _request, response) => {
        if (loop[path]) redirect(response, 301, loop[path]);
        else if (path.startsWith('/hop/')) redirect(response, 302, `/hop/${Number(path.slice(5)) + 1}`);
        else return false;
        return true;
      },
    });
    const files = new HttpModelFiles(new URL('model.json', base));
    const looped = await conv1Error(files.size('group1-shard3of7.bin'));
    expect(looped.reason).toBe(`is redirected in a loop: ${base}group1-shard3of7.bin → ${base}a → ${base}b → ${base}group1-shard3of7.bin`);
    expect(looped.hint).toContain('up to 5 redirects');
    expect(requests).toEqual(['HEAD /group1-shard3of7.bin', 'HEAD /a', 'HEAD /b']);

    requests.length = 0;
    const long = await conv1Error(files.read('hop/0', 0, 4));
    expect(long.reason).toMatch(new RegExp(`^was redirected more than 5 times: ${base}hop/0 → ${base}hop/1 → .* → ${base}hop/6$`));
    expect(requests).toEqual([0, 1, 2, 3, 4, 5].map((n) => `GET /hop/${n} bytes=0-3`));
  });

  it('an ANSI escape in a status line: the message shows it escaped, on the command line too', async () => {
    const { base, requests } = await serveRaw('HTTP/1.1 503 Busy\u001b[2J\u001b[31m\u009b1m');
    const error = await conv1Error(readKernel(`${base}model.json`));
    expect(error.reason).toBe('could not be fetched (HTTP 503 Busy\\x1b[2J\\x1b[31m\\x9b1m)');
    for (const text of [error.message, error.hint]) expect(text).not.toMatch(CONTROL);
    expect(requests).toEqual(['HEAD /model.json HTTP/1.1', 'GET /model.json HTTP/1.1']);

    const cli = await runCli(['info', `${base}model.json`]);
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain('HTTP 503 Busy\\x1b[2J\\x1b[31m\\x9b1m');
    expect(cli.stderr.replace(/\n/g, '')).not.toMatch(CONTROL);
  });

  it('an ANSI escape in a layer name: escaped in errors, in `info` and in its JSON', async () => {
    const dir = await dirs.make();
    const name = 'conv\u001b[2J\u001b]0;pwned\u00071';
    const layers = [inputLayer('input_1'), conv2dLayer(name, 'input_1', [2, 2], 4), kerasLayer('Flatten', 'flat', name), denseLayer('fc', 'flat', 2)];
    const weights = [randomWeight(`${name}/kernel`, [2, 2, 3, 4], 2), randomWeight(`${name}/bias`, [4], 3), randomWeight('fc/kernel', [140], 1), randomWeight('fc/bias', [2], 4)];
    await writeTfjsModel(dir, { layers, inputLayers: ['input_1'], weights, shardBytes: 4096 });
    const { base, requests } = await serve(dir);
    const shown = 'conv\\x1b[2J\\x1b]0;pwned\\x071';

    const error = await conv1Error(readKernel(`${base}model.json`, { layer: 'conv2' }));
    expect(error.hint).toContain(`Set \`layer\` to one of the convolutions: ${shown}`);
    expect(error.hint).not.toMatch(CONTROL);
    expect(requests.filter((r) => r.startsWith('GET /group1'))).toEqual([]);

    const text = await runCli(['info', `${base}model.json`]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`layer       ${shown} (Conv2D)`);
    expect(text.stdout.replace(/\n/g, '')).not.toMatch(CONTROL);
    const json = await runCli(['info', '--json', `${base}model.json`]);
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json.stdout)).toMatchObject({ layer: name, convolutions: [{ name }], redirects: [] });
  });

  it('a server that answers every request slowly: progress lines while it reads, then the whole read stops at its time limit', async () => {
    const { dir, kernel, jsonBytes } = await layersModel();
    const { base, requests } = await serve(dir, { delayMs: 150 });
    const all = [
      'HEAD /model.json',
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`,
      'HEAD /group1-shard1of7.bin',
      'HEAD /group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
    ];
    const lines: { url: string; received: number; elapsedMs: number }[] = [];
    const http = { slowAfterMs: 200, progressEveryMs: 100 };
    // Six answers of 150 ms each fit in 5 s, and progress lines come meanwhile.
    const read = await readKernel(`${base}model.json`, { readTimeoutMs: 5_000, onReadProgress: (line) => lines.push(line), http });
    expect(Array.from(read.data)).toEqual(Array.from(kernel.values));
    expect(requests).toEqual(all);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const [i, line] of lines.entries()) {
      expect(all.map((r) => `${base}${r.split(' ')[1]!.slice(1)}`)).toContain(line.url);
      // Timers keep whole milliseconds.
      expect(line.elapsedMs).toBeGreaterThanOrEqual(199);
      if (i > 0) expect(line.received).toBeGreaterThanOrEqual(lines[i - 1]!.received);
    }

    // Each request is well within the per-request limit, but the read as a whole is not.
    requests.length = 0;
    const started = performance.now();
    const error = await conv1Error(readKernel(`${base}model.json`, { readTimeoutMs: 500, http }));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(3_000);
    expect(error.reason).toMatch(/^was still being read when the model read reached its time limit of 0\.5 s \([\d,]+ bytes received in all\)$/);
    expect(error.hint).toContain('`readTimeout`');
    expect(error.hint).toContain('`--timeout`');
    // How many answers fit in 0.5 s depends on the machine's load; the read stops before the last.
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.length).toBeLessThan(all.length);
    expect(requests).toEqual(all.slice(0, requests.length));
    expect(error.file).toBe(`${base}${requests.at(-1)!.split(' ')[1]!.slice(1)}`);
  });

  it('--timeout on the command line: the read stops at it', async () => {
    const { dir } = await layersModel();
    const { base, requests } = await serve(dir, { delayMs: 400 });
    const { code, stderr } = await runCli(['info', `${base}model.json`, '--timeout', '0.6']);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^astro-conv1: http:\/\/127\.0\.0\.1:\d+\/model\.json: was still being read when the model read reached its time limit of 0\.6 s/);
    expect(stderr).toContain('hint: The server is slow or stalls');
    // The first answer or two arrive in time (depending on the machine's load), the third cannot.
    expect(requests.length).toBeLessThanOrEqual(2);
    expect(requests).toEqual(['HEAD /model.json', `GET /model.json bytes=0-${HEAD_BYTES - 1}`].slice(0, requests.length));
    const usage = await runCli(['info', `${base}model.json`, '--timeout', '0']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--timeout must be a number of seconds above 0, not "0"');
  });

  it('a 5 MB model.json on a server without range support: detected and read, the file downloaded once whole', async () => {
    const { dir, kernel } = await layersModel((json) => {
      Object.assign(json, { userDefinedMetadata: { notes: 'x'.repeat(5_000_000) } });
    });
    const jsonBytes = (await stat(new URL('model.json', dir))).size;
    expect(jsonBytes).toBeGreaterThan(5_000_000);
    const { base, requests } = await serve(dir, { ranges: false });
    const remote = await readKernel(`${base}model.json`);
    expect(Array.from(remote.data)).toEqual(Array.from(kernel.values));
    expect(requests).toEqual([
      'HEAD /model.json',
      // Detection needs 64 bytes: the rest of this answer is cancelled.
      `GET /model.json bytes=0-${HEAD_BYTES - 1}`,
      `GET /model.json bytes=${HEAD_BYTES}-${jsonBytes - 1}`,
      'HEAD /group1-shard1of7.bin',
      'HEAD /group1-shard3of7.bin',
      'GET /group1-shard3of7.bin bytes=48-239',
    ]);
    // model.json whole, the kernel's shard whole (256 bytes), and what came of the cancelled answer.
    const beyond = remote.bytesRead - (jsonBytes + 256);
    expect(beyond).toBeGreaterThanOrEqual(HEAD_BYTES);
    expect(beyond).toBeLessThan(1 << 20);
  });

  it('a body that stalls: the request fails, nothing of it is kept, and the next read asks again', async () => {
    const { dir, kernel } = await layersModel();
    let stall = true;
    const { base, requests } = await serve(dir, {
      ranges: false,
      route: (path, _request, response) => {
        if (path !== '/group1-shard3of7.bin' || !stall) return false;
        stall = false;
        response.writeHead(200, { 'Content-Length': 256 }).write(new Uint8Array(100));
        return true;
      },
    });
    const files = new HttpModelFiles(new URL('model.json', base), { timeoutMs: 300 });
    const error = await conv1Error(files.read('group1-shard3of7.bin', 48, 192));
    expect(error.reason).toBe('did not answer within 0.3 s');
    const bytes = await files.read('group1-shard3of7.bin', 48, 192);
    expect(Array.from(new Float32Array(bytes.slice().buffer))).toEqual(Array.from(kernel.values));
    expect(await files.size('group1-shard3of7.bin')).toBe(256);
    expect(requests).toEqual(['GET /group1-shard3of7.bin bytes=48-239', 'GET /group1-shard3of7.bin bytes=48-239']);
  });

  it('in a pipeline thread: the redirect is reported back, and a read that fails leaves the figure cache empty', async () => {
    const { dir } = await layersModel();
    await rm(new URL('group1-shard3of7.bin', dir));
    const other = await serve(dir);
    const first = await serve(dir, { route: (path, _request, response) => path === '/model.json' && redirect(response, 302, `${other.base}model.json`) === undefined });
    const figures = new URL('figures/', await dirs.make());
    const redirects: unknown[] = [];
    const error = await conv1Error(
      runPipelineInThread({
        model: `${first.base}model.json`,
        photos: [],
        photoWidth: 32,
        gridScale: 1,
        filterScale: 1,
        responses: [0],
        figures,
        onRedirect: (r) => redirects.push(r),
      }),
    );
    expect(error.reason).toBe('does not exist on the server (HTTP 404 Not Found)');
    expect(redirects).toEqual([{ from: `${first.base}model.json`, to: `${other.base}model.json` }]);
    expect(first.requests.at(-1)).toBe('HEAD /group1-shard3of7.bin');
    expect(await readdir(figures).catch(() => [])).toEqual([]);
  });
});

describe('Keras .h5 and .keras over HTTP', () => {
  // conv1's 7×7×3×64 kernel (37,632 bytes) is read in one range; the 4 MiB dense kernel beside it never.
  const conv = convWeights('conv1', [7, 7], 3, 64, 201);
  const dense = denseWeights('fc', 1024, 1024, 202);
  const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [7, 7], 64, [2, 2]), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 1024)];

  async function h5Model() {
    const dir = await dirs.make();
    await writeKerasH5(fileURLToPath(new URL('model.h5', dir)), { layers, inputLayers: ['input_1'], weights: [...conv, ...dense] });
    return { dir, name: 'model.h5' };
  }

  async function kerasModel(method: 'stored' | 'deflate') {
    const dir = await dirs.make();
    const weights = await writeKeras3Weights(fileURLToPath(new URL('weights.h5', dir)), [
      { key: 'conv2d', vars: conv },
      { key: 'dense', vars: dense },
    ]);
    const k3Layers = layers.map((layer, i) => withInbound(layer, keras3Inbound(i === 0 ? null : (layers[i - 1] as { name: string }).name)));
    await writeKerasZip(fileURLToPath(new URL('model.keras', dir)), { config: keras3Config(k3Layers, ['input_1']), weights, method });
    return { dir, name: 'model.keras' };
  }

  /** The ranges a local read of the model makes, detection included, in order: what a remote read must ask for, one request each. */
  async function localRanges(path: URL): Promise<string[]> {
    const local = new LocalModelFiles(path);
    const ranges: string[] = [];
    const recording = Object.assign(Object.create(local) as LocalModelFiles, {
      read: (name: string, offset: number, length: number) => {
        ranges.push(`bytes=${offset}-${offset + length - 1}`);
        return local.read(name, offset, length);
      },
    });
    const files = new HeadCachingFiles(recording);
    const opened = await (await detectFormat(files)).open(files);
    await opened.readKernel(opened.convolutions[0]!);
    await opened.close?.();
    return ranges;
  }

  it.each([
    ['model.h5', h5Model, 'keras-h5'],
    ['model.keras (stored)', () => kerasModel('stored'), 'keras'],
  ] as const)('%s: HEAD once, then exactly the ranges a local read makes, the kernel in one of them', async (_label, write, format) => {
    const { dir, name } = await write();
    const ranges = await localRanges(new URL(name, dir));
    const { base, requests } = await serve(dir);
    const remote = await readModel(`${base}${name}`);
    expect(remote.kernel).toMatchObject({ format, layer: 'conv1', shape: [7, 7, 3, 64], strides: [2, 2] });
    expect(Array.from(remote.kernel.data)).toEqual(Array.from(conv[0]!.values));
    expect(requests).toEqual([`HEAD /${name}`, ...ranges.map((range) => `GET /${name} ${range}`)]);
    const file = await readFile(new URL(name, dir));
    const kernelAt = file.indexOf(Buffer.from(conv[0]!.values.buffer));
    expect(requests).toContain(`GET /${name} bytes=${kernelAt}-${kernelAt + 37_632 - 1}`);
    const asked = ranges.map((range) => range.slice(6).split('-').map(Number)).reduce((sum, [from, to]) => sum + to! - from! + 1, 0);
    expect(remote.kernel.bytesRead).toBe(asked);
    expect(remote.kernel.bytesRead).toBeLessThan(80 * 1024);
    expect(file.length).toBeGreaterThan(4 * 1024 * 1024);
  });

  it('model.keras (deflated): model.weights.h5 comes in one request for its compressed bytes, then nothing more of it', async () => {
    const { dir, name } = await kerasModel('deflate');
    const ranges = await localRanges(new URL(name, dir));
    const { base, requests } = await serve(dir);
    const remote = await readKernel(`${base}${name}`);
    expect(Array.from(remote.data)).toEqual(Array.from(conv[0]!.values));
    expect(requests).toEqual([`HEAD /${name}`, ...ranges.map((range) => `GET /${name} ${range}`)]);
    // Detection, end record, ZIP64 locator, directory, then for config.json and model.weights.h5 each: header, name, data.
    expect(requests).toHaveLength(1 + 4 + 2 * 3);
    const lengths = ranges.map((range) => range.slice(6).split('-').map(Number)).map(([from, to]) => to! - from! + 1);
    // The last request is the member's compressed data, its size as the central directory (after the end record's offset) gives it.
    const archive = await readFile(new URL(name, dir));
    const entry = archive.indexOf('model.weights.h5', archive.readUInt32LE(archive.length - 22 + 16)) - 46;
    expect(lengths.at(-1)).toBe(archive.readUInt32LE(entry + 20));
    expect(remote.bytesRead).toBe(lengths.reduce((a, b) => a + b, 0));
  });

  it('a server that fails while HDF5 reads: the request\'s URL and status, not an HDF5 message', async () => {
    const { dir, name } = await h5Model();
    const { base } = await serve(dir, { route: (_path, request, response) => /bytes=[1-9]\d{4,}-/.test(request.headers.range ?? '') && response.writeHead(503, 'Service Unavailable').end() !== undefined });
    const error = await conv1Error(readKernel(`${base}${name}`));
    expect(error.file).toBe(`${base}${name}`);
    expect(error.reason).toBe('could not be fetched (HTTP 503 Service Unavailable)');
  });
});
