/**
 * The integration's options as a user writes them: the top level is the default model, `models`
 * adds named ones that take display and photo options from the top level but never another model's
 * identity; wrong options are Astro errors naming the option.
 */
import { AstroError } from 'astro/errors';
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/integrations/conv1/errors.ts';
import { DEFAULT_PHOTOS } from '../../src/lib/convolve/photo.ts';
import { DEFAULT_MODEL } from '../../src/lib/presets.ts';

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
