import type { DownloadProgress } from './sources/npm-package.ts';
import type { ReadProgress, Redirect } from './sources/http-model-files.ts';
import type { Conv1Result } from './figures.ts';
import type { Phase, PipelineOptions } from './pipeline.ts';
import { availableParallelism } from 'node:os';
import { ThreadPool, workerBeside } from './threads.ts';

const WORKER = workerBeside(import.meta.url, 'pipeline-worker');

/**
 * Pipelines run at once, at most: each keeps four encodes in flight on libuv's pool and convolves on
 * every core, so more at once only adds threads' memory, not speed. A site of forty models runs them
 * through these threads in turn.
 */
const PIPELINE_THREADS = Math.min(4, Math.max(2, availableParallelism()));
/** One pool per way of ending (see oneShot), made when first needed. */
const pools = new Map<boolean, ThreadPool<PipelineJob, Conv1Result & { cached: boolean }, PipelineEvent>>();

type Callbacks = 'cache' | 'onPhase' | 'onDownload' | 'onProgress' | 'onReadProgress' | 'onRedirect' | 'onNote';

/** What crosses into the thread: the options without callbacks, URLs as their href. */
export interface PipelineJob {
  options: Omit<PipelineOptions, Callbacks | 'model' | 'root' | 'packageCache'> & { root?: string | undefined; packageCache?: string | undefined };
  /** A URL stays a URL: a model spec string is resolved against the root, a URL is not. */
  model: { url: string } | { spec: string | undefined };
  /** The figure cache's folder, as a file: URL. */
  figures?: string | undefined;
}

export type PipelineEvent =
  | { phase: Phase; doneInMs: number | undefined }
  | { download: string }
  | { progress: DownloadProgress }
  | { readProgress: ReadProgress }
  | { redirect: Redirect }
  | { note: string };

/** `http` holds a function (a resolver, for tests), which cannot cross into a thread. */
export interface ThreadedPipelineOptions extends Omit<PipelineOptions, 'cache' | 'http'> {
  /** Folder of a figure cache (see cache.ts): swept of stale entries, then used. */
  figures?: URL | undefined;
  /**
   * sharp's native libraries must not be unloaded while their threads may still run (glibc), so a
   * thread that loaded them must not end before the process. In a process that ends soon after
   * (a build: oneShot), the threads simply stay; elsewhere (the dev server, which may run the
   * pipeline many times) sharp is loaded in the caller's thread first, about 100 ms once, and the
   * threads end when no pipeline is left to run.
   */
  oneShot?: boolean | undefined;
}

/**
 * runPipeline in a worker thread. The caller's thread stays free (an Astro build goes on bundling
 * meanwhile), so the pipeline can start as soon as the options are known.
 */
export async function runPipelineInThread(options: ThreadedPipelineOptions): Promise<Conv1Result & { cached: boolean }> {
  const { figures, onPhase, onDownload, onProgress, onReadProgress, onRedirect, onNote, model, root, packageCache, oneShot = false, ...rest } = options;
  if (!oneShot) await import('sharp');
  const job: PipelineJob = {
    options: { ...rest, root: root?.href, packageCache: packageCache?.href },
    model: model instanceof URL ? { url: model.href } : { spec: model },
    figures: figures?.href,
  };
  let pool = pools.get(oneShot);
  if (!pool) pools.set(oneShot, (pool = new ThreadPool(WORKER, PIPELINE_THREADS, oneShot)));
  return pool.run(
    job,
    (event) => {
      if ('phase' in event) onPhase?.(event.phase, event.doneInMs);
      else if ('download' in event) onDownload?.(event.download);
      else if ('readProgress' in event) onReadProgress?.(event.readProgress);
      else if ('redirect' in event) onRedirect?.(event.redirect);
      else if ('note' in event) onNote?.(event.note);
      else onProgress?.(event.progress);
    },
  );
}
