import type { DownloadProgress } from './sources/npm-package.ts';
import type { Conv1Result } from './figures.ts';
import type { Phase, PipelineOptions } from './pipeline.ts';
import { runInThread, workerBeside } from './threads.ts';

const WORKER = workerBeside(import.meta.url, 'pipeline-worker');

type Callbacks = 'cache' | 'onPhase' | 'onDownload' | 'onProgress';

/** What crosses into the thread: the options without callbacks, URLs as their href. */
export interface PipelineJob {
  options: Omit<PipelineOptions, Callbacks | 'model' | 'root' | 'packageCache'> & { root?: string | undefined; packageCache?: string | undefined };
  /** A URL stays a URL: a model spec string is resolved against the root, a URL is not. */
  model: { url: string } | { spec: string | undefined };
  /** The figure cache's folder, as a file: URL. */
  figures?: string | undefined;
  /** ThreadedPipelineOptions.oneShot: the thread stays until the process ends. */
  stayUntilExit: boolean;
}

export type PipelineEvent = { phase: Phase; doneInMs: number | undefined } | { download: string } | { progress: DownloadProgress };

export interface ThreadedPipelineOptions extends Omit<PipelineOptions, 'cache'> {
  /** Folder of a figure cache (see cache.ts): swept of stale entries, then used. */
  figures?: URL | undefined;
  /**
   * sharp's native libraries must not be unloaded while their threads may still run (glibc), so a
   * thread that loaded them must not end before the process. In a process that ends soon after
   * (a build: oneShot), the thread simply stays; elsewhere (the dev server, which may run the
   * pipeline many times) sharp is loaded in the caller's thread first, about 100 ms once, and
   * every thread ends when done.
   */
  oneShot?: boolean | undefined;
}

/**
 * runPipeline in a worker thread of its own. The caller's thread stays free (an Astro build goes on
 * bundling meanwhile), so the pipeline can start as soon as the options are known.
 */
export async function runPipelineInThread(options: ThreadedPipelineOptions): Promise<Conv1Result & { cached: boolean }> {
  const { figures, onPhase, onDownload, onProgress, model, root, packageCache, oneShot = false, ...rest } = options;
  if (!oneShot) await import('sharp');
  const job: PipelineJob = {
    options: { ...rest, root: root?.href, packageCache: packageCache?.href },
    model: model instanceof URL ? { url: model.href } : { spec: model },
    figures: figures?.href,
    stayUntilExit: oneShot,
  };
  return runInThread<PipelineJob, Conv1Result & { cached: boolean }, PipelineEvent>(
    WORKER,
    job,
    (event) => {
      if ('phase' in event) onPhase?.(event.phase, event.doneInMs);
      else if ('download' in event) onDownload?.(event.download);
      else onProgress?.(event.progress);
    },
  );
}
