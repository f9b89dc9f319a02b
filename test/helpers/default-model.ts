import { DEFAULT_MODEL } from '../../src/lib/presets.ts';

/** The real ResNet50, unpacked where the site build keeps it, so tests and builds download it once. */
export const PACKAGE_CACHE = new URL('../../node_modules/.astro/conv1/models/', import.meta.url);
export { DEFAULT_MODEL };
export const PROJECT_ROOT = new URL('../../', import.meta.url);
