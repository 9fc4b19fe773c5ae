import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError } from '../errors';
import { dropBytes } from '../io/buffers';
import { type AdmittedEntry, unsafeEntry } from './entry-guard';

/** Exclusive create, and never through a symlink at the last component. */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
/** Chunks are gathered into one writev of about this size: fewer syscalls, bounded memory. */
const FLUSH_BYTES = 1024 * 1024;

/** A regular file being written; bytes are buffered briefly and written with writev. */
export class FileSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly file: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** Writes what is left and closes the file. */
  async finish(): Promise<void> {
    await this.flush();
    await this.close();
  }

  /** Closes without flushing (the extraction failed and the staging directory goes); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    try {
      await this.handle.close();
    } catch (error) {
      throw fsError(error, 'close', this.file);
    }
  }

  private async flush(): Promise<void> {
    let buffers = this.pending;
    let remaining = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      while (remaining > 0) {
        const { bytesWritten } = await this.handle.writev(buffers);
        remaining -= bytesWritten;
        if (remaining > 0) buffers = dropBytes(buffers, bytesWritten);
      }
    } catch (error) {
      throw fsError(error, 'write', this.file);
    }
  }
}

/**
 * Puts admitted entries on disk under one root. Parent directories are created one level at a
 * time and anything already there that is not a real directory is refused, so nothing is ever
 * written through a symlink; files, links and directories are created exclusively.
 */
export class TargetWriter {
  private readonly knownDirs = new Set<string>(['']);

  private constructor(readonly root: string) {}

  static async create(targetDir: string): Promise<TargetWriter> {
    const root = path.resolve(targetDir);
    try {
      await fs.mkdir(root, { recursive: true });
    } catch (error) {
      throw fsError(error, 'create directory', root);
    }
    return new TargetWriter(root);
  }

  async directory(entry: AdmittedEntry): Promise<void> {
    await this.ensureDir(entry.path, entry.name);
  }

  /** Creates the entry's parent directories; call before `open`, `symlink` or `hardlink`. */
  async prepare(entry: AdmittedEntry): Promise<void> {
    const parent = path.posix.dirname(entry.path);
    await this.ensureDir(parent === '.' ? '' : parent, entry.name);
  }

  /** Creates the file (parents prepared); the caller writes through the sink and must finish or close it. */
  async open(entry: AdmittedEntry): Promise<FileSink> {
    const target = this.resolve(entry.path);
    try {
      return new FileSink(await fs.open(target, CREATE_FLAGS, entry.mode), target);
    } catch (error) {
      throw this.createError(error, entry, target);
    }
  }

  async symlink(entry: AdmittedEntry, linkTarget: string): Promise<void> {
    await this.prepare(entry);
    const target = this.resolve(entry.path);
    try {
      await fs.symlink(linkTarget, target);
    } catch (error) {
      throw this.createError(error, entry, target);
    }
  }

  /** Hard-links to a file written earlier; copies it where the file system has no hard links. */
  async hardlink(entry: AdmittedEntry, existingPath: string): Promise<void> {
    await this.prepare(entry);
    const target = this.resolve(entry.path);
    const existing = this.resolve(existingPath);
    try {
      await fs.link(existing, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw this.createError(error, entry, target);
      try {
        await fs.copyFile(existing, target, constants.COPYFILE_EXCL);
      } catch (copyError) {
        throw this.createError(copyError, entry, target);
      }
    }
  }

  private async ensureDir(relative: string, name: string): Promise<void> {
    if (this.knownDirs.has(relative)) return;
    const parent = path.posix.dirname(relative);
    await this.ensureDir(parent === '.' ? '' : parent, name);
    const dir = this.resolve(relative);
    try {
      await fs.mkdir(dir, { mode: 0o755 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENAMETOOLONG') throw nameTooLong(name, relative);
      if (code !== 'EEXIST') throw fsError(error, 'create directory', dir);
      const stat = await fs.lstat(dir).catch((statError: unknown) => {
        throw fsError(statError, 'inspect', dir);
      });
      if (!stat.isDirectory()) throw notADirectory(name, relative);
    }
    this.knownDirs.add(relative);
  }

  private createError(error: unknown, entry: AdmittedEntry, target: string): Error {
    return createFailure(error, entry, target);
  }

  private resolve(relative: string): string {
    return path.join(this.root, ...relative.split('/'));
  }
}

/** What a failed create of an admitted entry means: a clash or a link in the way is the archive's fault. */
export function createFailure(error: unknown, entry: AdmittedEntry, target: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') return unsafeEntry(entry.name, `"${entry.path}" already exists (a duplicate, or a clash of letter case)`);
  if (code === 'ELOOP' || code === 'ENOTDIR') return unsafeEntry(entry.name, `"${entry.path}" would be written through a link or a file`);
  if (code === 'ENAMETOOLONG') return unsafeEntry(entry.name, `"${entry.path}" is longer than the file system allows`);
  return fsError(error, 'write', target);
}

/** A directory name the file system refuses as too long is the archive's fault. */
export function nameTooLong(name: string, relative: string): Error {
  return unsafeEntry(name, `"${relative}" is longer than the file system allows`);
}

/** An existing path that is not a real directory cannot be a parent: refused, never followed. */
export function notADirectory(name: string, relative: string): Error {
  return unsafeEntry(name, `"${relative}" already exists and is not a directory`);
}
