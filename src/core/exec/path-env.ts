import * as path from 'node:path';

/**
 * The key that holds PATH in `env`. On Windows the name is case-insensitive and usually `Path`;
 * a plain object copied from process.env keeps whichever case it had.
 */
export function pathKey(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return 'PATH';
  return Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'Path';
}

/** The PATH value of `env`, '' when unset. */
export function pathValue(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  return env[pathKey(env, platform)] ?? '';
}

/**
 * A copy of `env` whose PATH starts with `dirs`, then the old entries, each directory once.
 * Empty entries are dropped: they mean "the current directory", which would run whatever a
 * workspace ships under a tool's name.
 */
export function prependPath(
  env: NodeJS.ProcessEnv,
  dirs: readonly string[],
  platform: NodeJS.Platform = process.platform,
): NodeJS.ProcessEnv {
  const windows = platform === 'win32';
  const delimiter = windows ? path.win32.delimiter : path.posix.delimiter;
  const key = pathKey(env, platform);
  const result = { ...env };
  const old: string[] = [];
  // Windows allows PATH and Path side by side in a plain object; the child must see one.
  for (const name of Object.keys(env)) {
    if (name === key || (windows && name.toUpperCase() === 'PATH')) {
      old.push(...(env[name] ?? '').split(delimiter));
      delete result[name];
    }
  }
  const seen = new Set<string>();
  const entries: string[] = [];
  for (const entry of [...dirs, ...old]) {
    const identity = pathIdentity(entry, windows);
    if (identity === '' || seen.has(identity)) continue;
    seen.add(identity);
    entries.push(entry);
  }
  result[key] = entries.join(delimiter);
  return result;
}

/** Equal for `/a/b`, `/a/b/` and `/a//b`; on Windows also for `C:\A` and `c:\a\`. */
function pathIdentity(entry: string, windows: boolean): string {
  const unquoted = windows ? entry.replace(/^"(.*)"$/, '$1') : entry;
  if (unquoted === '') return '';
  const normalized = (windows ? path.win32 : path.posix).normalize(unquoted);
  const trimmed = normalized.length > 1 ? normalized.replace(/[\\/]+$/, '') : normalized;
  return windows ? trimmed.toLowerCase() : trimmed;
}
