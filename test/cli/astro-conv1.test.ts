import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readKernel, renderGrid } from '../../src/lib/index.ts';
import { runCli } from '../helpers/cli.ts';
import { DEFAULT_MODEL, PACKAGE_CACHE } from '../helpers/default-model.ts';
import { conv2dLayer, inputLayer, randomValues, TempDirs, writeTfjsModel } from '../helpers/tfjs-fixture.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());
const cli = runCli;

async function fixtureModel(): Promise<URL> {
  const dir = await dirs.make('conv1-cli-');
  return writeTfjsModel(dir, {
    layers: [inputLayer('input_1'), conv2dLayer('stem', 'input_1', [5, 5], 16, [2, 2])],
    inputLayers: ['input_1'],
    weights: [{ name: 'stem/kernel', shape: [5, 5, 3, 16], values: randomValues(5 * 5 * 3 * 16, 7) }],
    shardBytes: 1000,
  });
}

describe('astro-conv1', () => {
  it('info describes the chosen kernel, as text and as JSON', async () => {
    const model = fileURLToPath(await fixtureModel());
    const text = await cli(['info', model]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/layer\s+stem \(Conv2D\)/);
    expect(text.stdout).toMatch(/shape\s+5 × 5 × 3 × 16/);
    expect(text.stdout).toMatch(/channels\s+RGB \(default\)/);
    const json = await cli(['info', model, '--json', '--channels', 'bgr']);
    const facts = JSON.parse(json.stdout) as { shape: number[]; strides: number[]; channelOrder: string; channelOrderSource: string; bytesRead: number; filesRead: string[] };
    expect(facts).toMatchObject({ shape: [5, 5, 3, 16], strides: [2, 2], channelOrder: 'bgr', channelOrderSource: 'option' });
    expect(facts.filesRead[0]).toBe('model.json');
    expect(facts.bytesRead).toBeGreaterThan(5 * 5 * 3 * 16 * 4);
  });

  it('grid --scale 1 writes the exact grid of the real ResNet50: 63×63, equal to the pipeline', async () => {
    const out = await dirs.make('conv1-cli-out-');
    const run = await cli(['grid', 'resnet50', '--scale', '1', '-o', 'g.png'], fileURLToPath(out));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/63×63/);
    const { data, info } = await sharp(await readFile(new URL('g.png', out))).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([63, 63]);
    const kernel = await readKernel(DEFAULT_MODEL, { packageCache: PACKAGE_CACHE });
    expect(data.equals(Buffer.from(renderGrid(kernel).data))).toBe(true);

    const rounded = await cli(['grid', 'resnet50', '--scale', '1', '--rounding', 'nearest', '-o', 'n.png'], fileURLToPath(out));
    expect(rounded.code, rounded.stderr).toBe(0);
    const nearest = await sharp(await readFile(new URL('n.png', out))).raw().toBuffer();
    expect(nearest.equals(Buffer.from(renderGrid(kernel, { rounding: 'nearest' }).data))).toBe(true);
    expect(nearest.equals(data)).toBe(false);
  });

  it('filters writes one enlarged PNG per filter', async () => {
    const model = fileURLToPath(await fixtureModel());
    const out = await dirs.make('conv1-cli-out-');
    const run = await cli(['filters', model, '-o', 'f', '--scale', '3', '--normalize', 'zero'], fileURLToPath(out));
    expect(run.code, run.stderr).toBe(0);
    const names = (await readdir(new URL('f/', out))).sort();
    expect(names).toHaveLength(16);
    expect(names[0]).toBe('filter-00.png');
    expect(await sharp(await readFile(new URL('f/filter-15.png', out))).metadata()).toMatchObject({ width: 15, height: 15 });
  });

  it('wrong usage exits with 2 and the help', async () => {
    for (const args of [[], ['draw', 'x'], ['grid'], ['grid', 'm.json', '--order', 'diagonal'], ['grid', 'm.json', '--rounding', 'up'], ['grid', 'm.json', '--scale', '0'], ['info', 'm.json', '--bogus']]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^astro-conv1: /);
      expect(run.stderr).toContain('Usage: astro-conv1');
    }
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--normalize filter|global|zero');
  });

  it('a missing model exits with 3, naming the file and a fix, without a stack trace', async () => {
    const run = await cli(['info', '/nonexistent/model.json']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('/nonexistent/model.json: does not exist');
    expect(run.stderr).toMatch(/hint: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
