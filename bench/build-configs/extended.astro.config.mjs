// @ts-check
/**
 * The repository's site with more for its integration to do, for the benchmarks that measure what
 * that costs: BENCH_CONV1_EXTRA (JSON) holds top-level conv1() options added to the site's own, e.g.
 * `{"models":{"second":{"model":"npm:…"}}}` (bench/two-models.ts) or `{"checkpoints":"/…/run/"}`
 * (bench/timeline.ts), and BENCH_EXTRA_PAGE names one more page that shows it (extra-page.mjs).
 * Output and cache folders are moved under bench/results/ as in ours.astro.config.mjs;
 * BENCH_CONV1_CAPTURE saves the `virtual:conv1` module served, for a peer.
 *
 * The conv1() options are written inline in astro.config.mjs, so the file is copied beside the cache
 * (BENCH_CACHE_DIR/site-extended.astro.config.mjs, inside the package, so `astro-conv1` still
 * resolves to the compiled package) with its import of conv1 replaced by a wrapper that adds the
 * options, and imported. An option or a model the site already sets is an error rather than a
 * silently different site.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { extraPage } from './extra-page.mjs';
import { withVirtualModuleCapture } from './capture-virtual-module.mjs';

const env = (/** @type {string} */ name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this config is run by bench/two-models.ts or bench/timeline.ts`);
  return value;
};
const cacheDir = env('BENCH_CACHE_DIR');
/** @type {Record<string, unknown>} */
const extra = JSON.parse(env('BENCH_CONV1_EXTRA'));

const site = readFileSync(new URL('../../astro.config.mjs', import.meta.url), 'utf8');
const importLine = /^import conv1 from 'astro-conv1';$/m;
if (!importLine.test(site)) throw new Error("astro.config.mjs must import conv1 from 'astro-conv1' for the benchmark to extend its options");
// conv1 is wrapped, not its call edited: the site's options are merged with the benchmark's as
// objects, `models` entry by entry, and a key both set is an error rather than a silent choice.
const wrapper = `import conv1Site from 'astro-conv1';
const extra = ${JSON.stringify(extra)};
function conv1(options = {}) {
  const clashes = Object.keys(extra).filter((key) => key !== 'models' && key in options)
    .concat(Object.keys(extra.models ?? {}).filter((name) => name in (options.models ?? {})));
  if (clashes.length) throw new Error('the benchmark adds ' + clashes.join(', ') + ', which astro.config.mjs sets already');
  return conv1Site({ ...options, ...extra, models: { ...options.models, ...extra.models } });
}`;
const generated = new URL('site-extended.astro.config.mjs', pathToFileURL(cacheDir.replace(/\/?$/, '/')));
mkdirSync(new URL('./', generated), { recursive: true });
writeFileSync(generated, site.replace(importLine, wrapper));
/** @type {import('astro').AstroUserConfig} */
const config = (await import(/* @vite-ignore */ generated.href)).default;

export default withVirtualModuleCapture({
  ...config,
  integrations: [...(config.integrations ?? []), extraPage(env('BENCH_EXTRA_PAGE'))],
  outDir: env('BENCH_OUT_DIR'),
  cacheDir,
});
