import type { Plugin } from 'vite';
import type { Conv1Result } from '../../lib/figures.ts';

const VIRTUAL_ID = 'virtual:conv1';
const RESOLVED_ID = `\0${VIRTUAL_ID}`;
const TYPES: Record<string, string> = { png: 'image/png', webp: 'image/webp', avif: 'image/avif', f32: 'application/octet-stream' };

/** One model's figures as the site publishes them. */
export interface ModelFigures {
  name: string;
  /** How captions name the model. */
  label: string;
  result: Conv1Result;
  /** File name → path relative to the site root. */
  paths: Map<string, string>;
  /** Component defaults from the options. */
  defaults: { order: string; normalize: string };
}

/** A model marked `optional` whose pipeline failed: pages list it with the reason instead of the build stopping. */
export interface FailedModel {
  name: string;
  label: string;
  /** The parts of the Conv1Error: the file at fault, what is wrong, and how to fix it. */
  error: { file: string; reason: string; hint: string };
}

/** Whether a model was drawn, rather than listed as failed. */
export function isDrawn(model: ModelFigures | FailedModel): model is ModelFigures {
  return !('error' in model);
}

export interface VirtualModuleOptions {
  /** Every configured model, the top-level one first; computed when a page first imports the module. */
  getFigures: () => Promise<(ModelFigures | FailedModel)[]>;
  /** The site's base path, ending in a slash. */
  base: string;
  /** The `lang` option: the components' language where the page does not say. */
  lang: string | undefined;
}

/**
 * Serves `virtual:conv1` (every model's data and figure URLs) and, in dev, the figure files
 * themselves. The pipelines' results are awaited when a page first imports the module, not at
 * start-up, so `astro sync` and pages without figures cost nothing.
 */
export function vitePluginConv1({ getFigures, base, lang }: VirtualModuleOptions): Plugin {
  return {
    name: 'astro-conv1',
    resolveId(id) {
      return id === VIRTUAL_ID ? RESOLVED_ID : undefined;
    },
    async load(id) {
      if (id !== RESOLVED_ID) return undefined;
      const models = (await getFigures()).map((entry) => {
        if (!isDrawn(entry)) return `${JSON.stringify(entry.name)}: ${JSON.stringify({ name: entry.name, label: entry.label, error: entry.error })}`;
        const { name, label, result, paths, defaults } = entry;
        const urls = Object.fromEntries([...paths].map(([file, path]) => [file, base + path]));
        return `${JSON.stringify(name)}: model(${[name, label, result.data, defaults, urls].map((value) => JSON.stringify(value)).join(', ')})`;
      });
      return [
        'function model(name, label, data, defaults, urls) {',
        '  const figureUrl = (ref) => urls[ref.file] ?? fail(`no figure ${ref.file} in model "${name}"`);',
        '  return { name, label, data, defaults, figureUrl };',
        '}',
        'function fail(message) { throw new Error(`astro-conv1: ${message}`); }',
        `export const models = { ${models.join(',\n')} };`,
        `export const lang = ${JSON.stringify(lang)};`,
        'export function getModel(name = "default") {',
        '  const model = models[name] ?? fail(`no model named "${name}" (configured: ${Object.keys(models).join(", ")}); add it under \\`models\\` in conv1() in astro.config.mjs`);',
        // An optional model that failed has nothing to draw: a component that needs it says why.
        '  if (model.error) fail(`the model "${name}" could not be read: ${model.error.file}: ${model.error.reason} ${model.error.hint}`);',
        '  return model;',
        '}',
      ].join('\n');
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0];
        if (!path?.includes('/conv1/')) return next();
        getFigures().then((all) => {
          // Under a base path, Astro's dev server may hand the request on with the base already removed.
          const file = path.startsWith(base) ? path.slice(base.length) : path.slice(1);
          for (const { result, paths } of all.filter(isDrawn))
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

/**
 * The declarations of `virtual:conv1` for the site's `.astro/` types, with the configured model names;
 * only the models marked `optional` may be a Conv1FailedModel in `models`.
 */
export function virtualModuleTypes(modelNames: string[], optionalNames: string[] = []): string {
  const union = (names: string[]) => (names.length ? names.map((name) => JSON.stringify(name)).join(' | ') : 'never');
  return `declare module 'virtual:conv1' {
  type Conv1Data = import('astro-conv1/lib').Conv1Data;
  type FigureRef = import('astro-conv1/lib').FigureRef;
  /** The models configured in conv1(): "default" is the top-level one, the others come from \`models\`. */
  export type ModelName = ${union(modelNames)};
  /** The models marked \`optional\`: listed with the reason, rather than stopping the build, when they cannot be read. */
  export type OptionalModelName = ${union(optionalNames)};
  export interface Conv1Model {
    /** Absent: the model was drawn (see Conv1FailedModel). */
    error?: undefined;
    name: ModelName;
    /** How captions name the model (the \`label\` option). */
    label: string;
    /** Everything the build computed about the model's first convolution. */
    data: Conv1Data;
    /** The grid order and normalisation chosen in the options. */
    defaults: { order: import('astro-conv1/lib').GridOrder; normalize: import('astro-conv1/lib').Normalization };
    /** The public URL of one of this model's figures (with the site's base). */
    figureUrl(ref: FigureRef): string;
  }
  /** An optional model that could not be read or drawn. */
  export interface Conv1FailedModel {
    name: OptionalModelName;
    label: string;
    /** The file at fault, what is wrong, and how to fix it. */
    error: { file: string; reason: string; hint: string };
    data?: undefined;
  }
  export const models: Record<Exclude<ModelName, OptionalModelName>, Conv1Model> & Record<OptionalModelName, Conv1Model | Conv1FailedModel>;
  /**
   * A model by name (default: the top-level one); throws, naming the configured ones, for any other
   * name, and with the reason for an optional model that could not be read.
   */
  export function getModel(name?: string): Conv1Model;
  /** The \`lang\` option of conv1(), if given. */
  export const lang: string | undefined;
}
`;
}
