import type { Kernel } from '../kernel.ts';
import { blankImage, type RgbImage } from './image.ts';
import { displayRange, filterImage, type FilterRange, type Normalization, type PixelRounding } from './normalize.ts';

/**
 * column: filter i at column ⌊i/rows⌋, row i mod rows — the order of the reference article's loop.
 * row: filter i at row ⌊i/columns⌋, column i mod columns.
 */
export type GridOrder = 'column' | 'row';

export interface GridLayout {
  rows: number;
  columns: number;
  tileWidth: number;
  tileHeight: number;
  gap: number;
  width: number;
  height: number;
  /** Top-left corner of each filter's tile, by filter index. */
  cells: { x: number; y: number; row: number; column: number }[];
}

export function gridLayout(kernel: Pick<Kernel, 'shape'>, order: GridOrder, gap = 1): GridLayout {
  const [kh, kw, , count] = kernel.shape;
  const columns = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / columns);
  const cells = Array.from({ length: count }, (_, i) => {
    const column = order === 'column' ? Math.floor(i / rows) : i % columns;
    const row = order === 'column' ? i % rows : Math.floor(i / columns);
    return { row, column, x: column * (kw + gap), y: row * (kh + gap) };
  });
  return { rows, columns, tileWidth: kw, tileHeight: kh, gap, width: columns * kw + (columns - 1) * gap, height: rows * kh + (rows - 1) * gap, cells };
}

export interface GridOptions {
  order?: GridOrder;
  normalize?: Normalization;
  rounding?: PixelRounding | undefined;
  /** One range for every filter, overriding `normalize`: a scale shared with other grids. */
  range?: FilterRange | undefined;
}

/** All filters tiled with black gaps: 63×63 for ResNet50's 64 filters of 7×7. */
export function renderGrid(kernel: Kernel, { order = 'column', normalize = 'filter', rounding, range }: GridOptions = {}): RgbImage {
  const layout = gridLayout(kernel, order);
  const grid = blankImage(layout.width, layout.height);
  // global and zero use one range for all filters: compute it once.
  const shared = range ?? (normalize === 'filter' ? undefined : displayRange(kernel, 0, normalize));
  layout.cells.forEach((cell, f) => {
    const tile = filterImage(kernel, f, normalize, { range: shared, rounding });
    for (let y = 0; y < tile.height; y++)
      grid.data.set(tile.data.subarray(y * tile.width * 3, (y + 1) * tile.width * 3), ((cell.y + y) * grid.width + cell.x) * 3);
  });
  return grid;
}
