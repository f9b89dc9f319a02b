import { rm } from 'node:fs/promises';
import type { AstroConfig, AstroIntegration, AstroIntegrationLogger } from 'astro';
import { escapeOutsideText as e } from '../../lib/outside-text.ts';
import { parseOptions, toAstroError } from './errors.ts';
import { basePath, figureFolder, figurePaths } from './figure-urls.ts';
import type { Conv1Options, ModelOptions } from './options.ts';
import { FigureStaging, publishFigures } from './publish-figures.ts';
import { vitePluginAutoImport } from './vite-plugin-auto-import.ts';
import { Conv1Error } from '../../lib/errors.ts';
import { virtualModuleTypes, vitePluginConv1, type FailedModel, type ModelFigures } from './vite-plugin.ts';

export type { Conv1Options } from './options.ts';

/**
 * Draws the first convolution layer of one or more models into the site: figures at build time,
 * data through virtual:conv1, components in MDX without an import line.
 */
export default function conv1(userOptions?: Conv1Options): AstroIntegration {
  const options = parseOptions(userOptions);
  /** Each model's figures, by name, once asked for. */
  const figures = new Map<string, Promise<ModelFigures | FailedModel>>();
  /** In a build: where each model's figure files are written as soon as the model is drawn. */
  let staging: FigureStaging | undefined;
  /** Whether a page imported virtual:conv1, i.e. whether the build needs the figure files. */
  let imported = false;
  /** The output folder of the figures, relative to the site root. */
  let published = '';

  return {
    name: 'astro-conv1',
    hooks: {
      'astro:config:setup': async ({ config, command, updateConfig, addWatchFile, logger }) => {
        await watchLocalModels(options.models, config.root, addWatchFile);
        published = figureFolder(config.build.assets);
        if (command === 'build') staging = new FigureStaging(new URL('conv1/out/', config.cacheDir));
        const modelFigures = (model: ModelOptions): Promise<ModelFigures | FailedModel> => {
          let pending = figures.get(model.name);
          if (!pending) {
            pending = computeFigures(model, options.registry, options.readTimeout, config, logger, command === 'build')
              .then((drawn) => staging?.stage(drawn) ?? drawn)
              .catch((error: unknown) => {
                // In dev, the next request (e.g. after a fix) tries again.
                if (command === 'dev') figures.delete(model.name);
                // An optional model that cannot be read is listed with the reason; anything else (a bug) still stops the build.
                if (model.optional && error instanceof Conv1Error) {
                  logger.warn(`${model.name}: ${error.message}; listed as unreadable, as the model is optional`);
                  return { name: model.name, label: model.label, error: { file: error.file, reason: error.reason, hint: error.hint } };
                }
                throw toAstroError(error);
              });
            figures.set(model.name, pending);
          }
          return pending;
        };
        const allFigures = () => Promise.all(options.models.map(modelFigures));
        const virtualModule = vitePluginConv1({
          getFigures: () => {
            imported = true;
            return allFigures();
          },
          base: basePath(config.base),
          lang: options.lang,
        });
        updateConfig({ vite: { plugins: [virtualModule, ...(options.autoImport ? [vitePluginAutoImport()] : [])] } });
        if (command === 'build') {
          // Start now, in a pool of threads, while Astro syncs content and bundles: by the time a page
          // imports virtual:conv1, much of the work is done. A failure is reported there.
          allFigures().catch(() => undefined);
        } else if (command === 'dev') logger.debug('figures are computed when a page first imports virtual:conv1');
      },
      'astro:config:done': ({ injectTypes }) => {
        injectTypes({
          filename: 'virtual-conv1.d.ts',
          content: virtualModuleTypes(
            options.models.map((model) => model.name),
            options.models.filter((model) => model.optional).map((model) => model.name),
          ),
        });
      },
      'astro:build:done': async ({ dir, logger }) => {
        if (!staging) return;
        const folder = await staging.folder;
        // A model that failed fails the build, even one no page shows; its staged figures go with it.
        await Promise.all(figures.values()).catch(async (error: unknown) => {
          await rm(folder, { recursive: true, force: true });
          throw error;
        });
        if (!imported) return rm(folder, { recursive: true, force: true });
        const started = performance.now();
        const count = await publishFigures(folder, new URL(published, dir));
        logger.info(`wrote ${count} figures in ${Math.round(performance.now() - started)} ms`);
      },
    },
  };
}

