import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { fsError } from '../errors';
import type { ByteTee } from './types';

/** Where a transfer's body bytes go. `restart` forgets everything received so far. */
export interface ByteSink {
  readonly received: number;
  write(chunk: Buffer): Promise<void>;
  restart(): Promise<void>;
}

/**
 * Writes a body into one file through one FileHandle, feeding a SHA-256 as it goes, so no
 * second pass over the file is needed. A resume keeps appending to the same hash; a restart
 * truncates and starts a new one. Each write is awaited, which is the backpressure: undici
 * stops reading the socket while we wait on the disk, so memory stays bounded.
 */
export class FileSink implements ByteSink {
  private hash: Hash = createHash('sha256');
  private position = 0;
  private closed = false;

  private constructor(
    private readonly handle: fs.FileHandle,
    readonly path: string,
  ) {}

  /** Creates or truncates `path`. */
  static async open(path: string): Promise<FileSink> {
    try {
      return new FileSink(await fs.open(path, 'w'), path);
    } catch (error) {
      throw fsError(error, 'create', path);
    }
  }

  get received(): number {
    return this.position;
  }

  async write(chunk: Buffer): Promise<void> {
    const written = this.writeAt(chunk, this.position);
    // Hash on this thread while the write runs on the thread pool. A failed write ends the
    // download (fsError is never retried), so the hash never outlives a gap in the file.
    this.hash.update(chunk);
    await written;
    this.position += chunk.length;
  }

  private async writeAt(chunk: Buffer, position: number): Promise<void> {
    try {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, position + offset);
        offset += bytesWritten;
      }
    } catch (error) {
      throw fsError(error, 'write', this.path);
    }
  }

  async restart(): Promise<void> {
    try {
      await this.handle.truncate(0);
    } catch (error) {
      throw fsError(error, 'truncate', this.path);
    }
    this.hash = createHash('sha256');
    this.position = 0;
  }

  /** fsync, then the digest of exactly the bytes in the file. */
  async finish(): Promise<string> {
    try {
      await this.handle.sync();
    } catch (error) {
      throw fsError(error, 'sync', this.path);
    }
    return this.hash.digest('hex');
  }

  /**
   * Closes the descriptor; safe to call twice. Callers close in `finally`: a descriptor left open
   * on a file that is later executed makes exec fail with ETXTBSY.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.handle.close();
    } catch (error) {
      throw fsError(error, 'close', this.path);
    }
  }
}

/** Collects a small body in memory. The transfer enforces its size limit before each write. */
export class BufferSink implements ByteSink {
  private chunks: Buffer[] = [];
  private length = 0;

  get received(): number {
    return this.length;
  }

  write(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return Promise.resolve();
  }

  restart(): Promise<void> {
    this.chunks = [];
    this.length = 0;
    return Promise.resolve();
  }

  body(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** Feeds a tee alongside the file, in step: the slower of the two sets the pace. */
export class TeeSink implements ByteSink {
  constructor(private readonly file: FileSink, private readonly tee: ByteTee) {}

  get received(): number {
    return this.file.received;
  }

  async write(chunk: Buffer): Promise<void> {
    await Promise.all([this.file.write(chunk), this.tee.write(chunk)]);
  }

  async restart(): Promise<void> {
    await Promise.all([this.file.restart(), this.tee.restart()]);
  }
}
