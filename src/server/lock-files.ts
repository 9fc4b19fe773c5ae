import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isQmError } from '../core/errors';
import { LOCK_FILE, parseLockfile, type Lockfile } from '../core/lockfile/qm-lock';
import { readProjectText } from '../core/paths/project-files';
import type { ManifestDocuments } from './manifest-documents';

export type LockState =
  | { kind: 'none'; file: string }
  | { kind: 'ok'; file: string; lock: Lockfile; text: string }
  /** qm.lock is there but cannot be read or parsed. */
  | { kind: 'bad'; file: string; message: string };

interface DiskEntry {
  mtimeMs: number;
  size: number;
  state: LockState;
}

/**
 * The qm.lock beside a manifest: the editor's text when it has the file open, else the file on
 * disk, re-read only when its modification time or size changes. qm.lock is project content the
 * server reads, not a cache of the coordinator's.
 */
export class LockFiles {
  private readonly disk = new Map<string, DiskEntry>();
  private readonly open = new Map<string, { text: string; state: LockState }>();

  constructor(private readonly documents: ManifestDocuments) {}

  static pathFor(manifestFile: string): string {
    return path.join(path.dirname(manifestFile), LOCK_FILE);
  }

  async read(manifestFile: string): Promise<LockState> {
    const file = LockFiles.pathFor(manifestFile);
    const document = this.documents.openLock(file);
    if (document) {
      const text = document.getText();
      const cached = this.open.get(file);
      if (cached?.text === text) return cached.state;
      const state = parse(file, text);
      this.open.set(file, { text, state });
      return state;
    }
    let stat: { mtimeMs: number; size: number };
    try {
      stat = await fs.stat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'none', file };
      return { kind: 'bad', file, message: `${LOCK_FILE} cannot be read (${code ?? String(error)})` };
    }
    const cached = this.disk.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.state;
    let state: LockState;
    try {
      // Never through a FIFO or a device a clone links qm.lock to (EUNSAFEPATH).
      const text = await readProjectText(file);
      state = text === undefined ? { kind: 'none', file } : parse(file, text);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = isQmError(error) ? error.message : (code ?? String(error));
      state = code === 'ENOENT' ? { kind: 'none', file } : { kind: 'bad', file, message: `${LOCK_FILE} cannot be read (${reason})` };
    }
    this.disk.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, state });
    return state;
  }

  /** Forget what was read from disk at `file` (a watcher said it changed). */
  forget(file: string): void {
    this.disk.delete(file);
  }
}

function parse(file: string, text: string): LockState {
  try {
    return { kind: 'ok', file, lock: parseLockfile(text, file), text };
  } catch (error) {
    return { kind: 'bad', file, message: `${LOCK_FILE} cannot be used: ${error instanceof Error ? error.message : String(error)}` };
  }
}
