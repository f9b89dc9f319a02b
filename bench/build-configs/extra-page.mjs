// @ts-check
/**
 * For the benchmarks that extend the site (bench/two-models.ts, bench/timeline.ts): an integration
 * that adds one page, /<name>/, drawn by bench/build-configs/<name>.astro. A site and its peer both
 * add it, so that their outputs can be compared file by file.
 */

/**
 * @param {string} name
 * @returns {import('astro').AstroIntegration}
 */
export function extraPage(name) {
  if (!/^[a-z][a-z-]*$/.test(name)) throw new Error(`BENCH_EXTRA_PAGE must name a page in bench/build-configs/, not "${name}"`);
  return {
    name: `bench-extra-page-${name}`,
    hooks: {
      'astro:config:setup': ({ injectRoute }) => {
        injectRoute({ pattern: `/${name}`, entrypoint: new URL(`./${name}.astro`, import.meta.url), prerender: true });
      },
    },
  };
}
