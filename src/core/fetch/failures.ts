import { STATUS_CODES } from 'node:http';
import { QmError, cancelledError } from '../errors';

/** Why one attempt failed, and whether another attempt may go better. */
export interface Failure {
  error: QmError;
  retryable: boolean;
  /** The server's Retry-After, in milliseconds. */
  retryAfterMs?: number;
  /** Retry without waiting: the failure was ours to fix (an unusable 206), not the server's load. */
  immediate?: boolean;
  /** The request was sent on a live connection and no response headers came in time. */
  awaitingHeaders?: boolean;
}

/** 408 Request Timeout, 429 Too Many Requests and every 5xx may succeed later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface StatusFacts {
  status: number;
  statusText?: string;
  /** Where redirects led; only when there were redirects. */
  finalUrl?: string;
  retryAfterMs?: number;
}

export function statusFailure(url: string, { status, statusText, finalUrl, retryAfterMs }: StatusFacts): Failure {
  const text = statusText || STATUS_CODES[status] || '';
  const where = finalUrl ? `${url} (redirected to ${finalUrl})` : url;
  const error = new QmError('EHTTP', `GET ${where} failed: HTTP ${status}${text ? ` ${text}` : ''}`, { url, status });
  const failure: Failure = { error, retryable: isRetryableStatus(status) };
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return failure;
}

/** Node and undici error codes a fresh connection may cure. */
const RETRYABLE_NETWORK = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ENETUNREACH', 'ENETDOWN', 'EHOSTUNREACH',
  'EHOSTDOWN', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  // A proxy that refused the tunnel (502/503 from the proxy) surfaces as an abort from undici.
  'UND_ERR_ABORTED',
]);

const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

const TIMEOUT_WORDS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out waiting for body data',
  ETIMEDOUT: 'timed out',
};

/**
 * Classifies anything thrown while requesting or reading a body. A QmError made by our own
 * checks (ESIZE, EIO, ENOSPC, EINSECURE) is final; cancellation wins over whatever the abort
 * caused inside undici.
 */
export function transportFailure(error: unknown, url: string, signal: AbortSignal | undefined): Failure {
  if (signal?.aborted) return { error: cancelledError(signal, `GET ${url}`), retryable: false };
  if (error instanceof QmError) {
    // The policy guard refused a redirect hop (EURL or EINSECURE naming it): say which request led there.
    if ((error.code === 'EINSECURE' || error.code === 'EURL') && error.details.url !== undefined && error.details.url !== url) {
      return { error: new QmError(error.code, `GET ${url} failed: redirect refused. ${error.message}`, { ...error.details, cause: error }), retryable: false };
    }
    return { error, retryable: false };
  }
  const code = errorCode(error);
  const reason = describe(error, code);
  if (code !== undefined && TIMEOUTS.has(code)) {
    const failure: Failure = { error: new QmError('ETIMEOUT', `GET ${url} failed: ${TIMEOUT_WORDS[code]}`, { url, cause: error }), retryable: true };
    if (code === 'UND_ERR_HEADERS_TIMEOUT') failure.awaitingHeaders = true;
    return failure;
  }
  const retryable = code !== undefined && RETRYABLE_NETWORK.has(code);
  return { error: new QmError('ENETWORK', `GET ${url} failed: ${reason}`, { url, cause: error }), retryable };
}

/** Keeps the code and facts of the last failure, saying that retrying did not help. */
export function exhausted(failure: Failure, attempts: number, why?: string): QmError {
  const { error } = failure;
  if (attempts === 1 && why === undefined) return error;
  const note = [why, attempts > 1 ? `gave up after ${attempts} attempts` : undefined].filter(Boolean).join('; ');
  return new QmError(error.code, `${error.message} (${note})`, { ...error.details, cause: error });
}

/** The first errno-style code on the error or its cause chain (undici wraps some). */
function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describe(error: unknown, code: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
