import type { Kernel } from '../kernel.ts';
import { runInThread, workerBeside } from '../threads.ts';
import type { LayerReport } from './layer-report.ts';

const WORKER = workerBeside(import.meta.url, 'analyse-worker');

/**
 * analyseLayer for each kernel, in a thread of its own: the analysis is pure arithmetic on the main
 * thread's time otherwise, and a build has figures to draw meanwhile.
 */
export function analyseInThread(kernels: Kernel[]): Promise<LayerReport[]> {
  return runInThread<Kernel[], LayerReport[]>(WORKER, kernels);
}
