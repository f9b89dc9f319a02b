// @ts-check
import { writeFileSync } from 'node:fs';

/**
 * `config` with, when BENCH_CONV1_CAPTURE is set (the untimed warm-up build only), a Vite plugin that
 * saves the `virtual:conv1` module the integration served to that file, for the pre-rendered peer.
 * @param {import('astro').AstroUserConfig} config
 * @returns {import('astro').AstroUserConfig}
 */
export function withVirtualModuleCapture(config) {
  const capture = process.env.BENCH_CONV1_CAPTURE;
  if (!capture) return config;
  /** @type {import('vite').Plugin} */
  const plugin = {
    name: 'bench-capture-conv1',
    enforce: 'pre',
    transform(code, id) {
      if (id === '\0virtual:conv1') writeFileSync(capture, code);
      return undefined;
    },
  };
  return { ...config, vite: { ...config.vite, plugins: [...(config.vite?.plugins ?? []), plugin] } };
}
