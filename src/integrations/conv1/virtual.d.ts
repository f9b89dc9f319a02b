declare module 'virtual:conv1' {
  /** Everything the build computed about the model's first convolution. */
  export const conv1: import('../../lib/figures.ts').Conv1Data;
  /** The grid order and normalisation chosen in the integration's options. */
  export const defaults: {
    order: import('../../lib/render/grid.ts').GridOrder;
    normalize: import('../../lib/render/normalize.ts').Normalization;
  };
  /** The public URL of a generated figure (with the site's base). */
  export function figureUrl(ref: import('../../lib/figures.ts').FigureRef): string;
}
