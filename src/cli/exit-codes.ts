import { isQmError, type QmErrorCode } from '../core/errors';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Bad input: the user can fix it by changing what they typed or wrote. */
const USAGE_CODES: ReadonlySet<QmErrorCode> = new Set([
  'EUSAGE',
  'EMANIFEST',
  'ENOMANIFEST',
  'ELOCKFILE',
  'ENOVERSION',
  'ENOTOOL',
  'EURL',
  'EINSECURE',
  'EUNSAFEPATH',
]);

export function exitCodeFor(error: unknown): number {
  return isQmError(error) && USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILURE;
}
