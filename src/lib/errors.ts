import { escapeOutsideText } from './outside-text.ts';

/**
 * Every failure the pipeline reports on purpose is a Conv1Error: it names the file (or source) at
 * fault, the cause, and what the user can do about it. The Astro layer turns it into an AstroError
 * with the fix as the hint; the command line prints it without a stack trace. Its parts often quote
 * a server's or a model file's own text, so they are made safe for a terminal here, once for every
 * message (see outside-text.ts).
 */
export class Conv1Error extends Error {
  override readonly name = 'Conv1Error';
  /** The file, URL or package the problem is in. */
  readonly file: string;
  /** What is wrong, in one sentence. */
  readonly reason: string;
  /** What the user can do about it. */
  readonly hint: string;

  constructor(file: string, reason: string, hint: string, options?: { cause?: unknown }) {
    const [safeFile, safeReason] = [escapeOutsideText(file), escapeOutsideText(reason)];
    super(`${safeFile}: ${safeReason}`, options);
    this.file = safeFile;
    this.reason = safeReason;
    this.hint = escapeOutsideText(hint);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
