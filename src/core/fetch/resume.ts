import type { IncomingHttpHeaders } from 'node:http';

/** A parsed `Content-Range: bytes start-end/total`; `total` is undefined for `*`. */
export interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

export function parseContentRange(value: string | string[] | undefined): ContentRange | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const match = text ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(text) : null;
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

export function parseContentLength(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\s*\d+\s*$/.test(text) ? Number(text) : undefined;
}

/**
 * The validator to send in If-Range: a strong ETag, else Last-Modified. A weak ETag (W/"...")
 * may not be used in If-Range (RFC 9110 13.1.5), so it counts as none.
 */
export function rangeValidator(headers: IncomingHttpHeaders): string | undefined {
  const etag = headers.etag?.trim();
  if (etag && !etag.startsWith('W/')) return etag;
  return headers['last-modified']?.trim() || undefined;
}

/** What a response means for the bytes already received. */
export type ResponsePlan =
  /** The whole entity from byte 0: drop what we have (if anything) and start over. */
  | { kind: 'full'; total: number | undefined }
  /** The rest of the same entity, starting exactly where we stopped. */
  | { kind: 'append'; total: number | undefined }
  /** A partial response we cannot use (wrong start, short end, 416): restart without Range. */
  | { kind: 'unusable'; reason: string };

/**
 * Remembers what the response that started the current entity promised about ranges, and turns
 * later responses into a plan. Resuming needs `Accept-Ranges: bytes` and a validator: If-Range
 * then makes the server answer 206 only for the same entity and 200 (a full restart) otherwise.
 */
export class ResumeState {
  private validator: string | undefined;
  private acceptsRanges = false;
  /** Length of the full entity, from Content-Length of a 200 or the total of a Content-Range. */
  total: number | undefined;

  /** Range and If-Range for continuing after `received` bytes; empty when resuming is impossible. */
  requestHeaders(received: number): Record<string, string> {
    if (received === 0 || !this.acceptsRanges || this.validator === undefined) return {};
    return { range: `bytes=${received}-`, 'if-range': this.validator };
  }

  /** Call with any 2xx or 416 response; `received` is what is on disk before its body. */
  plan(status: number, headers: IncomingHttpHeaders, received: number): ResponsePlan {
    if (status === 206) return this.planPartial(headers, received);
    if (status === 416) return { kind: 'unusable', reason: 'HTTP 416 Range Not Satisfiable' };
    this.validator = rangeValidator(headers);
    this.acceptsRanges = /\bbytes\b/i.test(headers['accept-ranges'] ?? '');
    this.total = parseContentLength(headers['content-length']);
    return { kind: 'full', total: this.total };
  }

  private planPartial(headers: IncomingHttpHeaders, received: number): ResponsePlan {
    const range = parseContentRange(headers['content-range']);
    if (!range) return { kind: 'unusable', reason: `HTTP 206 with unusable Content-Range "${headers['content-range'] ?? ''}"` };
    if (range.start !== received) {
      return { kind: 'unusable', reason: `HTTP 206 starts at byte ${range.start}, expected ${received}` };
    }
    const total = range.total ?? this.total;
    if (total !== undefined && range.end !== total - 1) {
      return { kind: 'unusable', reason: `HTTP 206 ends at byte ${range.end} of ${total}` };
    }
    this.total = total;
    return { kind: 'append', total };
  }
}
