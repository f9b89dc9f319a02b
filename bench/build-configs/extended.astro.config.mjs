// @ts-check
/**
 * The repository's site with more for its integration to do, for the benchmarks that measure what
 * that costs: BENCH_CONV1_EXTRA (JSON) holds top-level conv1() options added to the site's own, e.g.
 * `{"models":{"second":{"model":"npm:…"}}}` (bench/two-models.ts) or `{"checkpoints":"/…/run/"}`
 * (bench/timeline.ts), and BENCH_EXTRA_PAGE names one more page that shows it (extra-page.mjs).
 * Output and cache folders are moved under bench/results/ as in ours.astro.config.mjs;
 * BENCH_CONV1_CAPTURE saves the `virtual:conv1` module served, for a peer.
 *
 * The conv1() options are written inline in astro.config.mjs, so the options are added to its text:
 * the file is copied beside the cache (BENCH_CACHE_DIR/site-extended.astro.config.mjs, inside the
 * package, so `import conv1 from 'astro-conv1'` still resolves to the compiled package) with the
 * options inserted after `conv1({`, and imported. Any other shape of the file, or an option the site
 * already sets, is an error here rather than a silently different site.
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
const calls = site.match(/\bconv1\(\{/g)?.length ?? 0;
const clashes = Object.keys(extra).filter((key) => new RegExp(`\\b${key}\\s*:`).test(site));
if (calls !== 1 || clashes.length > 0)
  throw new Error(`astro.config.mjs must call conv1({ … }) once, without ${Object.keys(extra).join(', ')}, for the benchmark to add them (found ${calls} calls${clashes.length ? `, and ${clashes.join(', ')} set` : ''})`);
const generated = new URL('site-extended.astro.config.mjs', pathToFileURL(cacheDir.replace(/\/?$/, '/')));
mkdirSync(new URL('./', generated), { recursive: true });
const inserted = Object.entries(extra).map(([key, value]) => `\n      ${key}: ${JSON.stringify(value)},`).join('');
writeFileSync(generated, site.replace(/\bconv1\(\{/, `conv1({${inserted}`));
/** @type {import('astro').AstroUserConfig} */
const config = (await import(generated.href)).default;

export default withVirtualModuleCapture({
  ...config,
  integrations: [...(config.integrations ?? []), extraPage(env('BENCH_EXTRA_PAGE'))],
  outDir: env('BENCH_OUT_DIR'),
  cacheDir,
});
