import { posix, win32 } from 'node:path';
import { isLoopbackHost } from '../fetch/url-policy';

/**
 * Checks of an artifact's `url`, `sha256` and `dest` values. Each returns the end of a sentence
 * that follows `<field> for artifact "<name>"`, or undefined when the value is fine.
 */

export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a valid URL: "${url}"`;
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:') {
    return isLoopbackHost(parsed.hostname)
      ? undefined
      : 'must use https:// (plain http:// is allowed only for localhost, where nobody on the network can alter the download)';
  }
  return `must be an https:// URL (got ${parsed.protocol}//)`;
}

export function sha256Problem(sha256: string): string | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(sha256)) return undefined;
  if (/^sha256[:-]/i.test(sha256)) return 'must be only the 64 hexadecimal characters of the digest, without a "sha256:" prefix';
  if (sha256.length === 64) return 'must be 64 hexadecimal characters (0-9, a-f)';
  return `must be 64 hexadecimal characters (got ${sha256.length})`;
}

export function destProblem(dest: string): string | undefined {
  if (dest.trim() === '') return 'must name a file inside the project (got an empty path)';
  if (dest.includes('\0')) return 'must not contain a NUL character';
  if (posix.isAbsolute(dest) || win32.isAbsolute(dest) || /^[a-zA-Z]:/.test(dest)) {
    return `must be a path relative to the project, not absolute ("${dest}")`;
  }
  const normalized = normalizeDest(dest);
  if (normalized === '..' || normalized.startsWith('../')) return `must stay inside the project ("${dest}" leads outside it)`;
  if (normalized === '.') return 'must name a file inside the project, not the project directory itself';
  return undefined;
}

/** A relative dest in one spelling, so two artifacts writing the same file can be compared. */
export function normalizeDest(dest: string): string {
  return posix.normalize(dest.replaceAll('\\', '/')).replace(/\/+$/, '') || '.';
}
