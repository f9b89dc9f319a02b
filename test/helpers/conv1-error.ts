import { expect } from 'vitest';
import { Conv1Error } from '../../src/lib/errors.ts';

/** Awaits `promise`, expects it to reject with a Conv1Error, and returns that error for closer checks. */
export async function conv1Error(promise: Promise<unknown>): Promise<Conv1Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the read to fail with a Conv1Error').toBeInstanceOf(Conv1Error);
  return error as Conv1Error;
}
