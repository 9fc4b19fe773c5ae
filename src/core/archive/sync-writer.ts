import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsError } from '../errors';
import type { AdmittedEntry } from './entry-guard';
import { dropBytes } from '../io/buffers';
import { CREATE_FLAGS, createFailure, nameTooLong, notADirectory } from './target-writer';

/** A file's bytes are gathered into one writev of about this size: few syscalls, bounded memory. */
const FLUSH_BYTES = 1024 * 1024;

/** The regular file being written: tar entries come one at a time, so there is at most one. */
interface OpenFile {
  fd: number;
  target: string;
  pending: Buffer[];
  pendingBytes: number;
}

/**
 * TargetWriter's rules with synchronous calls, for the extraction worker, where blocking costs
 * nobody anything: each file is open+writev+close (its mode given at create), each directory is
 * made once, parents one level at a time, and nothing is created through a link or over anything.
 */
export class SyncTreeWriter {
  private readonly knownDirs = new Set<string>(['']);
  private file: OpenFile | undefined;

  private constructor(readonly root: string) {}

  static create(targetDir: string): SyncTreeWriter {
    const root = path.resolve(targetDir);
    try {
      fs.mkdirSync(root, { recursive: true });
    } catch (error) {
      throw fsError(error, 'create directory', root);
    }
    return new SyncTreeWriter(root);
  }

  directory(entry: AdmittedEntry): void {
    this.ensureDir(entry.path, entry.name);
  }

  symlink(entry: AdmittedEntry, linkTarget: string): void {
    const target = this.prepare(entry);
    try {
      fs.symlinkSync(linkTarget, target);
    } catch (error) {
      throw createFailure(error, entry, target);
    }
  }

  /** Hard-links to a file written earlier (always complete: files are written one after another). */
  hardlink(entry: AdmittedEntry, existingPath: string): void {
    const target = this.prepare(entry);
    const existing = this.resolve(existingPath);
    try {
      fs.linkSync(existing, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw createFailure(error, entry, target);
      try {
        fs.copyFileSync(existing, target, fs.constants.COPYFILE_EXCL);
      } catch (copyError) {
        throw createFailure(copyError, entry, target);
      }
    }
  }

  /** Creates a regular file; its data follows through `write`, then `finish`. */
  open(entry: AdmittedEntry): void {
    const target = this.prepare(entry);
    try {
      this.file = { fd: fs.openSync(target, CREATE_FLAGS, entry.mode), target, pending: [], pendingBytes: 0 };
    } catch (error) {
      throw createFailure(error, entry, target);
    }
  }

  /** Keeps `chunk` (not copied: the caller must not reuse it) until about a megabyte is gathered. */
  write(chunk: Buffer): void {
    const file = this.file!;
    file.pending.push(chunk);
    file.pendingBytes += chunk.length;
    if (file.pendingBytes >= FLUSH_BYTES) this.flush(file);
  }

  finish(): void {
    const file = this.file!;
    this.flush(file);
    this.file = undefined;
    try {
      fs.closeSync(file.fd);
    } catch (error) {
      throw fsError(error, 'close', file.target);
    }
  }

  /** Closes the file being written, if any, without writing the rest (the extraction failed). */
  abandon(): void {
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) fs.closeSync(file.fd);
  }

  private flush(file: OpenFile): void {
    let buffers = file.pending;
    let remaining = file.pendingBytes;
    file.pending = [];
    file.pendingBytes = 0;
    try {
      while (remaining > 0) {
        const written = buffers.length === 1 ? fs.writeSync(file.fd, buffers[0]!) : fs.writevSync(file.fd, buffers);
        remaining -= written;
        if (remaining > 0) buffers = dropBytes(buffers, written);
      }
    } catch (error) {
      throw fsError(error, 'write', file.target);
    }
  }

  /** The entry's absolute path, its parent directories made. */
  private prepare(entry: AdmittedEntry): string {
    const slash = entry.path.lastIndexOf('/');
    this.ensureDir(slash < 0 ? '' : entry.path.slice(0, slash), entry.name);
    return this.resolve(entry.path);
  }

  private ensureDir(relative: string, name: string): void {
    if (this.knownDirs.has(relative)) return;
    const slash = relative.lastIndexOf('/');
    this.ensureDir(slash < 0 ? '' : relative.slice(0, slash), name);
    const dir = this.resolve(relative);
    try {
      fs.mkdirSync(dir, 0o755);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENAMETOOLONG') throw nameTooLong(name, relative);
      if (code !== 'EEXIST') throw fsError(error, 'create directory', dir);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(dir);
      } catch (statError) {
        throw fsError(statError, 'inspect', dir);
      }
      if (!stat.isDirectory()) throw notADirectory(name, relative);
    }
    this.knownDirs.add(relative);
  }

  /** `relative` is normalised already (EntryGuard): no `.`, `..` or empty segments to resolve. */
  private resolve(relative: string): string {
    return relative === '' ? this.root : `${this.root}${path.sep}${relative}`;
  }
}
