// @ts-check
/**
 * For bench/two-models.ts: an integration that adds one page, /second-model/, showing the model
 * named "second" (bench/build-configs/second-model.astro). Both the two-model site and its peer add
 * it, so that their outputs can be compared file by file.
 */

/** @returns {import('astro').AstroIntegration} */
export function secondModelPage() {
  return {
    name: 'bench-second-model-page',
    hooks: {
      'astro:config:setup': ({ injectRoute }) => {
        injectRoute({ pattern: '/second-model', entrypoint: new URL('./second-model.astro', import.meta.url), prerender: true });
      },
    },
  };
}
