import type { Plugin } from 'vite';
import type { Conv1Result } from '../../lib/figures.ts';

const VIRTUAL_ID = 'virtual:conv1';
const RESOLVED_ID = `\0${VIRTUAL_ID}`;
const TYPES: Record<string, string> = { png: 'image/png', webp: 'image/webp', avif: 'image/avif', f32: 'application/octet-stream' };

export interface Conv1Figures {
  result: Conv1Result;
  /** File name → path relative to the site root. */
  paths: Map<string, string>;
  /** The site's base path, ending in a slash. */
  base: string;
  /** Component defaults from the options. */
  defaults: { order: string; normalize: string };
}

/**
 * Serves `virtual:conv1` (the figures' data and URLs) and, in dev, the figure files themselves. The
 * pipeline runs when a page first imports the module, not at start-up, so `astro sync` and pages
 * without figures cost nothing.
 */
export function vitePluginConv1(getFigures: () => Promise<Conv1Figures>): Plugin {
  return {
    name: 'astro-conv1',
    resolveId(id) {
      return id === VIRTUAL_ID ? RESOLVED_ID : undefined;
    },
    async load(id) {
      if (id !== RESOLVED_ID) return undefined;
      const { result, paths, base, defaults } = await getFigures();
      const urls = Object.fromEntries([...paths].map(([name, path]) => [name, base + path]));
      return [
        `export const conv1 = ${JSON.stringify(result.data)};`,
        `export const defaults = ${JSON.stringify(defaults)};`,
        `const urls = ${JSON.stringify(urls)};`,
        'export function figureUrl(ref) { return urls[ref.file]; }',
      ].join('\n');
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0];
        if (!path?.includes('/conv1/')) return next();
        getFigures().then(({ result, paths, base }) => {
          // Under a base path, Astro's dev server may hand the request on with the base already removed.
          const file = path.startsWith(base) ? path.slice(base.length) : path.slice(1);
          for (const [name, published] of paths)
            if (published === file) {
              response.setHeader('Content-Type', TYPES[name.split('.').pop()!] ?? 'application/octet-stream');
              response.setHeader('Cache-Control', 'no-cache');
              response.end(result.files.get(name));
              return;
            }
          next();
        }, next);
      });
    },
  };
}
