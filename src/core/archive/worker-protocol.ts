import { QmError, type QmErrorCode, type QmErrorDetails } from '../errors';
import type { ExtractLimits, ExtractResult } from './types';

/** What the extraction worker is started with (its workerData). */
export interface UnpackJob {
  kind: 'tar.gz' | 'tar.xz';
  targetDir: string;
  limits: ExtractLimits;
  stripComponents: number;
  xzCommand?: string | false;
  /** The bytes' SHA-256 is checked before the tree is used: gunzip skips the CRC-32. */
  digestChecked?: boolean;
}

/** Main thread to worker. `data` carries compressed bytes, its buffer transferred. */
export type ToWorker = { type: 'data'; chunk: Uint8Array } | { type: 'end' } | { type: 'stop' };

/**
 * Worker to main thread. `consumed` returns credit for compressed bytes the decoder has taken;
 * `done` and `failed` are final and sent only once every descriptor and child process is closed.
 */
export type FromWorker =
  | { type: 'consumed'; bytes: number }
  | { type: 'done'; result: ExtractResult }
  | { type: 'failed'; error: SerializedError };

/** An error as it crosses threads: a QmError keeps its code and details, anything else its errno-style code. */
export interface SerializedError {
  message: string;
  qmCode?: QmErrorCode;
  details?: Omit<QmErrorDetails, 'cause'>;
  /** Node's error code (ENOENT, Z_DATA_ERROR, ...). */
  code?: string;
  syscall?: string;
  path?: string;
  cause?: SerializedError;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { message: String(error) };
  const errno = error as NodeJS.ErrnoException;
  const serialized: SerializedError = { message: error.message };
  if (error instanceof QmError) {
    const { cause, ...details } = error.details;
    serialized.qmCode = error.code;
    serialized.details = details;
    if (cause !== undefined && depth < 3) serialized.cause = serializeError(cause, depth + 1);
    return serialized;
  }
  if (typeof errno.code === 'string') serialized.code = errno.code;
  if (typeof errno.syscall === 'string') serialized.syscall = errno.syscall;
  if (typeof errno.path === 'string') serialized.path = errno.path;
  return serialized;
}

/** The error again on this side: a QmError with the same code and details, or an Error carrying `code`. */
export function deserializeError(serialized: SerializedError): Error {
  const cause = serialized.cause && deserializeError(serialized.cause);
  if (serialized.qmCode !== undefined) {
    return new QmError(serialized.qmCode, serialized.message, { ...serialized.details, ...(cause ? { cause } : {}) });
  }
  const error = new Error(serialized.message) as NodeJS.ErrnoException;
  if (serialized.code !== undefined) error.code = serialized.code;
  if (serialized.syscall !== undefined) error.syscall = serialized.syscall;
  if (serialized.path !== undefined) error.path = serialized.path;
  return error;
}
