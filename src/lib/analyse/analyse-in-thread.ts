import type { Kernel } from '../kernel.ts';
import { ThreadPool, workerBeside } from '../threads.ts';
import type { LayerReport } from './layer-report.ts';

const WORKER = workerBeside(import.meta.url, 'analyse-worker');

/** One analysis thread per pipeline thread, kept for the next model: it loads no native library. */
let pool: ThreadPool<Kernel[], LayerReport[]> | undefined;

/**
 * analyseLayer for each kernel, in a thread of its own: the analysis is pure arithmetic on the main
 * thread's time otherwise, and a build has figures to draw meanwhile.
 */
export function analyseInThread(kernels: Kernel[]): Promise<LayerReport[]> {
  pool ??= new ThreadPool(WORKER, 1, true);
  return pool.run(kernels);
}
