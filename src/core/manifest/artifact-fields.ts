import { isLoopbackHost } from '../fetch/url-policy';

/**
 * Checks of an artifact's `url`, `sha256` and `dest` values. Each returns the end of a sentence
 * that follows `<field> for artifact "<name>"`, or undefined when the value is fine. The digest
 * and the dest become paths, so their checks are the door's (paths/safe-names.ts).
 */
export { projectPathProblem as destProblem, sha256Problem } from '../paths/safe-names';

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
