import { edgeTest } from '../analyse/edge-test.ts';
import type { FigureEncoder } from '../figure-encoder.ts';
import type { EdgeTestFigure, FigureRef, FilterFigure, GridFigure } from '../figures.ts';
import { channelsForDisplay, type Kernel } from '../kernel.ts';
import { channelsImage } from '../render/diverging.ts';
import { gridLayout, renderGrid, type GridOrder } from '../render/grid.ts';
import { enlarge } from '../render/image.ts';
import { displayRange, filterImage, NORMALIZATIONS, type PixelRounding } from '../render/normalize.ts';

/** The render stage: every drawing of the weights themselves, encoded as PNG on the calling thread. */

const GRID_ORDERS: readonly GridOrder[] = ['column', 'row'];
/** Comparison grids are enlarged by whole pixels to about this width, whatever their size. */
const COMPARISON_WIDTH = 320;

export interface LayerDrawing {
  gridScale: number;
  filterScale: number;
  rounding: PixelRounding;
}

export function pad(f: number): string {
  return String(f).padStart(2, '0');
}

/** The grid in both tile orders and every normalisation, each exact and enlarged. */
export function drawGrids(kernel: Kernel, encoder: FigureEncoder, { gridScale, rounding }: LayerDrawing): GridFigure[] {
  return GRID_ORDERS.flatMap((order) =>
    NORMALIZATIONS.map((normalize): GridFigure => {
      const image = renderGrid(kernel, { order, normalize, rounding });
      const layout = gridLayout(kernel, order);
      return {
        order,
        normalize,
        raw: encoder.png(`grid-${order}-${normalize}.png`, image),
        large: encoder.png(`grid-${order}-${normalize}-x${gridScale}.png`, enlarge(image, gridScale)),
        scale: gridScale,
        // In filter mode each tile has its own range; report the layer's extremes.
        range: displayRange(kernel, 0, normalize === 'filter' ? 'global' : normalize),
        rows: layout.rows,
        columns: layout.columns,
      };
    }),
  );
}

/** Each filter enlarged in every normalisation, and its input channels side by side. */
export function drawFilters(kernel: Kernel, encoder: FigureEncoder, { filterScale, rounding }: LayerDrawing): Pick<FilterFigure, 'images' | 'channels'>[] {
  const shownChannels = channelsForDisplay(kernel).map((c) => c.index);
  return Array.from({ length: kernel.shape[3] }, (_, f) => {
    const images = {} as FilterFigure['images'];
    for (const normalize of NORMALIZATIONS) images[normalize] = encoder.png(`filter-${pad(f)}-${normalize}.png`, enlarge(filterImage(kernel, f, normalize, { rounding }), filterScale));
    const channels = encoder.png(`channels-${pad(f)}.png`, enlarge(channelsImage(kernel, f, shownChannels), filterScale));
    return { images, channels };
  });
}

/** The chosen filters on synthetic straight edges (analyse/edge-test.ts), the "\\" and "/" edges drawn. */
export function drawEdgeTests(kernel: Kernel, filters: Iterable<number>, encoder: FigureEncoder): EdgeTestFigure[] {
  return [...filters].map((f): EdgeTestFigure => {
    const test = edgeTest(kernel, f);
    const shown = test.shown.map(({ deg, peak, pattern, response }) => ({
      deg,
      peak,
      pattern: encoder.png(`edge-${pad(f)}-${deg}-pattern.png`, pattern),
      response: encoder.png(`edge-${pad(f)}-${deg}-response.png`, response),
    }));
    return { filter: f, amplitude: test.amplitude, sweep: test.sweep, shown };
  });
}

/** Each comparison layer's grid, per-filter scaled, enlarged to about COMPARISON_WIDTH. */
export function drawComparisonGrids(kernels: readonly { id: string; kernel: Kernel }[], encoder: FigureEncoder, rounding: PixelRounding): FigureRef[] {
  return kernels.map(({ id, kernel }) => {
    const grid = renderGrid(kernel, { rounding });
    return encoder.png(`compare-${id}.png`, enlarge(grid, Math.max(1, Math.floor(COMPARISON_WIDTH / grid.width))));
  });
}
