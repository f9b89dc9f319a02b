// @ts-check
/**
 * The peer of bench/build.ts: the same pages, components and articles (same root, src/ and content/),
 * built by plain Astro with no conv1 integration. The figures are static files in a public folder
 * (BENCH_PUBLIC_DIR: the repository's public/ plus _astro/conv1/ copied from a normal build, at the
 * same URLs), and `virtual:conv1` is a static module (BENCH_CONV1_MODULE: the text the integration
 * served in that build) returned by a ten-line Vite plugin. The MDX articles use the components
 * without an import line, so the peer adds the integration's own auto-import Vite plugin: a small
 * module of its own in the compiled package, which loads none of the integration's other code.
 * BENCH_EXTRA_PAGE adds the page bench/two-models.ts adds to the two-model site (extra-page.mjs).
 *
 * The settings below repeat the repository's astro.config.mjs minus the integration: importing that
 * file would load the integration and run it (its pipelines start in config:setup), the cost the peer
 * must not pay. bench/build.ts and bench/two-models.ts check that both builds produce byte-identical
 * pages, which catches any drift.
 */
import { readFileSync } from 'node:fs';
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import { vitePluginAutoImport } from '../../compiled/integrations/conv1/vite-plugin-auto-import.js';
import { extraPage } from './extra-page.mjs';

const env = (/** @type {string} */ name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this config is run by bench/build.ts or bench/two-models.ts`);
  return value;
};
const moduleFile = env('BENCH_CONV1_MODULE');

export default defineConfig({
  base: process.env.BASE ?? '/',
  trailingSlash: 'always',
  i18n: {
    locales: ['ja', 'en'],
    defaultLocale: 'ja',
    routing: { prefixDefaultLocale: true, redirectToDefaultLocale: false },
  },
  markdown: {
    shikiConfig: { themes: { light: 'github-light-high-contrast', dark: 'github-dark-high-contrast' } },
  },
  integrations: [mdx(), ...(process.env.BENCH_EXTRA_PAGE ? [extraPage(process.env.BENCH_EXTRA_PAGE)] : [])],
  outDir: env('BENCH_OUT_DIR'),
  cacheDir: env('BENCH_CACHE_DIR'),
  publicDir: env('BENCH_PUBLIC_DIR'),
  vite: {
    plugins: [
      {
        name: 'static-conv1',
        resolveId: (id) => (id === 'virtual:conv1' ? '\0virtual:conv1' : undefined),
        load: (id) => (id === '\0virtual:conv1' ? readFileSync(moduleFile, 'utf8') : undefined),
      },
      vitePluginAutoImport(),
    ],
  },
});
