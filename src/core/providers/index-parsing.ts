import { QmError } from '../errors';

/** Parses an index document as JSON, naming the URL when it is not JSON. */
export function parseJsonIndex(body: string, url: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new QmError('EINDEX', `The index at ${url} is not valid JSON: ${(error as Error).message}`, { url, cause: error });
  }
}

export function indexError(url: string, what: string): QmError {
  return new QmError('EINDEX', `The index at ${url} is malformed: ${what}`, { url });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `<sha256>  <file>` lines of a SHASUMS256.txt, as a record from file name to digest. A plain
 * record rather than a Map, because the index cache freezes what it shares and a frozen Map
 * can still be changed; no prototype, so a file named like an Object method cannot collide.
 */
export function parseShasums(body: string, url: string): Record<string, string> {
  const sums = Object.create(null) as Record<string, string>;
  for (const [index, line] of body.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const match = /^([0-9a-fA-F]{64}) [ *]?(\S+)$/.exec(line.trim());
    if (!match) throw indexError(url, `line ${index + 1} is not "<sha256>  <file>"`);
    sums[match[2]!] = match[1]!.toLowerCase();
  }
  return sums;
}
