/**
 * A training run small enough to build a site from in seconds, and a site whose pages use the
 * components. The run is 16 filters of 7×7×3, each checkpoint a seeded noise kernel blended further
 * towards smooth oriented edges (some of them colour contrasts) and growing as it goes, as a first
 * layer does in training: the verdict goes from noisy through partly noisy to trained-looking.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernel } from '../../src/lib/index.ts';
import { hwioToOihw, writeSafetensors } from './safetensors-fixture.ts';
import { randomValues } from './tfjs-fixture.ts';

const PROJECT = new URL('../../', import.meta.url);

export const RUN_SHAPE: Kernel['shape'] = [7, 7, 3, 16];
/** Steps spanning decades, so the charts' step axis is logarithmic. */
export const RUN_STEPS = [0, 10, 100, 1000, 5000] as const;
/** How far each checkpoint has moved from the noise towards the smooth kernel. */
const BLENDS = [0, 0.4, 0.5, 0.7, 0.9];

/** Gabor-like edges at eight orientations, every fourth one red against green instead of grey. */
function smoothKernel(): Float32Array {
  const [h, w, c, f] = RUN_SHAPE;
  const out = new Float32Array(h * w * c * f);
  for (let filter = 0; filter < f; filter++) {
    const theta = (filter * Math.PI) / 8;
    const colour = filter % 4 === 3 ? [1, -1, 0] : [1, 1, 1];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const [u, v] = [x - (w - 1) / 2, y - (h - 1) / 2];
        const along = u * Math.cos(theta) + v * Math.sin(theta);
        const value = 0.3 * Math.exp(-(u * u + v * v) / (2 * 1.8 ** 2)) * Math.sin(2 * Math.PI * 0.16 * along + (filter % 2) * 0.8);
        for (let channel = 0; channel < c; channel++) out[((y * w + x) * c + channel) * f + filter] = value * colour[channel]!;
      }
  }
  return out;
}

/** The HWIO weights of checkpoint `index` of the run. */
export function runWeights(index: number): Float32Array {
  const smooth = smoothKernel();
  const noise = randomValues(smooth.length, 42, -0.1, 0.1);
  const blend = BLENDS[index]!;
  return smooth.map((value, i) => blend * value + (1 - blend) * noise[i]!);
}

/** ckpt-<step>.safetensors for every step of the run, as PyTorch saves a first convolution (OIHW). */
export async function writeTrainingRun(dir: URL): Promise<void> {
  await mkdir(dir, { recursive: true });
  const [h, w, c, f] = RUN_SHAPE;
  for (const [index, step] of RUN_STEPS.entries())
    await writeSafetensors(new URL(`ckpt-${step}.safetensors`, dir), [{ name: 'conv1.weight', shape: [f, c, h, w], values: hwioToOihw(runWeights(index), RUN_SHAPE) }]);
}

/**
 * A site at `root` using the integration (from the repository's sources) with `integrationOptions`
 * (JavaScript source of the options object), and one page per entry of `pages`: its path, language
 * and body, in which the components may be used by name. The pages follow the reader's light or
 * dark preference.
 */
export async function writeComponentSite(root: URL, integrationOptions: string, pages: { path: string; lang: string; body: string }[]): Promise<void> {
  await mkdir(new URL('src/pages/', root), { recursive: true });
  const fromRoot = relative(fileURLToPath(root), fileURLToPath(new URL('src/integrations/conv1/index.ts', PROJECT)));
  await writeFile(
    new URL('astro.config.mjs', root),
    `import { defineConfig } from 'astro/config';
import conv1 from '${fromRoot}';
export default defineConfig({ cacheDir: './.cache/', integrations: [conv1(${integrationOptions})] });
`,
  );
  for (const { path, lang, body } of pages) {
    const file = new URL(`src/pages/${path}.astro`, root);
    const barrel = relative(fileURLToPath(new URL('./', file)), fileURLToPath(new URL('src/components/index.ts', PROJECT)));
    const used = [...new Set([...body.matchAll(/<(Conv1\w+)/g)].map((match) => match[1]!))];
    await writeFile(
      file,
      `---
import { ${used.join(', ')} } from '${barrel}';
---
<html lang="${lang}">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="color-scheme" content="light dark" />
<link rel="icon" href="data:," />
<title>${path}</title>
<style is:global>
  html { background: Canvas; color: CanvasText; }
  body { font-family: system-ui, sans-serif; line-height: 1.6; max-width: 46rem; margin: 0 auto; padding: 1rem; }
</style>
</head>
<body><main><h1>${path}</h1>
${body}
</main></body>
</html>
`,
    );
  }
}
