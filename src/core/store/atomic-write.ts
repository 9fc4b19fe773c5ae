import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError } from '../errors';
import { uniqueTempName } from './temp-files';

export interface AtomicWriteOptions {
  /** Permission bits of the new file (before the umask). Default 0o644. */
  mode?: number;
  /**
   * fsync the file before the rename and its directory after it, so a crash leaves the old
   * content or the new, never an empty file. Default true; false for files that only matter
   * while their writer lives (a lock's owner record).
   */
  durable?: boolean;
  /** What the error says we were doing; default "write". */
  action?: string;
}

/** Exclusive create, and never through a symlink someone planted at the temp name. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * The temp file a write of `file` goes through: in the same directory (so the rename stays on
 * one filesystem), hidden, and named with its owner (see `uniqueTempName`) so recovery can tell
 * a dead writer's leftover from a live one's.
 */
export function siblingTempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${uniqueTempName('tmp')}`);
}

/**
 * Replaces `file` with `data` so that every reader sees the old content or the new, whole: the
 * data goes to a temp file created exclusively beside it, is flushed, and is renamed over
 * `file`. A symlink at `file` is replaced, never followed. The temp file is removed on failure.
 * The one place Quartermaster writes a file in place; callers never hand-roll temp + rename.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const { mode = 0o644, durable = true, action = 'write' } = options;
  const temp = siblingTempPath(file);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, CREATE_FLAGS, mode);
    await handle.writeFile(data);
    if (durable) await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, action, file);
  }
  if (durable) await syncDirectory(path.dirname(file));
}

/** Makes a rename in `dir` durable: without it a crash can lose the directory entry. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL); the rename itself has happened.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
