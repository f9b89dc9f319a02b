import { analyseLayer, type LayerReport } from '../analyse/index.ts';
import { Conv1Error } from '../errors.ts';
import type { Kernel } from '../kernel.ts';
import { readModel, type ReadKernelOptions } from '../read-kernel.ts';
import type { Checkpoint } from './series.ts';

/**
 * How a first layer changes over training: each checkpoint's kernel read and measured as the report
 * measures a single file, so the verdict at the last step is exactly what `report` would say of it.
 */

export interface TimelinePoint {
  step: number;
  /** The checkpoint's model spec, without an integrity pin. */
  file: string;
  format: string;
  report: Omit<LayerReport, 'filters'>;
  /** Mean L2 norm of the filters: how far the weights have grown or shrunk from their initialisation. */
  meanL2: number;
}

export interface TimelineStep extends TimelinePoint {
  kernel: Kernel;
  filters: LayerReport['filters'];
}

/**
 * Reads and measures every checkpoint, one at a time (a long run's kernels are not all held at once by
 * the caller unless it keeps them). Every kernel must have the first checkpoint's shape: a series that
 * changes architecture midway is not one layer's history.
 */
export async function* measureSeries(series: readonly Checkpoint[], options: ReadKernelOptions = {}): AsyncGenerator<TimelineStep> {
  let shape: Kernel['shape'] | undefined;
  for (const { step, model } of series) {
    const { kernel } = await readModel(model, options);
    if (shape && kernel.shape.join() !== shape.join())
      throw new Conv1Error(
        kernel.source,
        `has a ${kernel.shape.join('×')} kernel in ${kernel.layer}, where the earlier checkpoints have ${shape.join('×')}`,
        'A timeline shows one layer over one training run: list only checkpoints of the same network, or choose the layer with `layer`.',
      );
    shape = kernel.shape;
    const { filters, ...report } = analyseLayer(kernel);
    const meanL2 = filters.reduce((sum, filter) => sum + filter.strength.l2, 0) / filters.length;
    yield { step, file: kernel.source, format: kernel.format, report, meanL2, kernel, filters };
  }
}
