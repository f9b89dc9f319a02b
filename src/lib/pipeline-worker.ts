/**
 * The worker behind runPipelineInThread: the integration's whole build-time work for one model at a
 * time (sweep the figure cache, read, analyse, render, convolve, store), in a thread of a pool. Its progress goes back as
 * events; the result is copied back once, as plain data and bytes.
 */
import { figureCache } from './cache.ts';
import type { PipelineEvent, PipelineJob } from './pipeline-in-thread.ts';
import { runPipeline } from './pipeline.ts';
import { answerInThread } from './threads.ts';

answerInThread(async ({ options, model, figures }: PipelineJob, emit: (event: PipelineEvent) => void) => {
  const cache = figures === undefined ? undefined : figureCache(new URL(figures));
  await cache?.sweep();
  return runPipeline({
    ...options,
    model: 'url' in model ? new URL(model.url) : model.spec,
    root: options.root === undefined ? undefined : new URL(options.root),
    packageCache: options.packageCache === undefined ? undefined : new URL(options.packageCache),
    cache,
    onPhase: (phase, doneInMs) => emit({ phase, doneInMs }),
    onDownload: (url) => emit({ download: url }),
    onProgress: (progress) => emit({ progress }),
    onReadProgress: (readProgress) => emit({ readProgress }),
    onRedirect: (redirect) => emit({ redirect }),
    onNote: (note) => emit({ note }),
  });
});
