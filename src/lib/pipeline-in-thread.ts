import type { DownloadProgress } from './sources/npm-package.ts';
import type { Conv1Result } from './figures.ts';
import type { Phase, PipelineOptions } from './pipeline.ts';
import { runInThread } from './threads.ts';

const WORKER = new URL('./pipeline-worker.ts', import.meta.url);

type Callbacks = 'cache' | 'onPhase' | 'onDownload' | 'onProgress';

/** What crosses into the thread: the options without callbacks, URLs as their href. */
export interface PipelineJob {
  options: Omit<PipelineOptions, Callbacks | 'model' | 'root' | 'packageCache'> & { root?: string | undefined; packageCache?: string | undefined };
  /** A URL stays a URL: a model spec string is resolved against the root, a URL is not. */
  model: { url: string } | { spec: string };
  /** The figure cache's folder, as a file: URL. */
  figures?: string | undefined;
}

export type PipelineEvent = { phase: Phase; doneInMs: number | undefined } | { download: string } | { progress: DownloadProgress };

export interface ThreadedPipelineOptions extends Omit<PipelineOptions, 'cache'> {
  /** Folder of a figure cache (see cache.ts): swept of stale entries, then used. */
  figures?: URL | undefined;
}

/**
 * runPipeline in a worker thread of its own. The caller's thread stays free (an Astro build goes on
 * bundling meanwhile), so the pipeline can start as soon as the options are known.
 */
export function runPipelineInThread(options: ThreadedPipelineOptions): Promise<Conv1Result & { cached: boolean }> {
  const { figures, onPhase, onDownload, onProgress, model, root, packageCache, ...rest } = options;
  const job: PipelineJob = {
    options: { ...rest, root: root?.href, packageCache: packageCache?.href },
    model: model instanceof URL ? { url: model.href } : { spec: model },
    figures: figures?.href,
  };
  return runInThread<PipelineJob, Conv1Result & { cached: boolean }, PipelineEvent>(WORKER, job, (event) => {
    if ('phase' in event) onPhase?.(event.phase, event.doneInMs);
    else if ('download' in event) onDownload?.(event.download);
    else onProgress?.(event.progress);
  });
}
