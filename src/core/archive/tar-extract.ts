import { type Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { QmError, cancelledError } from '../errors';
import { type AdmittedEntry, EntryGuard, type EntryHeader, type EntryKind, unsafeEntry } from './entry-guard';
import { TargetWriter } from './target-writer';
import { type ExtractOptions, type ExtractResult, resolveLimits } from './types';
import { type PooledFile, WritePool } from './write-pool';
import { createXzDecoder } from './xz-decoder';

/** GNU tar pads archives to 10 KiB records; far more than that after the end marker is not padding. */
const MAX_TRAILING_BYTES = 1024 * 1024;
const SINK_HIGH_WATER_MARK = 4 * 1024 * 1024;

const KINDS: Partial<Record<ReadEntry['type'], EntryKind>> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
};

/**
 * Extracts a tar.gz or tar.xz stream into targetDir as the bytes arrive, so extraction can
 * overlap a download. Every entry passes EntryGuard before anything is written for it; any
 * unsafe or malformed entry rejects with EARCHIVE. Errors from `input` itself are rethrown as-is.
 */
export async function extractTarStream(
  input: NodeJS.ReadableStream | Readable,
  kind: 'tar.gz' | 'tar.xz',
  targetDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const { signal } = options;
  const what = 'Extracting the archive';
  const source = input instanceof Readable ? input : new Readable().wrap(input);
  let sourceError: unknown;
  source.once('error', (error) => (sourceError = error));
  let guard: EntryGuard;
  let writer: TargetWriter;
  let decoder: Duplex;
  try {
    if (signal?.aborted) throw cancelledError(signal, what);
    guard = new EntryGuard(resolveLimits(options.limits), options.stripComponents ?? 0);
    writer = await TargetWriter.create(targetDir);
    decoder = kind === 'tar.gz' ? createGunzip({ chunkSize: 64 * 1024 }) : await createXzDecoder(options.xzCommand);
  } catch (error) {
    source.destroy(); // nobody will read it now; release its descriptor
    throw error;
  }

  const sink = new TarSink(guard, writer, signal);
  try {
    await pipeline(source, decoder, sink, signal ? { signal } : {});
  } catch (error) {
    // pipeline rejects as soon as it starts destroying; wait until files and processes are closed.
    const open = [decoder, sink].filter((stream) => !stream.closed);
    await Promise.all(open.map((stream) => new Promise((resolve) => stream.once('close', resolve))));
    if (signal?.aborted) throw cancelledError(signal, what);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // zlib says Z_DATA_ERROR, Z_BUF_ERROR (truncated), ...: a verdict on the bytes, also when the
    // pipeline destroyed the source with it (the source then emits that very error).
    if (!code.startsWith('Z_')) {
      if (sourceError !== undefined && error === sourceError) throw error;
      if (code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    }
    throw new QmError('EARCHIVE', `The ${kind} archive is corrupt or truncated: ${(error as Error).message}`, { cause: error });
  }
  return guard.result();
}

/** What one parser.write() produced, replayed in order with the disk work awaited. */
type TarEvent =
  | { type: 'entry'; entry: ReadEntry }
  | { type: 'data'; chunk: Buffer }
  | { type: 'end' }
  | { type: 'ignored'; entry: ReadEntry }
  | { type: 'fail'; message: string };

/**
 * Feeds node-tar's Parser (not Unpack, which silently strips `..` and absolute paths where we want
 * hard errors) and does all writing itself. Each decompressed chunk is parsed synchronously into
 * a list of events (entries flow, so their data arrives at once); the chunk is acknowledged only
 * after every event has been handled on disk, which gives backpressure and bounded memory.
 */
class TarSink extends Writable {
  private readonly parser = new Parser({ strict: true, zstd: false });
  private events: TarEvent[] = [];
  private readonly pool = new WritePool();
  private current: { entry: AdmittedEntry; file?: PooledFile } | undefined;
  private sawEndMarker = false;
  private sawEof = false;
  private trailingBytes = 0;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly guard: EntryGuard,
    private readonly writer: TargetWriter,
    private readonly signal: AbortSignal | undefined,
  ) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK });
    const parser = this.parser;
    parser.on('entry', (entry: ReadEntry) => {
      this.events.push({ type: 'entry', entry });
      entry.on('data', (chunk: Buffer) => this.events.push({ type: 'data', chunk }));
      entry.on('end', () => this.events.push({ type: 'end' }));
    });
    parser.on('ignoredEntry', (entry: ReadEntry) => this.events.push({ type: 'ignored', entry }));
    parser.on('warn', (_code: string, message: string) => this.events.push({ type: 'fail', message }));
    parser.on('error', (error: Error) => this.events.push({ type: 'fail', message: error.message }));
    parser.on('nullBlock', () => (this.sawEndMarker = true));
    parser.on('eof', () => (this.sawEof = true));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.sawEof) {
      this.trailingBytes += chunk.length;
      if (this.trailingBytes > MAX_TRAILING_BYTES) {
        callback(new QmError('EARCHIVE', `The tar archive has more than ${MAX_TRAILING_BYTES} bytes after its end marker`));
      } else {
        callback();
      }
      return;
    }
    this.parser.write(chunk);
    this.settle(callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.parser.end();
    this.settle(callback, async () => {
      if (!this.sawEndMarker) {
        throw new QmError('EARCHIVE', 'The tar archive is truncated: it ends without an end-of-archive marker');
      }
      await this.pool.drain();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error === null && this.writableFinished) {
      callback(null);
      return;
    }
    // Stop the pool at once, let the event being handled finish, then close every file.
    this.pool.stop(error ?? new QmError('ECANCELLED', 'Extraction stopped'));
    void this.work
      .catch(() => undefined)
      .then(() => this.pool.abort())
      .then(() => callback(error));
  }

  /** Handles the events queued so far (then `after`), and only then acknowledges the chunk. */
  private settle(callback: (error?: Error | null) => void, after?: () => Promise<void>): void {
    this.work = this.handleEvents().then(after);
    this.work.then(() => callback(), callback);
  }

  private async handleEvents(): Promise<void> {
    while (this.events.length > 0) {
      if (this.destroyed) return;
      if (this.signal?.aborted) throw cancelledError(this.signal, 'Extracting the archive');
      const batch = this.events;
      this.events = [];
      for (const event of batch) await this.handle(event);
      await this.pool.ready();
    }
  }

  private async handle(event: TarEvent): Promise<void> {
    switch (event.type) {
      case 'entry':
        return this.startEntry(event.entry);
      case 'data': {
        const current = this.current;
        if (current?.file === undefined) return; // directory, link or skipped entry: nothing to write
        this.guard.countBytes(current.entry, event.chunk.length);
        return current.file.write(event.chunk);
      }
      case 'end': {
        const current = this.current;
        this.current = undefined;
        if (current?.file === undefined) return;
        this.guard.checkComplete(current.entry);
        current.file.finish();
        return this.pool.ready(); // bounds the files open at once, even within one chunk
      }
      case 'ignored':
        throw event.entry.meta
          ? new QmError('EARCHIVE', `The tar archive has a ${event.entry.type} header larger than node-tar accepts`)
          : unsafeEntry(event.entry.path, `entry type ${event.entry.type} is not supported`);
      case 'fail':
        throw new QmError('EARCHIVE', `The tar archive is malformed: ${event.message}`);
    }
  }

  private async startEntry(readEntry: ReadEntry): Promise<void> {
    const kind = KINDS[readEntry.type];
    const header: EntryHeader = {
      name: readEntry.path,
      kind: kind ?? { unsupported: readEntry.type },
      size: readEntry.size,
      mode: readEntry.mode,
      // A symlink without a target is refused by the guard, not written as an empty link.
      linkName: kind === 'symlink' ? (readEntry.linkpath ?? '') : readEntry.linkpath,
    };
    const entry = this.guard.admit(header);
    this.current = entry && { entry };
    if (entry === undefined) return;
    switch (entry.kind) {
      case 'directory':
        return this.writer.directory(entry);
      case 'symlink':
        return this.writer.symlink(entry, entry.linkTarget ?? '');
      case 'hardlink':
        await this.pool.written(entry.linkTarget ?? '');
        return this.writer.hardlink(entry, entry.linkTarget ?? '');
      case 'file': {
        await this.writer.prepare(entry);
        const writer = this.writer;
        this.current = { entry, file: this.pool.open(entry.path, () => writer.open(entry)) };
      }
    }
  }
}
