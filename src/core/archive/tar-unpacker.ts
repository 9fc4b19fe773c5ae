import { type Duplex, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { QmError } from '../errors';
import { type AdmittedEntry, EntryGuard, type EntryHeader } from './entry-guard';
import { RawGunzip } from './raw-gunzip';
import { SyncTreeWriter } from './sync-writer';
import { TarParser, type TarEntrySink } from './tar-parser';
import type { ExtractResult } from './types';
import type { UnpackJob } from './worker-protocol';
import { createXzDecoder } from './xz-decoder';

/** GNU tar pads archives to 10 KiB records; far more than that after the end marker is not padding. */
const MAX_TRAILING_BYTES = 1024 * 1024;
/** zlib hands out this much per callback: fewer round trips from the thread pool. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;
const SINK_HIGH_WATER_MARK = 4 * 1024 * 1024;

/**
 * The extraction worker's work: compressed bytes in, a checked tree out. gzip is inflated by
 * zlib on the thread pool and xz by the system `xz` (or WebAssembly), while this thread parses
 * and writes with synchronous calls; so decompressing and writing overlap, and the main thread
 * only downloads and hashes. Every entry passes EntryGuard before anything is written for it.
 */
export class TarUnpacker {
  /** Settles once the decoder and every file are closed: with the result, or the first failure. */
  readonly finished: Promise<ExtractResult>;

  private constructor(
    private readonly decoder: Duplex,
    sink: TarSink,
    kind: UnpackJob['kind'],
  ) {
    this.finished = pipeline(decoder, sink).then(
      () => sink.result(),
      async (error: unknown) => {
        // pipeline rejects as soon as it starts destroying; wait until files and processes are closed.
        await Promise.all([decoder, sink].filter((s) => !s.closed).map((s) => new Promise((resolve) => s.once('close', resolve))));
        throw decoderFailure(error, kind);
      },
    );
  }

  static async start(job: UnpackJob): Promise<TarUnpacker> {
    const guard = new EntryGuard(job.limits, job.stripComponents);
    const writer = SyncTreeWriter.create(job.targetDir);
    const decoder =
      job.kind === 'tar.xz' ? await createXzDecoder(job.xzCommand) : job.digestChecked ? new RawGunzip(GUNZIP_CHUNK_BYTES) : createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    return new TarUnpacker(decoder, new TarSink(guard, writer), job.kind);
  }

  /** Feeds compressed bytes; `consumed` runs once the decoder has taken them (the sender's credit). */
  write(chunk: Buffer, consumed: () => void): void {
    this.decoder.write(chunk, () => consumed());
  }

  end(): void {
    this.decoder.end();
  }

  /** Stops at the next chunk; `finished` then rejects with `reason` once everything is closed. */
  stop(reason: Error): void {
    this.decoder.destroy(reason);
  }
}

/** zlib says Z_DATA_ERROR, Z_BUF_ERROR (truncated), ...: that is about the archive's bytes; anything else is passed on. */
function decoderFailure(error: unknown, kind: UnpackJob['kind']): unknown {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (!code.startsWith('Z_') && code !== 'ERR_STREAM_PREMATURE_CLOSE') return error;
  return new QmError('EARCHIVE', `The ${kind} archive is corrupt or truncated: ${(error as Error).message}`, { cause: error });
}

/**
 * Parses the tar stream (TarParser) and writes each entry as the parser announces it. Each
 * decompressed chunk is handled on the next turn of the event loop, so zlib can already inflate
 * the one after it.
 */
class TarSink extends Writable implements TarEntrySink {
  private readonly parser = new TarParser(this);
  private current: AdmittedEntry | undefined;
  private trailingBytes = 0;

  constructor(
    private readonly guard: EntryGuard,
    private readonly writer: SyncTreeWriter,
  ) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK });
  }

  result(): ExtractResult {
    return this.guard.result();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    setImmediate(() => callback(this.attempt(() => this.parse(chunk))));
  }

  override _final(callback: (error?: Error | null) => void): void {
    setImmediate(() =>
      callback(
        this.attempt(() => {
          this.parser.end();
          if (!this.parser.endMarker && !this.parser.ended) throw new QmError('EARCHIVE', 'The tar archive is truncated: it ends without an end-of-archive marker');
        }),
      ),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    try {
      this.writer.abandon();
    } catch {
      // the extraction failed already; the staging directory goes
    }
    callback(error);
  }

  /** An entry's header: checked by the guard before anything is written for it. */
  onEntry(header: EntryHeader): void {
    const entry = this.guard.admit(header);
    this.current = undefined;
    if (entry === undefined) return;
    switch (entry.kind) {
      case 'directory':
        return this.writer.directory(entry);
      case 'symlink':
        // A symlink without a target is refused by the guard, not written as an empty link.
        return this.writer.symlink(entry, entry.linkTarget ?? '');
      case 'hardlink':
        return this.writer.hardlink(entry, entry.linkTarget ?? '');
      case 'file':
        this.writer.open(entry);
        this.current = entry;
    }
  }

  onData(chunk: Buffer): void {
    const current = this.current;
    if (current === undefined) return; // directory, link or skipped entry: nothing to write
    this.guard.countBytes(current, chunk.length);
    this.writer.write(chunk);
  }

  onEntryEnd(): void {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) return;
    this.guard.checkComplete(current);
    this.writer.finish();
  }

  private parse(chunk: Buffer): void {
    const trailing = this.parser.write(chunk);
    if (trailing === 0) return;
    this.trailingBytes += trailing;
    if (this.trailingBytes > MAX_TRAILING_BYTES) throw new QmError('EARCHIVE', `The tar archive has more than ${MAX_TRAILING_BYTES} bytes after its end marker`);
  }

  /** Runs a deferred step unless the sink was destroyed meanwhile: then nothing more is written. */
  private attempt(step: () => void): Error | null {
    if (this.destroyed) return null;
    try {
      step();
      return null;
    } catch (error) {
      return error as Error;
    }
  }
}
