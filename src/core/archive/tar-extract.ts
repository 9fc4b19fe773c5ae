import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { QmError, cancelledError } from '../errors';
import { EntryGuard } from './entry-guard';
import { type ExtractOptions, type ExtractResult, resolveLimits } from './types';
import { deserializeError, type FromWorker, type ToWorker, type UnpackJob } from './worker-protocol';

/** Compressed bytes handed to the worker and not yet taken by its decoder: the backpressure bound. */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/**
 * While the worker is busy, compressed bytes are gathered into one message of about this size
 * (one copy into a buffer that is moved, not cloned, to the worker): a message, a wake-up and a
 * credit per half megabyte, not per socket read. A worker with nothing left gets them at once.
 */
const BATCH_BYTES = 512 * 1024;

export type TarExtractOptions = Omit<ExtractOptions, 'signal'>;

/**
 * One tar.gz or tar.xz extraction on a worker thread (TarUnpacker), fed compressed bytes as they
 * come: this thread only gathers them and hands them over. Every entry passes EntryGuard before
 * anything is written for it; any unsafe or malformed entry fails it with EARCHIVE.
 */
export class TarExtraction {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(private readonly worker: UnpackWorker) {
    worker.onIdle = () => void this.flush();
  }

  /** Throws EUSAGE for bad options before a thread starts. */
  static start(kind: 'tar.gz' | 'tar.xz', targetDir: string, options: TarExtractOptions = {}): TarExtraction {
    const limits = resolveLimits(options.limits);
    const stripComponents = options.stripComponents ?? 0;
    new EntryGuard(limits, stripComponents); // throws EUSAGE for a bad stripComponents
    const job: UnpackJob = {
      kind,
      targetDir: path.resolve(targetDir),
      limits,
      stripComponents,
      ...(options.xzCommand !== undefined ? { xzCommand: options.xzCommand } : {}),
      ...(options.digestChecked ? { digestChecked: true } : {}),
    };
    return new TarExtraction(UnpackWorker.start(job));
  }

  /** Settles after the worker thread has exited: the result, or its first failure. */
  get outcome(): Promise<ExtractResult> {
    return this.worker.outcome;
  }

  /**
   * Takes compressed bytes (kept until its batch is sent: the caller must not reuse `chunk`).
   * A promise when the worker is behind: wait for it before writing more. It never rejects; once
   * the worker has settled, bytes are dropped and `outcome` says why.
   */
  write(chunk: Buffer): Promise<void> | undefined {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH_BYTES && !this.worker.idle) return undefined;
    return this.flush() ? undefined : this.worker.credit();
  }

  /** Every byte is in: resolves with the result once the worker has written the tree and exited. */
  end(): Promise<ExtractResult> {
    this.flush();
    this.worker.end();
    return this.worker.outcome;
  }

  /** Stops the worker and waits until it has closed everything and exited. */
  stop(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    return this.worker.stop();
  }

  /** Sends what is gathered as one transferred buffer; false when the worker is behind. */
  private flush(): boolean {
    if (this.pendingBytes === 0) return true;
    const batch = Buffer.allocUnsafeSlow(this.pendingBytes); // its own ArrayBuffer, not pooled: transferable
    let offset = 0;
    for (const chunk of this.pending) {
      batch.set(chunk, offset);
      offset += chunk.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    return this.worker.send(batch);
  }
}

/**
 * Extracts a tar.gz or tar.xz stream into targetDir as the bytes arrive, so extraction can
 * overlap a download (TarExtraction). Errors from `input` itself are rethrown as-is. Settles only
 * once the worker has closed every file and process it opened.
 */
