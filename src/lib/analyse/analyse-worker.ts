/** The worker behind analyseInThread: the diagnostics of several layers, one after another. */
import type { Kernel } from '../kernel.ts';
import { answerInThread } from '../threads.ts';
import { analyseLayer, type LayerReport } from './layer-report.ts';

answerInThread((kernels: Kernel[]): LayerReport[] => kernels.map((kernel) => analyseLayer(kernel)));
