import { setTimeout as delay } from 'node:timers/promises';
import { cancelledError } from '../errors';

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Uniform in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(failure-1))].
 * Full jitter spreads many clients that failed together (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"). `failure` counts from 1.
 */
export function backoffDelay(failure: number, policy: BackoffPolicy): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failure - 1));
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before the next attempt. A server's Retry-After is followed as given (it knows its
 * load better than our jitter) but never beyond `maxMs`, so one header cannot park a download.
 */
export function retryDelay(failure: number, policy: BackoffPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxMs);
  return backoffDelay(failure, policy);
}

/** Waits `ms`, rejecting with ECANCELLED as soon as `signal` aborts. */
export async function abortableWait(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal?.aborted) throw cancelledError(signal, what);
  if (ms <= 0) return;
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) throw cancelledError(signal, what);
    throw error;
  }
}
