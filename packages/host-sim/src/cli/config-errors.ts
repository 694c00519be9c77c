import { EpcConfigError } from '@epfsim/epc-core';

/** A profile file that failed validation is a user error, reported like a bad flag. */
export function isEpcConfigError(error: unknown): error is EpcConfigError {
  return error instanceof EpcConfigError;
}
