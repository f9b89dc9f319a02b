import { readFile, rm, stat, truncate } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HEAD_BYTES } from '../../src/lib/formats/format.ts';
import { Conv1Error, readKernel, readModel } from '../../src/lib/index.ts';
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
import { conv1Error } from '../helpers/conv1-error.ts';

const dirs = new TempDirs();
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await dirs.cleanup();
});

interface ServeOptions {
  /** Honour Range headers (206); otherwise every GET is answered 200 with the whole file. */
  ranges?: boolean;
  /** Answer HEAD; otherwise 405. */
  head?: boolean;
  /** Accept connections but never answer. */
  silent?: boolean;
}

/** Serves the files of `dir` at http://127.0.0.1:<port>/, recording each request as "METHOD /path[?query] [range]". */
async function serve(dir: URL, options: ServeOptions = {}): Promise<{ base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    const range = request.headers.range;
    requests.push(`${request.method} ${request.url}${range ? ` ${range}` : ''}`);
    if (options.silent) return;
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
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
    expect(files.localPath()).toBeUndefined();
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

  it('the limit can be set per source', async () => {
    const { dir } = await layersModel();
    const { base } = await serve(dir, { ranges: false });
    const files = new HttpModelFiles(new URL('model.json', base), { fullBodyLimit: 100 });
    const error = await conv1Error(files.read('group1-shard3of7.bin', 48, 192));
    expect(error.file).toBe(`${base}group1-shard3of7.bin`);
    expect(error.reason).toContain('larger than the 100 bytes');
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
