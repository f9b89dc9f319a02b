import { z } from 'astro/zod';
import { DEFAULT_PHOTOS } from '../../lib/convolve/photo.ts';
import { DEFAULT_MODEL } from '../../lib/presets.ts';

const identifier = z.string().regex(/^[A-Za-z][\w-]*$/, 'start with a letter; use letters, digits, "-" and "_"');

const photo = z.union([
  z.string().min(1),
  z.strictObject({
    src: z.string().min(1),
    id: identifier.optional(),
    title: z.string().optional(),
    credit: z.string().optional(),
  }),
]).transform((spec) => (typeof spec === 'string' ? { src: spec } : spec));

const comparison = z.strictObject({
  id: identifier,
  /** A model spec as for `model`, or control:glorot / control:noise:<k> (see src/lib/pipeline.ts). */
  model: z.string().min(1),
  label: z.string().optional(),
  layer: z.string().min(1).optional(),
  channels: z.enum(['rgb', 'bgr']).optional(),
});

/** The controls: the same layer before training, and after its structure drowns in noise. */
export const DEFAULT_COMPARISONS: z.output<typeof comparison>[] = [
  { id: 'glorot', model: 'control:glorot' },
  { id: 'noise-1', model: 'control:noise:1' },
];

/** A training run's checkpoints: a folder, a glob, or a list of model specs and { step, model }. */
const checkpoints = z.union(
  [z.string().min(1), z.array(z.union([z.string().min(1), z.strictObject({ step: z.number().int().min(0), model: z.string().min(1) })])).min(1)],
  { error: 'give a folder, a glob, or a non-empty list of model specs and { step, model } objects (step a whole number from 0)' },
);

/** What a model entry says about the model itself; never taken from another entry. */
const modelFields = {
  /** A model file (path relative to the project root, or file: URL), an http(s) URL, or npm:<package>@<version>/<path>[#integrity]. */
  model: z.string().min(1).optional(),
  /** Checkpoints of a training run, shown by <Conv1Timeline />; without `model`, the last one is the model. */
  checkpoints: checkpoints.optional(),
  /** The convolution to draw; by default the first one reached from the model's input. */
  layer: z.string().min(1).optional(),
  /** Input channel order of the model; auto uses a preset for well-known models, else rgb. */
  channels: z.enum(['auto', 'rgb', 'bgr']).optional(),
  /** First layers shown beside this one by <Conv1Compare />: other models, and controls. */
  compare: z.array(comparison).optional(),
  /** How captions name the model; by default its file's or package's name. */
  label: z.string().min(1).optional(),
};

/** How a model is drawn and which photos it convolves; an entry of `models` takes what it leaves out from the top level. */
const displayFields = {
  /** all: every figure the components can show; layer: the layer and its analysis only (for galleries of many models). */
  figureSet: z.enum(['all', 'layer']).optional(),
  /** Default tile order of <Conv1Grid />: column is the reference article's (filter i at column ⌊i/8⌋). */
  order: z.enum(['column', 'row']).optional(),
  /** Default normalisation of <Conv1Grid /> and <Conv1Filter />. */
  normalize: z.enum(['filter', 'global', 'zero']).optional(),
  /** How scaled weights become grey levels: truncate as the reference recipe's astype("uint8") does, or round to the nearest level. */
  rounding: z.enum(['truncate', 'nearest']).optional(),
  /** Integer enlargement of the grid on the page (the exact 1:1 grid is always offered too). */
  gridScale: z.number().int().min(1).max(32).optional(),
  /** Integer enlargement of single filters. */
  filterScale: z.number().int().min(1).max(64).optional(),
  /** Photos to convolve: npm image data packages or image files relative to the project root. */
  photos: z.array(photo).min(1).optional(),
  /** Photos are scaled to this width before convolving. */
  photoWidth: z.number().int().min(32).max(4096).optional(),
  /** Filters whose responses are also rendered at full width, as <Conv1Convolution> shows them. */
  largeResponses: z.array(z.number().int().min(0)).optional(),
  /** Filters whose responses are computed on every photo. */
  responses: z.union([z.literal('all'), z.array(z.number().int().min(0)).min(1)]).optional(),
};

const DISPLAY_DEFAULTS = {
  figureSet: 'all',
  order: 'column',
  normalize: 'filter',
  rounding: 'truncate',
  gridScale: 8,
  filterScale: 16,
  photos: [...DEFAULT_PHOTOS].map((src) => ({ src })),
  photoWidth: 800,
  largeResponses: [0],
  responses: 'all',
} as const satisfies { [K in keyof typeof displayFields]-?: z.output<(typeof displayFields)[K]> };

/** The name components use for the top-level model when they are given no `model`. */
export const DEFAULT_MODEL_NAME = 'default';

const modelEntry = z.strictObject({
  ...modelFields,
  ...displayFields,
  /**
   * When this model cannot be read or drawn, list it with the reason (`{ name, label, error }` in
   * virtual:conv1) instead of stopping the build: for galleries of models the site does not control.
   * The top-level model has no such option: a broken default model always stops the build.
   */
  optional: z.boolean().optional(),
}).refine((entry) => entry.model !== undefined || entry.checkpoints !== undefined, {
  message: 'needs a `model` or `checkpoints`',
});
type ModelEntry = z.output<typeof modelEntry>;

