import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { finished, type Readable } from 'node:stream';
import { fsError } from '../errors';
import { dropBytes } from '../io/buffers';
import type { ByteTee } from './types';

/** A body's bytes are gathered into one writev of about this size: a thread-pool round trip per megabyte, not per socket read. */
const FLUSH_BYTES = 1024 * 1024;

/** Where a transfer's body bytes go. `restart` forgets everything received so far. */
export interface ByteSink {
  readonly received: number;
  /**
   * Takes `chunk` (kept, not copied: the caller must not reuse it). Returns a promise when the
   * caller must wait for it before writing more (the backpressure), undefined when it may go on.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  restart(): Promise<void>;
}

/**
 * Feeds every chunk of `body` to `sink` as it arrives ('data' events: no chunks joined into one,
 * as an async iterator's read() does), `accept` first (it may throw to refuse a chunk). While the
 * sink asks to wait, the body is paused, so undici stops reading the socket and memory stays
 * bounded. Settles once the body has ended or failed and no write is in flight any more: a
 * caller that restarts or closes the sink afterwards never races a write.
 */
export function pumpBody(body: Readable, sink: ByteSink, accept: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let writing = 0;
    let outcome: { error?: unknown } | undefined;
    const settle = (): void => {
      if (outcome === undefined || writing > 0) return;
      stopWatching();
      body.off('data', onData);
      if ('error' in outcome) reject(outcome.error);
      else resolve();
    };
    const fail = (error: unknown): void => {
      outcome ??= { error };
      body.pause();
      settle();
    };
    const onData = (chunk: Buffer): void => {
      if (outcome !== undefined) return;
      let wait: Promise<void> | undefined;
      try {
        accept(chunk);
        wait = sink.write(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (wait === undefined) return;
      body.pause();
      writing++;
      wait.then(
        () => {
          writing--;
          if (outcome !== undefined) settle();
          else if (writing === 0) body.resume();
        },
        (error: unknown) => {
          writing--;
          fail(error);
        },
      );
    };
    // An error, or a close before the end (ERR_STREAM_PREMATURE_CLOSE), as `for await` would throw.
    const stopWatching = finished(body, (error) => {
      if (error) {
        fail(error);
      } else {
        outcome ??= {};
        settle();
      }
    });
    body.on('data', onData);
  });
}

/**
 * Writes a body into one file through one FileHandle, feeding a SHA-256 as it goes, so no
 * second pass over the file is needed. A resume keeps appending to the same hash; a restart
 * truncates and starts a new one. Chunks are gathered and written a megabyte at a time; the
 * caller waits for each such write, which is the backpressure.
 */
export class FileSink implements ByteSink {
  private hash: Hash = createHash('sha256');
  /** Bytes taken, written or not. */
  private accepted = 0;
  /** Where the next gathered bytes go in the file. */
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
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
    return this.accepted;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    // A failed write ends the download (fsError is never retried), so the hash never outlives a gap in the file.
    this.hash.update(chunk);
    this.accepted += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    return this.pendingBytes >= FLUSH_BYTES ? this.flush() : undefined;
  }

  /** Writes what is gathered at the place reserved for it now, so writes never overlap. */
  private async flush(): Promise<void> {
    let buffers = this.pending;
    let remaining = this.pendingBytes;
    let position = this.position;
    this.pending = [];
    this.pendingBytes = 0;
    this.position += remaining;
    try {
      while (remaining > 0) {
        const { bytesWritten } = await this.handle.writev(buffers, position);
        position += bytesWritten;
        remaining -= bytesWritten;
        if (remaining > 0) buffers = dropBytes(buffers, bytesWritten);
      }
    } catch (error) {
      throw fsError(error, 'write', this.path);
    }
  }

  async restart(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    try {
      await this.handle.truncate(0);
    } catch (error) {
      throw fsError(error, 'truncate', this.path);
    }
    this.hash = createHash('sha256');
    this.accepted = 0;
    this.position = 0;
  }

  /** Writes the rest, fsyncs, then returns the digest of exactly the bytes in the file. */
  async finish(): Promise<string> {
    await this.flush();
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

  write(chunk: Buffer): undefined {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return undefined;
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

  write(chunk: Buffer): Promise<void> | undefined {
    const file = this.file.write(chunk);
    const tee = this.tee.write(chunk);
    return file && tee ? bothSettled(file, tee) : (file ?? tee);
  }

  async restart(): Promise<void> {
    await Promise.all([this.file.restart(), this.tee.restart()]);
  }
}

/** Waits for both, so that nothing is still writing when the first failure is reported. */
async function bothSettled(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
}
