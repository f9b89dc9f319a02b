// @ts-check
/**
 * The two-model site of bench/two-models.ts: the repository's astro.config.mjs with one more model,
 * `models: { second: { model: BENCH_SECOND_MODEL } }` in its conv1() options, and one more page that
 * shows it (second-model-page.mjs). Output and cache folders are moved under bench/results/ as in
 * ours.astro.config.mjs; BENCH_CONV1_CAPTURE saves the `virtual:conv1` module served, for the peer.
 *
 * The conv1() options are written inline in astro.config.mjs, so the model is added to its text:
 * the file is copied beside the cache (BENCH_CACHE_DIR/site-two-models.astro.config.mjs, inside the
 * package, so `import conv1 from 'astro-conv1'` still resolves to the compiled package) with the
 * `models` option inserted after `conv1({`, and imported. Any other shape of the file is an error
 * here rather than a silently different site.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { secondModelPage } from './second-model-page.mjs';
import { withVirtualModuleCapture } from './capture-virtual-module.mjs';

const env = (/** @type {string} */ name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this config is run by bench/two-models.ts`);
  return value;
};
const cacheDir = env('BENCH_CACHE_DIR');
const models = { second: { model: env('BENCH_SECOND_MODEL') } };

const site = readFileSync(new URL('../../astro.config.mjs', import.meta.url), 'utf8');
const calls = site.match(/\bconv1\(\{/g)?.length ?? 0;
if (calls !== 1 || /\bmodels\s*:/.test(site))
  throw new Error(`astro.config.mjs must call conv1({ … }) once, without \`models\`, for the two-model benchmark to add one (found ${calls} calls)`);
const generated = new URL('site-two-models.astro.config.mjs', pathToFileURL(cacheDir.replace(/\/?$/, '/')));
mkdirSync(new URL('./', generated), { recursive: true });
writeFileSync(generated, site.replace(/\bconv1\(\{/, `conv1({\n      models: ${JSON.stringify(models)},`));
/** @type {import('astro').AstroUserConfig} */
const config = (await import(generated.href)).default;

export default withVirtualModuleCapture({
  ...config,
  integrations: [...(config.integrations ?? []), secondModelPage()],
  outDir: env('BENCH_OUT_DIR'),
  cacheDir,
});
