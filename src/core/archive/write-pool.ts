import type { FileSink } from './target-writer';

/** Files closing at once: open, write and close each cost a thread-pool round trip. */
const DEFAULT_MAX_FILES = 16;
/** Bytes handed to the pool but not yet written. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Writes several regular files at once, behind the (serial) walk through the archive. Each file's
 * operations run in order on its own chain; the walk calls `ready()` for backpressure,
 * `written(path)` before hard-linking to a file, and `drain()` or `stop()` + `abort()` at the
 * end. After the first failure every operation is skipped and the next call rethrows it.
 */
export class WritePool {
  /** Files not yet closed successfully, by relative path. */
  private readonly files = new Map<string, PooledFile>();
  private readonly closingFiles = new Set<PooledFile>();
  private pendingBytes = 0;
  private failure: { error: unknown } | undefined;
  private wake: () => void = () => undefined;
  private progress = this.nextProgress();

  constructor(
    private readonly maxFiles = DEFAULT_MAX_FILES,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** Starts a file: `create` opens it; writes and the close queued later follow in order. */
  open(path: string, create: () => Promise<FileSink>): PooledFile {
    const file = new PooledFile(this, path, create);
    this.files.set(path, file);
    return file;
  }

  /** Resolves when there is room for more work; throws the first failure. */
  async ready(): Promise<void> {
    while (this.failure === undefined && (this.closingFiles.size >= this.maxFiles || this.pendingBytes > this.maxBytes)) {
      await this.progress;
    }
    this.throwIfFailed();
  }

  /** Resolves when the file at `path`, if the pool has it, is completely written and closed. */
  async written(path: string): Promise<void> {
    await this.files.get(path)?.done();
    this.throwIfFailed();
  }

  /** Waits for every file; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all([...this.files.values()].map((file) => file.done()));
    this.throwIfFailed();
  }

  /** Turns every pending and future operation into a no-op; later calls throw `error`. */
  stop(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  /** After `stop` or a failure: waits for operations in flight, then closes every file left open. */
  async abort(): Promise<void> {
    this.stop(new Error('write pool aborted'));
    const files = [...this.files.values()];
    await Promise.all(files.map((file) => file.done()));
    await Promise.all(files.map((file) => file.close()));
  }

  get stopped(): boolean {
    return this.failure !== undefined;
  }

  /** For PooledFile: bytes queued (positive) or written (negative). */
  queued(bytes: number): void {
    this.pendingBytes += bytes;
    if (bytes < 0) this.notify();
  }

  /** For PooledFile: a close was queued, or it ended (closed or not). */
  closing(file: PooledFile, queued: boolean): void {
    if (queued) {
      this.closingFiles.add(file);
    } else {
      this.closingFiles.delete(file);
      this.notify();
    }
  }

  /** For PooledFile: closed successfully, nothing left to clean up. */
  closed(file: PooledFile): void {
    if (this.files.get(file.path) === file) this.files.delete(file.path);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  private notify(): void {
    this.wake();
    this.progress = this.nextProgress();
  }

  private nextProgress(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/** One file in a WritePool; its operations run one after another. */
export class PooledFile {
  private sink: FileSink | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: WritePool,
    readonly path: string,
    create: () => Promise<FileSink>,
  ) {
    this.enqueue(async () => {
      this.sink = await create();
    });
  }

  write(chunk: Buffer): void {
    this.pool.queued(chunk.length);
    this.enqueue(() => this.sink!.write(chunk), () => this.pool.queued(-chunk.length));
  }

  /** Flushes and closes the file once its earlier writes are done. */
  finish(): void {
    this.pool.closing(this, true);
    this.enqueue(
      async () => {
        await this.sink!.finish();
        this.pool.closed(this);
      },
      () => this.pool.closing(this, false),
    );
  }

  /** Settles, never rejecting, when every operation queued so far has run or been skipped. */
  done(): Promise<void> {
    return this.tail;
  }

  /** Closes the descriptor if it is still open (failed or cancelled extraction). */
  async close(): Promise<void> {
    await this.sink?.close().catch(() => undefined);
  }

  private enqueue(operation: () => Promise<void>, always?: () => void): void {
    this.tail = this.tail.then(async () => {
      try {
        if (!this.pool.stopped) await operation();
      } catch (error) {
        this.pool.stop(error);
      } finally {
        always?.();
      }
    });
  }
}
