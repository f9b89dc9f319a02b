import { analyseLayer, type LayerReport } from '../analyse/index.ts';
import { Conv1Error } from '../errors.ts';
import type { Kernel } from '../kernel.ts';
import { readModel, type ReadKernelOptions } from '../read-kernel.ts';
import type { Checkpoint } from './series.ts';

/**
 * How a first layer changes over training: each checkpoint's kernel read and measured as the report
 * measures a single file, so the verdict at the last step is exactly what `report` would say of it.
 */

export interface CheckpointMeasures {
  report: Omit<LayerReport, 'filters'>;
  /** Mean L2 norm of the filters: how far the weights have grown or shrunk from their initialisation. */
  meanL2: number;
  filters: LayerReport['filters'];
}

export interface TimelinePoint extends Omit<CheckpointMeasures, 'filters'> {
  step: number;
  /** The checkpoint's model spec, without an integrity pin. */
  file: string;
  format: string;
}

/**
 * Every checkpoint's kernel, read one at a time so that a long run's kernels need not all be held.
 * Every kernel must have the first one's shape: a series that changes architecture midway is not
 * one layer's history.
 */
export async function* readSeries(series: readonly Checkpoint[], options: ReadKernelOptions = {}): AsyncGenerator<{ step: number; kernel: Kernel }> {
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
    yield { step, kernel };
  }
}

export function measureCheckpoint(kernel: Kernel): CheckpointMeasures {
  const { filters, ...report } = analyseLayer(kernel);
  const meanL2 = filters.reduce((sum, filter) => sum + filter.strength.l2, 0) / filters.length;
  return { report, meanL2, filters };
}

export async function* measureSeries(series: readonly Checkpoint[], options: ReadKernelOptions = {}): AsyncGenerator<TimelinePoint & { filters: LayerReport['filters'] }> {
  for await (const { step, kernel } of readSeries(series, options)) yield { step, file: kernel.source, format: kernel.format, ...measureCheckpoint(kernel) };
}
