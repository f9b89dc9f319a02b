import { rm } from 'node:fs/promises';
import type { AstroIntegration, AstroIntegrationLogger } from 'astro';
import { parseOptions, toAstroError } from './errors.ts';
import { basePath, figurePaths } from './figure-urls.ts';
import type { Conv1Options, ResolvedOptions } from './options.ts';
import { publishFigures, stageFigures } from './publish-figures.ts';
import { vitePluginConv1, type Conv1Figures } from './vite-plugin.ts';

export type { Conv1Options } from './options.ts';

/** Draws the first convolution layer of a model into the site: figures at build time, data through virtual:conv1. */
export default function conv1(userOptions?: Conv1Options): AstroIntegration {
  const options = parseOptions(userOptions);
  let figures: Promise<Conv1Figures> | undefined;
  /** In a build: the figure files, written to a staging folder as soon as they are known. */
  let staged: Promise<URL> | undefined;
  /** Whether a page imported virtual:conv1, i.e. whether the build needs the figure files. */
  let imported = false;

  return {
    name: 'astro-conv1',
    hooks: {
      'astro:config:setup': async ({ config, command, updateConfig, addWatchFile, logger }) => {
        // A local model file restarts the dev server when it changes; npm and http models are immutable here.
        const model = /^(npm|https?):/.test(options.model) ? undefined : (await import('../../lib/read-kernel.ts')).resolveModel(options.model, { root: config.root });
        if (model) addWatchFile(await model);
        const getFigures = () => {
          figures ??= computeFigures(options, config, logger, command === 'build').catch((error: unknown) => {
            // In dev, the next request (e.g. after a fix) tries again.
            if (command === 'dev') figures = undefined;
            throw toAstroError(error);
          });
          return figures;
        };
        updateConfig({
          vite: {
            plugins: [
              vitePluginConv1(() => {
                imported = true;
                return getFigures();
              }),
            ],
          },
        });
        if (command === 'build') {
          // Start now, in a thread of its own, while Astro syncs content and bundles: by the time
          // a page imports virtual:conv1, much of the work is done. A failure is reported there.
          staged = getFigures().then(({ result, paths }) => stageFigures(result.files, paths, new URL('conv1/out/', config.cacheDir)));
          staged.catch(() => undefined);
        } else if (command === 'dev') logger.debug('figures are computed when a page first imports virtual:conv1');
      },
      'astro:build:done': async ({ dir, logger }) => {
        if (!figures || !staged) return;
        const folder = await staged;
        if (!imported) return rm(folder, { recursive: true, force: true });
        const { paths } = await figures;
        const started = performance.now();
        await publishFigures(folder, new URL([...paths.values()][0]!.replace(/[^/]+$/, ''), dir));
        logger.info(`wrote ${paths.size} figures in ${Math.round(performance.now() - started)} ms`);
      },
    },
  };
}

async function computeFigures(
  options: ResolvedOptions,
  config: { root: URL; cacheDir: URL; base: string; build: { assets: string } },
  logger: AstroIntegrationLogger,
  oneShot: boolean,
): Promise<Conv1Figures> {
  const started = performance.now();
  // Loaded here, not at the top: a config that Astro imports for every command does not load the
  // pipeline's code until figures are needed.
  const { runPipelineInThread } = await import('../../lib/pipeline-in-thread.ts');
  const cacheRoot = new URL('conv1/', config.cacheDir);
  let lastShown = -1;
  const result = await runPipelineInThread({
    ...options,
    model: options.model,
    channels: options.channels === 'auto' ? undefined : options.channels,
    compare: options.compare.map((spec) => ({ ...spec, label: spec.label ?? spec.id })),
    root: config.root,
    packageCache: new URL('models/', cacheRoot),
    registry: options.registry ?? process.env.npm_config_registry,
    figures: new URL('figures/', cacheRoot),
    codeCache: new URL('code/', cacheRoot),
    oneShot,
    onPhase(phase, doneInMs) {
      if (doneInMs !== undefined) logger.fork(`astro-conv1/${phase}`).info(`${phase} done in ${Math.round(doneInMs)} ms`);
    },
    onDownload(url) {
      logger.fork('astro-conv1/download').info(`fetching ${url} (first build only; cached afterwards)`);
    },
    onProgress({ received, total }) {
      const step = total ? Math.floor((received / total) * 10) : Math.floor(received / 10_000_000);
      if (step === lastShown) return;
      lastShown = step;
      const mb = (n: number) => (n / 1e6).toFixed(1);
      logger.fork('astro-conv1/download').info(total ? `${step * 10}% (${mb(received)} of ${mb(total)} MB)` : `${mb(received)} MB`);
    },
  });
  const { model } = result.data;
  logger.info(
    `${model.layer} ${model.shape.join('×')} from ${model.source} (${model.channelOrder.toUpperCase()}, ${model.channelOrderSource}; ${model.bytesRead.toLocaleString('en')} bytes read); ` +
      `${result.files.size} figures ${result.cached ? 'from cache' : `rendered, convolved on ${result.data.backend}`} in ${Math.round(performance.now() - started)} ms`,
  );
  return {
    result,
    paths: figurePaths(result.files, config.build.assets),
    base: basePath(config.base),
    defaults: { order: options.order, normalize: options.normalize },
  };
}
