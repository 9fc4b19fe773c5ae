import { QmError } from './errors';
import type { ByteTee, FileDownloadRequest, FileDownloadResult } from './fetch/types';
import { RateMeter } from './fetch/rate-meter';
import { SingleFlight, type FlightContext } from './flight/single-flight';
import { Semaphore } from './flight/semaphore';
import { HomeLayout } from './home';
import { silentLogger, type Logger } from './log';
import { BlobStore, normalizeSha256, type StoredBlob } from './store/blobs';
import { blobLockKey } from './store/lock-keys';
import { LockManager, type LockOwner } from './store/locks';
import { recoverHome, type RecoveryReport } from './store/recovery';
import { removeTemp } from './store/temp-files';

/** What the manager needs from a downloader; `Downloader` is the real one. */
export interface FileFetcher {
  downloadToFile(request: FileDownloadRequest): Promise<FileDownloadResult>;
}

export type DownloadState = 'queued' | 'waiting' | 'downloading' | 'verifying' | 'done';

export interface DownloadProgress {
  sha256: string;
  url: string;
  state: DownloadState;
  received: number;
  total: number | undefined;
  bytesPerSecond: number;
  /** While `state` is 'waiting': the process that holds the blob's lock, when known. */
  waitingFor?: LockOwner;
}

export interface BlobRequest {
  url: string;
  sha256: string;
  /** Declared size; checked before anything is published. */
  size?: number;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * Fed the body as it downloads, when this request is the one that downloads it (not when it
   * joins another caller's download or the blob is already stored).
   */
  tee?: ByteTee;
}

export interface FetchedBlob extends StoredBlob {
  /** False when the blob was already in the store or another process fetched it. */
  downloaded: boolean;
}

export interface DownloadManagerOptions {
  home: string;
  fetcher: FileFetcher;
  /** Transfers running at once in this process. Default 4. */
  maxConcurrent?: number;
  /** The home's locks (CoreServices owns them); default: a LockManager of its own over QM_HOME/locks. */
  locks?: LockManager;
  logger?: Logger;
}

/** A corrupt body may be a passing fault (a proxy, a flaky mirror): fetch once more, then fail. */
const INTEGRITY_ATTEMPTS = 2;

/**
 * Fetches blobs into the store so that any number of callers, in this process and in others
 * sharing QM_HOME, download each digest once: single-flight in process, a lock per blob across
 * processes, and an atomic, verified publish that makes any remaining race harmless.
 */
export class DownloadManager {
  readonly layout: HomeLayout;
  readonly store: BlobStore;
  readonly locks: LockManager;
  private readonly fetcher: FileFetcher;
  private readonly slots: Semaphore;
  private readonly flights = new SingleFlight<string, FetchedBlob, DownloadProgress>();
  private readonly logger: Logger;
  private recovery: Promise<RecoveryReport> | undefined;

  constructor(options: DownloadManagerOptions) {
    this.layout = new HomeLayout(options.home);
    this.store = new BlobStore(this.layout);
    this.logger = options.logger ?? silentLogger;
    this.locks = options.locks ?? new LockManager(this.layout.locksDir, { logger: this.logger });
    this.fetcher = options.fetcher;
    this.slots = new Semaphore(options.maxConcurrent ?? 4);
  }

  /** Cleans leftovers of dead processes; runs once per manager, before the first fetch. */
  recover(): Promise<RecoveryReport> {
    this.recovery ??= recoverHome(this.layout, this.locks).then((report) => {
      if (report.tempsRemoved.length > 0 || report.locksRemoved > 0) {
        this.logger.info(`Recovered QM_HOME: removed ${report.tempsRemoved.length} orphaned temp file(s) and ${report.locksRemoved} stale lock(s).`);
      }
      return report;
    });
    return this.recovery;
  }

  /** Transfers running now and waiting for a slot in this process. */
  get activity(): { running: number; queued: number; flights: number } {
    return { running: this.slots.running, queued: this.slots.waiting, flights: this.flights.size };
  }

  fetchBlob(request: BlobRequest): Promise<FetchedBlob> {
    let sha256: string;
    try {
      sha256 = normalizeSha256(request.sha256);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.flights.run(sha256, (context) => this.fetchShared(sha256, request, context), {
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
  }

  private async fetchShared(sha256: string, request: BlobRequest, context: FlightContext<DownloadProgress>): Promise<FetchedBlob> {
    const { url, size } = request;
    const { signal } = context;
    const report = (state: DownloadState, extra: Partial<DownloadProgress> = {}): void =>
      context.emit({ sha256, url, state, received: 0, total: size, bytesPerSecond: 0, ...extra });

    await this.recover();
    const present = await this.store.find(sha256, size);
    if (present) return this.done(present, false, report);

    report('queued');
    const acquired = await this.locks.acquire(blobLockKey(sha256), {
      purpose: `download ${url}`,
      signal,
      onWait: (owner) => report('waiting', owner ? { waitingFor: owner } : {}),
      check: () => this.store.find(sha256, size),
    });
    if (acquired.done) return this.done(acquired.done, false, report);

    const { lock } = acquired;
    try {
      const blob = await this.slots.use(() => this.downloadVerified(sha256, request, context), signal);
      return this.done(blob, true, report);
    } finally {
      await lock.release();
    }
  }

  private async downloadVerified(sha256: string, request: BlobRequest, context: FlightContext<DownloadProgress>): Promise<StoredBlob> {
    const { url, size } = request;
    for (let attempt = 1; ; attempt++) {
      const temp = await this.store.tempPath();
      const meter = new RateMeter();
      // A second attempt starts from byte zero: whatever the tee has seen is void.
      if (attempt > 1) await request.tee?.restart();
      try {
        const result = await this.fetcher.downloadToFile({
          url,
          dest: temp,
          signal: context.signal,
          ...(request.tee ? { tee: request.tee } : {}),
          ...(size !== undefined ? { expectedSize: size } : {}),
          onProgress: ({ received, total }) =>
            context.emit({ sha256, url, state: 'downloading', received, total, bytesPerSecond: meter.update(received) }),
        });
        context.emit({ sha256, url, state: 'verifying', received: result.size, total: result.size, bytesPerSecond: 0 });
        if (result.sha256 === sha256) return await this.store.publish(temp, sha256);
        const error = new QmError(
          'EINTEGRITY',
          `Checksum mismatch for ${result.url}: expected sha256 ${sha256}, got ${result.sha256}`,
          { expected: sha256, found: result.sha256, url: result.url },
        );
        if (attempt >= INTEGRITY_ATTEMPTS) throw error;
        this.logger.warn(`${error.message}; downloading once more.`);
      } finally {
        await removeTemp(temp);
      }
    }
  }

  private done(blob: StoredBlob, downloaded: boolean, report: (state: DownloadState, extra?: Partial<DownloadProgress>) => void): FetchedBlob {
    report('done', { received: blob.size, total: blob.size });
    return { ...blob, downloaded };
  }
}
