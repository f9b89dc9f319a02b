import { AstroError } from 'astro/errors';
import { Conv1Error } from '../../lib/errors.ts';
import { optionsSchema, resolveOptions, type ResolvedOptions } from './options.ts';

export function parseOptions(options: unknown): ResolvedOptions {
  const parsed = optionsSchema.safeParse(options);
  if (parsed.success) return resolveOptions(parsed.data);
  const problems = parsed.error.issues.map((issue) => `\`${issue.path.join('.') || 'options'}\`: ${issue.message}`).join('; ');
  throw new AstroError(`Invalid astro-conv1 options: ${problems}.`, 'See the options in README.md; every option is optional, conv1() alone draws Keras ResNet50.');
}

/** Conv1Error carries its own fix; everything else is a bug or an environment problem, reported as is. */
export function toAstroError(error: unknown): Error {
  if (error instanceof AstroError) return error;
  if (error instanceof Conv1Error) {
    const astroError = new AstroError(`astro-conv1: ${error.message}`, error.hint);
    astroError.stack = error.stack ?? '';
    return astroError;
  }
  return error instanceof Error ? error : new Error(String(error));
}
