import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError, fsError, isQmError } from '../errors';
import type { BufferDownloadRequest } from '../fetch/types';
import { SingleFlight } from '../flight/single-flight';
import { silentLogger, type Logger } from '../log';
import { writeFileAtomic } from '../store/atomic-write';
import { indexLockKey } from '../store/lock-keys';
import type { LockManager } from '../store/locks';

export interface IndexFetcher {
  downloadBuffer(request: BufferDownloadRequest): Promise<{ body: Buffer; url: string }>;
}

export interface IndexCacheOptions {
  /** Where index documents are kept on disk (QM_HOME/indexes). */
  dir: string;
  fetcher: IndexFetcher;
  /** How long a fetched index counts as fresh. Default one hour. */
  ttlMs?: number;
  /** Never touch the network: serve whatever is on disk, however old. */
  offline?: boolean;
  logger?: Logger;
  now?: () => number;
  /**
   * The home's locks: with them, processes that need the same stale or missing index at once
   * (eight `qm install`s started together) fetch it once, and the others read the copy it left
   * on disk, without ever loading the HTTP stack. Without them, each process fetches its own.
   */
  locks?: LockManager;
}

export interface IndexRequest {
  signal?: AbortSignal;
  /** Fetch even when the cached copy is fresh. */
  refresh?: boolean;
  /**
   * A 404 is an answer to keep, like a document (a signature a mirror does not publish): it is
   * cached for the TTL, and `get` rejects with the same EHTTP 404 without asking again.
   */
  keepNotFound?: boolean;
}

/** What the cache holds for a document that was not published (404) when asked with keepNotFound. */
const NOT_FOUND: unique symbol = Symbol('not found');

interface DiskEntry {
  url: string;
  fetchedAt: number;
  body: string;
  /** The server said 404 (keepNotFound); body is empty. */
  notFound?: true;
  /** Where it was fetched from (a mirror, credentials hidden), when that is not `url`. */
  from?: string;
}

interface MemoryEntry {
  fetchedAt: number;
  value: unknown;
  from: string;
}

/**
 * Version indexes (index.json, SHASUMS256.txt, ...) cached in memory and on disk with a TTL.
 * Concurrent readers of one URL share one fetch (single-flight); the disk copy is replaced by an
 * atomic rename and the parsed value is frozen, so no reader ever sees a half-written index.
 */
