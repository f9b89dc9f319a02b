// @ts-check
/**
 * The real site for bench/build.ts: the repository's own astro.config.mjs, unchanged, with only the
 * output and cache folders moved under bench/results/ so the benchmark never writes the repository's
 * dist/ nor the shared node_modules/.astro/ that other builds and tests use. (outDir and cacheDir are
 * not CLI flags, hence this wrapper.) BENCH_CONV1_CAPTURE, set for the untimed warm-up build only, saves
 * the `virtual:conv1` module the integration served, for the peer.
 */
import config from '../../astro.config.mjs';
import { withVirtualModuleCapture } from './capture-virtual-module.mjs';

const env = (/** @type {string} */ name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this config is run by bench/build.ts`);
  return value;
};

export default withVirtualModuleCapture({
  ...config,
  outDir: env('BENCH_OUT_DIR'),
  cacheDir: env('BENCH_CACHE_DIR'),
});