export const optionsSchema = z
  .strictObject({
    ...modelFields,
    ...displayFields,
    /** Further models, by name: `<Conv1Grid model="name" />`. */
    models: z
      .record(z.string(), modelEntry)
      .superRefine((models, context) => {
        // Checked here rather than by the record's key schema, whose failure names no reason.
        for (const name of Object.keys(models)) {
          const problem = name === DEFAULT_MODEL_NAME ? `"${DEFAULT_MODEL_NAME}" names the top-level model: choose another name` : identifier.safeParse(name).error?.issues[0]?.message;
          if (problem) context.addIssue({ code: 'custom', path: [name], message: problem });
        }
      })
      .default({}),
    /** Make the components available in every .mdx file without an import line. */
    autoImport: z.boolean().default(true),
    /** Language of the components' text where the page does not say (Astro's i18n, Starlight): en or ja. */
    lang: z.string().min(2).optional(),
    /** npm registry for npm: models; by default npm's own setting. */
    registry: z.url().optional(),
    /** Seconds the read of a remote (http/https) model may take, all its requests together; by default 120. */
    readTimeout: z.number().positive().max(86_400).optional(),
  })
  .prefault({});

export type Conv1Options = z.input<typeof optionsSchema>;
type ParsedOptions = z.output<typeof optionsSchema>;

/** One model as the pipeline and the components need it: every option decided. */
export interface ModelOptions {
  name: string;
  /** Whether a failure to read or draw the model is listed rather than stopping the build (entries of `models` only). */
  optional: boolean;
  /** Undefined only with `checkpoints`: the pipeline draws the last checkpoint. */
  model: string | undefined;
  checkpoints: z.output<typeof checkpoints> | undefined;
  label: string;
  layer: string | undefined;
  channels: 'rgb' | 'bgr' | undefined;
  compare: { id: string; model: string; label: string; layer?: string | undefined; channels?: 'rgb' | 'bgr' | undefined }[];
  figureSet: 'all' | 'layer';
  order: 'column' | 'row';
  normalize: 'filter' | 'global' | 'zero';
  rounding: 'truncate' | 'nearest';
  gridScale: number;
  filterScale: number;
  photos: { src: string; id?: string | undefined; title?: string | undefined; credit?: string | undefined }[];
  photoWidth: number;
  largeResponses: number[];
  responses: 'all' | number[];
}

export interface ResolvedOptions {
  /** The top-level model first, then the entries of `models` in the order given. */
  models: ModelOptions[];
  autoImport: boolean;
  lang: string | undefined;
  registry: string | undefined;
  /** Seconds; undefined for the pipeline's default. */
  readTimeout: number | undefined;
}

export function resolveOptions(parsed: ParsedOptions): ResolvedOptions {
  const { models, autoImport, lang, registry, readTimeout, ...top } = parsed;
  // What an entry leaves out comes from the top level, then from the defaults.
  const display = (entry: ModelEntry) =>
    Object.fromEntries(
      (Object.keys(DISPLAY_DEFAULTS) as (keyof typeof DISPLAY_DEFAULTS)[]).map((key) => [key, entry[key] ?? top[key] ?? structuredClone(DISPLAY_DEFAULTS[key])]),
    ) as Pick<ModelOptions, keyof typeof DISPLAY_DEFAULTS>;
  const entry = (name: string, options: ModelEntry): ModelOptions => ({
    name,
    optional: options.optional ?? false,
    model: options.model,
    checkpoints: options.checkpoints,
    label: options.label ?? modelLabel(options.model ?? seriesName(options.checkpoints!)),
    layer: options.layer,
    channels: options.channels === 'auto' ? undefined : options.channels,
    compare: (options.compare ?? DEFAULT_COMPARISONS).map((spec) => ({ ...spec, label: spec.label ?? spec.id })),
    ...display(options),
  });
  return {
    // The top-level model is ResNet50 unless it is a training run's last checkpoint.
    models: [entry(DEFAULT_MODEL_NAME, { ...top, model: top.model ?? (top.checkpoints ? undefined : DEFAULT_MODEL) }), ...Object.entries(models).map(([name, options]) => entry(name, options))],
    autoImport,
    lang,
    registry,
    readTimeout,
  };
}

/** A series' name: its folder's, or the last checkpoint's. */
function seriesName(series: z.output<typeof checkpoints>): string {
  if (typeof series === 'string') return series.replace(/\/?[^/]*[*?[{].*$/, '') || series;
  const last = series.at(-1)!;
  return typeof last === 'string' ? last : last.model;
}

/** A short name for a model spec: the default model's, else the package's or the file's name. */
function modelLabel(spec: string): string {
  if (spec === DEFAULT_MODEL) return 'Keras ResNet50';
  const npm = /^npm:((?:@[^/]+\/)?[^@/]+)@/.exec(spec);
  return npm ? npm[1]! : decodeURIComponent(spec.split('#')[0]!.replace(/\/+$/, '').split('/').pop()!);
}