/** A local model file restarts the dev server when it changes; npm and http models are immutable here. */
async function watchLocalModels(models: ModelOptions[], root: URL, addWatchFile: (path: URL) => void): Promise<void> {
  const local = models.flatMap(({ model }) => (model === undefined || /^(npm|https?):/.test(model) ? [] : [model]));
  if (local.length === 0) return;
  const { resolveModel } = await import('../../lib/read-kernel.ts');
  for (const model of local) addWatchFile(await resolveModel(model, { root }));
}

async function computeFigures(
  options: ModelOptions,
  registry: string | undefined,
  readTimeout: number | undefined,
  config: Pick<AstroConfig, 'root' | 'cacheDir' | 'build'>,
  logger: AstroIntegrationLogger,
  oneShot: boolean,
): Promise<ModelFigures> {
  const started = performance.now();
  // Loaded here, not at the top: a config that Astro imports for every command does not load the
  // pipeline's code until figures are needed.
  const { runPipelineInThread } = await import('../../lib/pipeline-in-thread.ts');
  const cacheRoot = new URL('conv1/', config.cacheDir);
  const { name, label, order, normalize, optional: _optional, ...pipelineOptions } = options;
  const log = (phase: string) => logger.fork(name === 'default' ? `astro-conv1/${phase}` : `astro-conv1/${name}/${phase}`);
  let lastShown = -1;
  const result = await runPipelineInThread({
    ...pipelineOptions,
    root: config.root,
    packageCache: new URL('models/', cacheRoot),
    registry: registry ?? process.env.npm_config_registry,
    readTimeoutMs: readTimeout === undefined ? undefined : readTimeout * 1000,
    figures: new URL('figures/', cacheRoot),
    oneShot,
    onPhase(phase, doneInMs) {
      if (doneInMs !== undefined) log(phase).info(`${phase} done in ${Math.round(doneInMs)} ms`);
    },
    onDownload(url) {
      log('download').info(`fetching ${e(url)} (first build only; cached afterwards)`);
    },
    onReadProgress({ url, received, elapsedMs }) {
      log('read').info(`still reading ${e(url)}: ${received.toLocaleString('en')} bytes received after ${Math.round(elapsedMs / 1000)} s`);
    },
    onNote(note) {
      log('read').warn(e(note));
    },
    onRedirect({ from, to }) {
      log('read').info(`${e(from)} is served from ${e(to)} (redirected)`);
    },
    onProgress({ received, total }) {
      const step = total ? Math.floor((received / total) * 10) : Math.floor(received / 10_000_000);
      if (step === lastShown) return;
      lastShown = step;
      const mb = (n: number) => (n / 1e6).toFixed(1);
      log('download').info(total ? `${step * 10}% (${mb(received)} of ${mb(total)} MB)` : `${mb(received)} MB`);
    },
  });
  const { model, timeline } = result.data;
  if (timeline) log('timeline').info(`${timeline.steps.length} checkpoints, steps ${timeline.steps[0]!.step}–${timeline.steps.at(-1)!.step}`);
  logger.info(
    `${name === 'default' ? '' : `${name}: `}${e(model.layer)} ${model.shape.join('×')} from ${e(model.source)} (${model.channelOrder.toUpperCase()}, ${model.channelOrderSource}; ${model.bytesRead.toLocaleString('en')} bytes read); ` +
      `${result.files.size} figures ${result.cached ? 'from cache' : `rendered, convolved on ${result.data.backend}`} in ${Math.round(performance.now() - started)} ms`,
  );
  return { name, label, result, paths: figurePaths(result.files, config.build.assets), defaults: { order, normalize } };
}