export class IndexCache {
  private readonly memory = new Map<string, MemoryEntry>();
  private readonly flights = new SingleFlight<string, unknown>();
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly options: IndexCacheOptions) {
    this.ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** The parsed index: from memory or disk while fresh, else fetched once for all callers. */
  async get<T>(url: string, parse: (body: string) => T, request: IndexRequest = {}): Promise<T> {
    const cached = this.memory.get(url);
    if (cached && !request.refresh && this.isFresh(cached.fetchedAt)) return answer(url, cached) as T;
    // The shared load runs under the flight's signal, aborted only when every caller has given
    // up: one caller cancelling must not fail the others waiting on the same fetch.
    const value = await this.flights.run(
      `${request.refresh ? 'refresh' : 'get'} ${url}`,
      ({ signal }) => this.load(url, parse, { ...request, signal }),
      request.signal ? { signal: request.signal } : {},
    );
    return value as T;
  }

  /**
   * Where the copy of `url` in memory came from: the mirror actually asked (credentials hidden),
   * or `url` itself. Errors about a document's content name this, not the upstream it stands for.
   */
  source(url: string): string {
    return this.memory.get(url)?.from ?? url;
  }

  /** What is in memory now, fresh or not, without any I/O: for answers that must not wait. */
  peek<T>(url: string): T | undefined {
    const value = this.memory.get(url)?.value;
    return value === NOT_FOUND ? undefined : (value as T | undefined);
  }

  private async load<T>(url: string, parse: (body: string) => T, request: IndexRequest): Promise<T> {
    const disk = await this.readDisk(url, parse);
    if (disk && (this.options.offline || (!request.refresh && this.isFresh(disk.fetchedAt)))) {
      return this.remember(url, disk.fetchedAt, disk.value, disk.from);
    }
    if (this.options.offline) {
      throw new QmError('ENETWORK', `Offline, and no copy of ${url} is cached; run once online (or turn offline mode off)`, { url });
    }
    const locks = this.options.locks;
    if (locks === undefined || request.refresh) return this.fetch(url, parse, request, disk);
    // The lock only decides who fetches: the disk copy is replaced by a rename either way.
    const acquired = await locks.acquire(indexLockKey(url), {
      purpose: `fetch ${url}`,
      ...(request.signal ? { signal: request.signal } : {}),
      // Whoever held the lock may have just written a fresh copy: then that is the answer.
      check: async () => {
        const copy = await this.readDisk(url, parse, (fetchedAt) => this.isFresh(fetchedAt));
        return copy && { copy };
      },
    });
    if (acquired.done) return this.remember(url, acquired.done.copy.fetchedAt, acquired.done.copy.value, acquired.done.copy.from);
    try {
      return await this.fetch(url, parse, request, disk);
    } finally {
      await acquired.lock.release();
    }
  }

  /** Fetches, parses and stores `url`; when the fetch fails, a disk copy (however old) is the answer. */
  private async fetch<T>(url: string, parse: (body: string) => T, request: IndexRequest, disk: { fetchedAt: number; value: T; from: string } | undefined): Promise<T> {
    let body: string;
    let fetchedFrom: string;
    try {
      const response = await this.options.fetcher.downloadBuffer({ url, ...(request.signal ? { signal: request.signal } : {}) });
      body = response.body.toString('utf8');
      fetchedFrom = response.url;
    } catch (error) {
      if (request.keepNotFound && isQmError(error, 'EHTTP') && error.details.status === 404) {
        const fetchedAt = this.now();
        await this.writeDisk({ url, fetchedAt, body: '', notFound: true });
        this.memory.set(url, { fetchedAt, value: NOT_FOUND, from: url });
        throw error;
      }
      if (!disk || (error as { code?: string }).code === 'ECANCELLED') throw error;
      this.logger.warn(`Could not refresh ${url} (${(error as Error).message}); using the copy from ${new Date(disk.fetchedAt).toISOString()}.`);
      return this.remember(url, disk.fetchedAt, disk.value, disk.from);
    }
    // Parse before storing: a document that does not parse must not replace a good copy.
    const value = parseFetched(parse, body, url, fetchedFrom);
    const fetchedAt = this.now();
    await this.writeDisk({ url, fetchedAt, body, ...(fetchedFrom !== url ? { from: fetchedFrom } : {}) });
    return this.remember(url, fetchedAt, value, fetchedFrom);
  }

  /** Keeps the value in memory and returns it; a remembered 404 rejects as the server did. */
  private remember<T>(url: string, fetchedAt: number, value: T, from = url): T {
    const entry = { fetchedAt, value: deepFreeze(value), from };
    this.memory.set(url, entry);
    return answer(url, entry) as T;
  }

  private isFresh(fetchedAt: number): boolean {
    return this.now() - fetchedAt < this.ttlMs;
  }

  private fileFor(url: string): string {
    return path.join(this.options.dir, `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.json`);
  }

  /**
   * The disk copy, parsed; undefined when there is none or it no longer parses (written by
   * another version of Quartermaster, say), so that it is fetched again rather than trusted.
   */
  private async readDisk<T>(
    url: string,
    parse: (body: string) => T,
    /** Whether a copy fetched at this time is wanted at all (it is parsed only if so). */
    wanted: (fetchedAt: number) => boolean = () => true,
  ): Promise<{ fetchedAt: number; value: T; from: string } | undefined> {
    try {
      const entry = JSON.parse(await fs.readFile(this.fileFor(url), 'utf8')) as Partial<DiskEntry> | null;
      if (entry?.url !== url || typeof entry.body !== 'string' || typeof entry.fetchedAt !== 'number' || !Number.isFinite(entry.fetchedAt)) return undefined;
      if (!wanted(entry.fetchedAt)) return undefined;
      if (entry.notFound === true) return { fetchedAt: entry.fetchedAt, value: NOT_FOUND as T, from: url };
      return { fetchedAt: entry.fetchedAt, value: parse(entry.body), from: typeof entry.from === 'string' ? entry.from : url };
    } catch {
      return undefined;
    }
  }

  private async writeDisk(entry: DiskEntry): Promise<void> {
    const file = this.fileFor(entry.url);
    try {
      await fs.mkdir(this.options.dir, { recursive: true });
      await writeFileAtomic(file, JSON.stringify(entry), { durable: false, action: 'cache index in' });
    } catch (error) {
      // A cache that cannot be written still served its purpose in memory.
      this.logger.warn(fsError(error, 'cache index in', file).message);
    }
  }
}

/** The value of a memory entry, or the EHTTP 404 it stands for. */
function answer(url: string, entry: MemoryEntry): unknown {
  if (entry.value !== NOT_FOUND) return entry.value;
  throw new QmError('EHTTP', `GET ${url} failed: 404 Not Found (as of ${new Date(entry.fetchedAt).toISOString()}, remembered for the index cache's lifetime)`, { url, status: 404 });
}

/** Parses a fetched document; an EINDEX names the mirror it came from too, when one was used. */
function parseFetched<T>(parse: (body: string) => T, body: string, url: string, fetchedFrom: string): T {
  try {
    return parse(body);
  } catch (error) {
    if (!isQmError(error, 'EINDEX') || fetchedFrom === url) throw error;
    throw new QmError('EINDEX', `${error.message} (fetched from ${fetchedFrom})`, { ...error.details, cause: error });
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
