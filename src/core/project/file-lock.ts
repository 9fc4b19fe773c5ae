import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { projectFileLockKey } from '../store/lock-keys';
import type { LockManager } from '../store/locks';

/**
 * Runs `edit` holding the lock of one project file (qm.toml, qm.lock), so read-modify-writes by
 * several processes happen one after another and each re-reads what the last one wrote. Edits
 * of two files are never nested, so these locks cannot deadlock; a toolchain or blob lock may be
 * taken inside one (resolving reads the index cache), never the reverse.
 */
export async function withProjectFileLock<T>(
  locks: LockManager,
  file: string,
  purpose: string,
  edit: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const acquired = await locks.acquire<never>(projectFileLockKey(await canonicalPath(file)), { purpose, ...(signal ? { signal } : {}) });
  const lock = acquired.lock!;
  try {
    return await edit();
  } finally {
    await lock.release();
  }
}

/** One spelling per file, whichever symlinked directory or relative path reached it (the file itself may not exist yet). */
async function canonicalPath(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const dir = await fs.realpath(path.dirname(absolute)).catch(() => path.dirname(absolute));
  return path.join(dir, path.basename(absolute));
}
