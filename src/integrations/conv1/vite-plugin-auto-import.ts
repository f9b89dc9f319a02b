import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

/** Where MDX files import the components from, as a user would write it. */
export const COMPONENTS_MODULE = 'astro-conv1/components';
/** The components' barrel, shipped as source beside the compiled integration. */
const BARREL = new URL('../../../src/components/index.ts', import.meta.url);
const MDX_PLUGIN = '@mdx-js/rolldown';

/** The component names the barrel exports (`export { default as Conv1Grid } from …`): one list, kept there. */
export function componentNames(barrel: string = readFileSync(BARREL, 'utf8')): string[] {
  return [...barrel.matchAll(/\bdefault as (Conv1\w+)/g)].map((match) => match[1]!);
}

/**
 * The import line an MDX file needs for the components it uses but does not import or define
 * itself, or undefined when it needs none.
 */
export function autoImportLine(source: string, names: string[]): string | undefined {
  const missing = names.filter(
    (name) =>
      new RegExp(`<${name}[\\s/>]`).test(source) &&
      // Bound by an import (`X as Conv1Grid` binds it, `Conv1Grid as X` does not) or an export of the file's own.
      !new RegExp(`^\\s*(?:import\\b(?:(?!\\bfrom\\b)[\\s\\S])*\\b${name}\\b(?!\\s+as\\b)|export\\s+(?:const|let|var|function)\\s+${name}\\b)`, 'm').test(source),
  );
  return missing.length > 0 ? `import { ${missing.join(', ')} } from '${COMPONENTS_MODULE}';` : undefined;
}

/**
 * Lets `.mdx` pages and content entries use the components without an import line: the import
 * is appended to the MDX source before MDX compiles it (at the end, so line numbers in MDX errors
 * stay those of the file). MDX compiles in a `pre` plugin of its own; this one is moved ahead of it,
 * whatever the order of the integrations.
 */
export function vitePluginAutoImport(): Plugin {
  let names: string[] | undefined;
  const plugin: Plugin = {
    name: 'astro-conv1:auto-import',
    enforce: 'pre',
    configResolved(config) {
      const plugins = config.plugins as Plugin[];
      const mdx = plugins.findIndex((p) => p.name === MDX_PLUGIN);
      const self = plugins.indexOf(plugin);
      if (mdx !== -1 && self > mdx) plugins.splice(mdx, 0, ...plugins.splice(self, 1));
    },
    transform: {
      filter: { id: /\.mdx$/ },
      handler(code) {
        names ??= componentNames();
        const line = autoImportLine(code, names);
        return line ? { code: `${code}\n\n${line}\n`, map: null } : undefined;
      },
    },
  };
  return plugin;
}
