import type { Dispatcher } from 'undici';
import { QmError, cancelledError } from '../errors';
import type { Logger } from '../log';
import { abortableWait, parseRetryAfter, retryDelay, type BackoffPolicy } from './backoff';
import { exhausted, statusFailure, transportFailure, type Failure } from './failures';
import { ResumeState } from './resume';
import { pumpBody, type ByteSink } from './sinks';
import type { TransferProgress } from './types';
import { basicAuthorization, redactUrl } from './url-policy';

export interface TransferSettings {
  dispatcher: Dispatcher;
  retries: number;
  backoff: BackoffPolicy;
  idleTimeoutMs: number;
  headersPatienceMs: number;
  maxRedirects: number;
  userAgent: string;
  logger: Logger;
}

export interface TransferRequest {
  /** Already through mirrors and the URL policy; `user:pass@` in it is sent as Basic auth, never shown. */
  url: string;
  sink: ByteSink;
  /** The body must be exactly this long. */
  exactSize?: number;
  /** The body may be at most this long. */
  maxSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
}

export interface TransferCounts {
  resumes: number;
  restarts: number;
}

const PROGRESS_INTERVAL_MS = 100;
/** The longest single wait for response headers, however long the patience. */
const MAX_HEADERS_WAIT_MS = 5 * 60_000;

/**
 * Fetches one URL into a sink, retrying and resuming. Retries and resumes share one budget of
 * `retries` failures, but an attempt that got further into the file than any before it resets
 * the count: a flaky connection that keeps making progress finishes, while one that keeps
 * failing at the same place (or restarts from zero each time) still gives up.
 */
export async function transfer(settings: TransferSettings, request: TransferRequest): Promise<TransferCounts> {
  const state = new ResumeState();
  const counts: TransferCounts = { resumes: 0, restarts: 0 };
  const progress = new ProgressThrottle(request.onProgress);
  let failures = 0;
  let furthest = 0;
  const headers = new HeadersWait(settings);
  const shown = redactUrl(request.url);
  for (let attempts = 1; ; attempts++) {
    if (request.signal?.aborted) throw cancelledError(request.signal, `GET ${shown}`);
    const failure = await attempt(settings, request, state, counts, progress, headers.timeoutMs);
    if (!failure) {
      progress.report(request.sink.received, state.total, true);
      return counts;
    }
    if (!failure.retryable) throw failure.error;
    if (failure.awaitingHeaders) {
      // Connected, asked, and not answered yet: a cache may be filling ahead of us (nginx's
      // proxy_cache_lock answers nobody until the fill ends). Patience, not the retry budget.
      const waited = headers.timeoutMs;
      if (!headers.extend()) throw exhausted(failure, attempts, `waited ${formatMs(headers.waitedMs)} in all`);
      settings.logger.info(`No response headers from ${shown} within ${formatMs(waited)}; asking again and waiting up to ${formatMs(headers.timeoutMs)}`);
      continue;
    }
    if (state.total !== undefined && request.sink.received === state.total) {
      // Every byte arrived before the connection failed: a Range for more would get 416 and
      // start over. Whether the bytes are right is the caller's digest check.
      settings.logger.debug(`${failure.error.message}, but all ${state.total} bytes had arrived; keeping them`);
      progress.report(request.sink.received, state.total, true);
      return counts;
    }
    if (request.sink.received > furthest) {
      furthest = request.sink.received;
      failures = 0;
    }
    failures += 1;
    if (failures > settings.retries) throw exhausted(failure, attempts);
    const wait = failure.immediate ? 0 : retryDelay(failures, settings.backoff, failure.retryAfterMs);
    settings.logger.debug(`${failure.error.message}; retrying in ${wait} ms (failure ${failures} of at most ${settings.retries + 1})`);
    await abortableWait(wait, request.signal, `GET ${shown}`);
  }
}