export async function extractTarStream(
  input: NodeJS.ReadableStream | Readable,
  kind: 'tar.gz' | 'tar.xz',
  targetDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const { signal, ...rest } = options;
  const what = 'Extracting the archive';
  const source = input instanceof Readable ? input : new Readable().wrap(input);
  let extraction: TarExtraction;
  try {
    if (signal?.aborted) throw cancelledError(signal, what);
    extraction = TarExtraction.start(kind, targetDir, rest);
  } catch (error) {
    source.destroy(); // nobody will read it now; release its descriptor
    throw error;
  }

  // Reading stops at once when the caller cancels or the worker fails.
  const onAbort = (): void => void source.destroy(cancelledError(signal, what));
  signal?.addEventListener('abort', onAbort, { once: true });
  extraction.outcome.catch((error: unknown) => source.destroy(error as Error));
  try {
    await feed(source, extraction);
    return await extraction.end();
  } catch (error) {
    await extraction.stop();
    source.destroy();
    if (signal?.aborted) throw cancelledError(signal, what);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Hands every chunk of `source` to the extraction as it arrives ('data' events: no chunks joined
 * into one, as read() would), pausing while the worker is behind. Rejects with the source's error.
 */
function feed(source: Readable, extraction: TarExtraction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      source.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      const wait = extraction.write(chunk);
      if (wait === undefined) return;
      source.pause();
      void wait.then(() => source.resume());
    };
    const onEnd = (): void => done();
    const onError = (error: Error): void => done(error);
    const onClose = (): void => done(new QmError('EARCHIVE', 'The archive\'s input closed before it ended'));
    source.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}

/**
 * Bundled: out/extract-worker.js, beside the bundle that loads this. From source (tests, under
 * tsx): the .ts beside this file, which a thread can only load with tsx's require hook in it too.
 */
function startWorker(job: UnpackJob): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(path.join(__dirname, 'extract-worker.js'), { workerData: job });
  const source = path.join(__dirname, 'extract-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: job });
}

/** One extraction job on its own worker thread, fed compressed bytes with credit-based backpressure. */
class UnpackWorker {
  /** Settles after the worker thread has exited: the result, or its first failure. */
  readonly outcome: Promise<ExtractResult>;
  /** Called when the worker has taken every byte sent to it. */
  onIdle: () => void = () => undefined;
  private inFlight = 0;
  private settled: { error: unknown } | { result: ExtractResult } | undefined;
  private wake: () => void = () => undefined;

  private constructor(private readonly worker: Worker) {
    this.outcome = new Promise<ExtractResult>((resolve, reject) => {
      const settle = (outcome: { error: unknown } | { result: ExtractResult }): void => {
        if (this.settled !== undefined) return;
        this.settled = outcome;
        this.wake();
        // The worker has closed everything it opened before saying so; now let the thread go.
        void worker.terminate().then(() => ('result' in outcome ? resolve(outcome.result) : reject(outcome.error)));
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'consumed') {
          this.inFlight -= message.bytes;
          this.wake();
          if (this.inFlight === 0) this.onIdle();
        } else if (message.type === 'done') {
          settle({ result: message.result });
        } else {
          settle({ error: deserializeError(message.error) });
        }
      });
      worker.on('error', (error) => settle({ error: new QmError('EIO', `The extraction worker failed: ${error.message}`, { cause: error }) }));
      worker.on('exit', (code) => settle({ error: new QmError('EIO', `The extraction worker exited (${code}) before it finished`) }));
    });
    this.outcome.catch(() => undefined); // observed through write(), stop() or the caller's await
  }

  static start(job: UnpackJob): UnpackWorker {
    return new UnpackWorker(startWorker(job));
  }

  /**
   * Moves `batch` (a buffer of its own, unusable here afterwards) to the worker; false when the
   * worker is behind (wait for `credit()`). Once the worker has settled it is dropped: `outcome` says why.
   */
  send(batch: Buffer): boolean {
    if (this.settled !== undefined) return true;
    const bytes = new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength);
    this.post({ type: 'data', chunk: bytes }, [batch.buffer as ArrayBuffer]);
    this.inFlight += bytes.byteLength;
    return this.inFlight <= MAX_IN_FLIGHT_BYTES;
  }

  /** Whether the worker has taken every byte sent to it. */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  /** Resolves once the worker has caught up, or has settled. */
  async credit(): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT_BYTES && this.settled === undefined) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  end(): void {
    this.post({ type: 'end' });
  }

  /** Asks the worker to stop and waits until it has closed everything and exited. */
  async stop(): Promise<void> {
    if (this.settled === undefined) this.post({ type: 'stop' });
    await this.outcome.catch(() => undefined);
  }

  private post(message: ToWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }
}
