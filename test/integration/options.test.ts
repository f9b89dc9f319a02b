/**
 * The integration's options as a user writes them: the top level is the default model, `models`
 * adds named ones that take display and photo options from the top level but never another model's
 * identity; wrong options are Astro errors naming the option.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AstroIntegrationLogger } from 'astro';
import { AstroError } from 'astro/errors';
import { afterEach, describe, expect, it } from 'vitest';
import conv1 from '../../src/integrations/conv1/index.ts';
import { parseOptions } from '../../src/integrations/conv1/errors.ts';
import { DEFAULT_PHOTOS } from '../../src/lib/convolve/photo.ts';
import { DEFAULT_MODEL } from '../../src/lib/presets.ts';
import { conv2dLayer, denseLayer, inputLayer, kerasLayer, randomWeight, TempDirs, writeTfjsModel } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** An Astro logger that records its lines as "label message". */
function recordingLogger(lines: string[], label = 'astro-conv1'): AstroIntegrationLogger {
  const write = (message: string) => void lines.push(`${label} ${message}`);
  return { label, options: {}, fork: (child: string) => recordingLogger(lines, child), info: write, warn: write, error: write, debug: () => {} } as unknown as AstroIntegrationLogger;
}

describe('conv1() options', () => {
  it('draws Keras ResNet50 with the reference recipe when given nothing', () => {
    const { models, autoImport, lang } = parseOptions(undefined);
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({
      name: 'default',
      model: DEFAULT_MODEL,
      label: 'Keras ResNet50',
      channels: undefined,
      order: 'column',
      normalize: 'filter',
      figureSet: 'all',
      rounding: 'truncate',
      gridScale: 8,
      filterScale: 16,
      photoWidth: 800,
      responses: 'all',
      largeResponses: [0],
      photos: DEFAULT_PHOTOS.map((src) => ({ src })),
      compare: [
        { id: 'glorot', model: 'control:glorot', label: 'glorot' },
        { id: 'noise-1', model: 'control:noise:1', label: 'noise-1' },
      ],
    });
    expect([autoImport, lang]).toEqual([true, undefined]);
  });

  it('takes a training run as the model: the last checkpoint unless a model is named, labelled by its folder', () => {
    const { models } = parseOptions({ checkpoints: 'runs/a/', models: { b: { checkpoints: 'runs/b/epoch-*.safetensors' }, c: { model: 'c.onnx', checkpoints: ['c-1.onnx', { step: 2, model: 'c-final.onnx' }] } } });
    expect(models.map(({ name, model, label, checkpoints }) => ({ name, model, label, checkpoints }))).toEqual([
      { name: 'default', model: undefined, label: 'a', checkpoints: 'runs/a/' },
      { name: 'b', model: undefined, label: 'b', checkpoints: 'runs/b/epoch-*.safetensors' },
      { name: 'c', model: 'c.onnx', label: 'c.onnx', checkpoints: ['c-1.onnx', { step: 2, model: 'c-final.onnx' }] },
    ]);
  });

  it('gives named models the top level display and photo options, but their own model, layer, channels and comparisons', () => {
    const { models } = parseOptions({
      layer: 'conv1',
      channels: 'bgr',
      normalize: 'zero',
      photoWidth: 400,
      photos: ['photos/cat.jpg'],
      compare: [{ id: 'glorot', model: 'control:glorot' }],
      models: {
        mine: { model: './models/mine.safetensors', channels: 'rgb', gridScale: 4 },
        'npm-model': { model: 'npm:some-package@1.2.3/model.json', label: 'Some model' },
      },
    });
    expect(models.map((m) => m.name)).toEqual(['default', 'mine', 'npm-model']);
    const [, mine, npm] = models;
    expect(mine).toMatchObject({ model: './models/mine.safetensors', label: 'mine.safetensors', layer: undefined, channels: 'rgb', normalize: 'zero', photoWidth: 400, gridScale: 4, filterScale: 16, photos: [{ src: 'photos/cat.jpg' }] });
    expect(mine!.compare.map((c) => c.id)).toEqual(['glorot', 'noise-1']);
    expect(npm).toMatchObject({ label: 'Some model', channels: undefined, gridScale: 8 });
    expect(parseOptions({ models: { x: { model: 'npm:@scope/pkg@1.0.0/m/model.json#sha512-abc' } } }).models[1]!.label).toBe('@scope/pkg');
  });

  it('takes readTimeout in seconds for every remote read of the build, and leaves the default to the pipeline', () => {
    expect(parseOptions({ readTimeout: 300 }).readTimeout).toBe(300);
    expect(parseOptions({ readTimeout: 0.5 }).readTimeout).toBe(0.5);
    expect(parseOptions(undefined).readTimeout).toBeUndefined();
  });

  it('readTimeout reaches the build: its remote read stops at the limit, and the log names the redirect first', async () => {
    const dir = await dirs.make();
    const layers = [inputLayer('input_1'), conv2dLayer('conv1', 'input_1', [2, 2], 4), kerasLayer('Flatten', 'flat', 'conv1'), denseLayer('fc', 'flat', 2)];
    const weights = [randomWeight('conv1/kernel', [2, 2, 3, 4], 2), randomWeight('conv1/bias', [4], 3), randomWeight('fc/kernel', [140], 1), randomWeight('fc/bias', [2], 4)];
    await writeTfjsModel(new URL('real/', dir), { layers, inputLayers: ['input_1'], weights, shardBytes: 4096 });
    // model.json redirects at once; its target answers after 300 ms: the first hop ends in time, the second does not.
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      if (request.url === '/model.json') return void response.writeHead(302, { Location: '/real/model.json', 'Content-Length': 0 }).end();
      setTimeout(() => response.writeHead(200, { 'Content-Length': 10 }).end('{"x":1}   '), 300);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const lines: string[] = [];
    const logger = recordingLogger(lines);
    const integration = conv1({ model: `${base}model.json`, readTimeout: 0.5, compare: [] });
    const config = { root: dir, cacheDir: new URL('cache/', dir), build: { assets: '_astro' }, base: '/' };
    const noop = () => {};
    try {
      await (integration.hooks['astro:config:setup'] as (options: unknown) => Promise<void>)({ config, command: 'build', updateConfig: noop, addWatchFile: noop, logger });
      const started = performance.now();
      let error: unknown;
      await (integration.hooks['astro:build:done'] as (options: unknown) => Promise<void>)({ dir: new URL('dist/', dir), logger }).catch((caught: unknown) => (error = caught));
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(error).toBeInstanceOf(AstroError);
      expect((error as AstroError).message).toMatch(/^astro-conv1: http:\/\/127\.0\.0\.1:\d+\/model\.json: was still being read when the model read reached its time limit of 0\.5 s/);
      expect((error as AstroError).hint).toContain('`readTimeout`');
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(lines).toContain(`astro-conv1/read ${base}model.json is served from ${base}real/model.json (redirected)`);
    expect(requests).toEqual(['HEAD /model.json', 'HEAD /real/model.json', 'GET /model.json', 'GET /real/model.json']);
  });

  it.each([
    [{ models: { default: { model: 'a.json' } } }, /`models\.default`: .*names the top-level model/],
    [{ models: { '2nd': { model: 'a.json' } } }, /`models\.2nd`: start with a letter/],
    [{ models: { second: {} } }, /`models\.second`: needs a `model` or `checkpoints`/],
    [{ checkpoints: [{ step: 1.5, model: 'a.pt' }] }, /`checkpoints`: give a folder, a glob, or a non-empty list .*step a whole number/],
    [{ checkpoints: [] }, /`checkpoints`: Too small/],
    [{ models: { second: { model: 'a.json', colour: 'red' } } }, /`models\.second`: Unrecognized key/],
    [{ autoImport: 'yes' }, /`autoImport`/],
    [{ normalize: 'both' }, /`normalize`/],
    [{ rounding: 'floor' }, /`rounding`/],
    [{ readTimeout: 0 }, /`readTimeout`: Too small/],
    [{ readTimeout: '30' }, /`readTimeout`/],
    [{ models: { second: { model: 'a.json', readTimeout: 30 } } }, /`models\.second`: Unrecognized key/],
  ])('refuses %j with an Astro error naming the option', (options, message) => {
    let error: unknown;
    try {
      parseOptions(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AstroError);
    expect((error as AstroError).message).toMatch(message);
    expect((error as AstroError).hint).toMatch(/README/);
  });
});