/** One request and its body. Never throws: every outcome is success (undefined) or a Failure. */
async function attempt(
  settings: TransferSettings,
  request: TransferRequest,
  state: ResumeState,
  counts: TransferCounts,
  progress: ProgressThrottle,
  headersTimeoutMs: number,
): Promise<Failure | undefined> {
  const { sink, signal } = request;
  const target = new URL(request.url);
  // Every message names the URL without its credentials.
  const url = redactUrl(request.url);
  const authorization = basicAuthorization(target);
  let body: Dispatcher.ResponseData['body'] | undefined;
  try {
    const response = await settings.dispatcher.request({
      origin: target.origin,
      path: target.pathname + target.search,
      method: 'GET',
      headers: {
        'user-agent': settings.userAgent,
        'accept-encoding': 'identity',
        // undici's redirect handler drops it when a hop leaves this origin.
        ...(authorization ? { authorization } : {}),
        ...state.requestHeaders(sink.received),
      },
      signal,
      headersTimeout: headersTimeoutMs,
      bodyTimeout: settings.idleTimeoutMs,
    });
    body = response.body;
    const { statusCode: status, headers } = response;
    const resuming = sink.received > 0;
    const usable = (status >= 200 && status < 300) || (status === 416 && resuming);
    if (!usable) {
      return statusFailure(url, {
        status,
        statusText: statusNote(response, settings.maxRedirects),
        finalUrl: finalUrl(response.context),
        retryAfterMs: parseRetryAfter(headers['retry-after']),
      });
    }

    const plan = state.plan(status, headers, sink.received);
    if (plan.kind === 'unusable') {
      await restart(sink, counts, progress, state);
      const error = new QmError('EHTTP', `GET ${url} failed: ${plan.reason}`, { url, status });
      return { error, retryable: true, immediate: true };
    }
    if (plan.kind === 'full' && resuming) await restart(sink, counts, progress, state);
    if (plan.kind === 'append' && resuming) counts.resumes += 1;
    checkAnnouncedSize(url, state.total, request);

    const limit = request.exactSize ?? request.maxSize ?? Infinity;
    await pumpBody(body, sink, (chunk) => {
      if (sink.received + chunk.length > limit) throw tooLarge(url, limit, sink.received + chunk.length, request);
      progress.report(sink.received + chunk.length, state.total);
    });
    checkFinalSize(url, state.total, request);
    return undefined;
  } catch (error) {
    return transportFailure(error, url, signal);
  } finally {
    // An unread or half-read body holds its connection; destroying it releases the socket. The
    // outcome is decided, so the abort error undici emits for it has no one to tell.
    if (body && !body.readableEnded && !body.destroyed) body.on('error', () => undefined).destroy();
  }
}

async function restart(sink: ByteSink, counts: TransferCounts, progress: ProgressThrottle, state: ResumeState): Promise<void> {
  if (sink.received === 0) return;
  await sink.restart();
  counts.restarts += 1;
  progress.report(0, state.total, true);
}

function checkAnnouncedSize(url: string, total: number | undefined, request: TransferRequest): void {
  if (total === undefined) return;
  if (request.exactSize !== undefined && total !== request.exactSize) {
    throw new QmError('ESIZE', `GET ${url} failed: the server announces ${total} bytes, expected ${request.exactSize}`, {
      url,
      expected: request.exactSize,
      found: total,
    });
  }
  if (request.maxSize !== undefined && total > request.maxSize) throw tooLarge(url, request.maxSize, total, request);
}

function checkFinalSize(url: string, total: number | undefined, request: TransferRequest): void {
  const received = request.sink.received;
  const expected = request.exactSize ?? total;
  if (expected === undefined || received === expected) return;
  const source = request.exactSize !== undefined ? 'the declared size' : 'Content-Length';
  throw new QmError('ESIZE', `GET ${url} failed: received ${received} bytes, ${source} is ${expected}`, { url, expected, found: received });
}

function tooLarge(url: string, limit: number, found: number, request: TransferRequest): QmError {
  const what = request.exactSize !== undefined ? 'the declared size of' : 'the limit of';
  return new QmError('ESIZE', `GET ${url} failed: the body is larger than ${what} ${limit} bytes`, { url, expected: limit, found });
}

/**
 * Where redirects led, from the history the redirect interceptor fills in (every URL asked,
 * the first included); undefined when there was no redirect.
 */
function finalUrl(context: object | undefined): string | undefined {
  const history = (context as { history?: readonly URL[] } | undefined)?.history;
  return history && history.length > 1 ? redactUrl(history.at(-1)!.href) : undefined;
}

/** The status text, and for a redirect we did not follow, why not. */
function statusNote(response: Dispatcher.ResponseData, maxRedirects: number): string | undefined {
  const { statusCode, statusText, headers } = response;
  if (statusCode >= 300 && statusCode < 400 && headers.location) {
    return `${statusText || 'Redirect'} (redirect to ${String(headers.location)} not followed: at most ${maxRedirects} allowed)`;
  }
  return statusText;
}

/**
 * The wait for response headers: `idleTimeoutMs` at first, doubled after each wait that ran
 * out (up to MAX_HEADERS_WAIT_MS), until `headersPatienceMs` has been spent over the transfer.
 */
class HeadersWait {
  timeoutMs: number;
  waitedMs = 0;

  constructor(private readonly settings: Pick<TransferSettings, 'idleTimeoutMs' | 'headersPatienceMs'>) {
    this.timeoutMs = settings.idleTimeoutMs;
  }

  /** Counts the wait that just ran out; false when the patience is spent. */
  extend(): boolean {
    this.waitedMs += this.timeoutMs;
    const left = this.settings.headersPatienceMs - this.waitedMs;
    if (left <= 0) return false;
    this.timeoutMs = Math.min(this.timeoutMs * 2, Math.max(MAX_HEADERS_WAIT_MS, this.settings.idleTimeoutMs), left);
    return true;
  }
}

function formatMs(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** At most one callback per interval while bytes flow, plus forced ones at restarts and the end. */
class ProgressThrottle {
  private last = -Infinity;

  constructor(private readonly onProgress: ((progress: TransferProgress) => void) | undefined) {}

  report(received: number, total: number | undefined, force = false): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (!force && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.onProgress({ received, total });
  }
}
