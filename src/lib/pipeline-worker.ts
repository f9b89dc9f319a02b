/**
 * The worker behind runPipelineInThread: the integration's whole build-time work (sweep the figure
 * cache, read, analyse, render, convolve, store) in a thread of its own. Its progress goes back as
 * events; the result is copied back once, as plain data and bytes.
 */
import { figureCache } from './cache.ts';
import type { PipelineEvent, PipelineJob } from './pipeline-in-thread.ts';
import { runPipeline } from './pipeline.ts';
import { answerInThread } from './threads.ts';

answerInThread(async ({ options, model, figures, stayUntilExit }: PipelineJob, emit: (event: PipelineEvent) => void) => {
  // For a one-shot caller, whose thread has not loaded sharp: see runPipelineInThread.
  if (stayUntilExit) setInterval(() => {}, 2 ** 30);
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
  });
});
