import { watch, type FSWatcher } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as lockfile from 'proper-lockfile';
import { cancelledError, fsError } from '../errors';
import { silentLogger, type Logger } from '../log';
import { writeFileAtomic } from './atomic-write';
import { currentProcess, liveness, type Liveness, type ProcessIdentity } from './process-identity';

/** Who holds a lock, and for what: what a waiting process shows its user. */
export interface LockOwner extends ProcessIdentity {
  purpose: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface LockOptions {
  /**
   * A lock whose directory mtime has not been refreshed for this long is taken over. It bounds
   * how long a SIGKILLed holder on another host can block others. Default 10 s.
   */
  staleMs?: number;
  /** How often a holder refreshes its lock. proper-lockfile needs 1 000 <= update <= stale / 2. */
  updateMs?: number;
  logger?: Logger;
}

export interface HeldLock {
  readonly key: string;
  /** True once proper-lockfile saw our lock taken over (e.g. the event loop was blocked past `staleMs`). */
  readonly compromised: boolean;
  release(): Promise<void>;
}

export interface LockStatus {
  key: string;
  owner: LockOwner | undefined;
  ageMs: number;
  liveness: Liveness;
}

export interface AcquireOptions<T> {
  purpose: string;
  signal?: AbortSignal;
  /** Called when we start waiting, and again whenever the holder changes. */
  onWait?: (owner: LockOwner | undefined) => void;
  /**
   * Whether the work the lock guards is already done. Checked before every attempt and once more
   * right after the lock is taken (the holder we waited for may have just finished): a result
   * means no lock is needed, and any lock taken is released before returning it.
   */
  check?: () => Promise<T | undefined>;
}

export type AcquireResult<T> = { lock: HeldLock; done?: undefined } | { lock?: undefined; done: T };

/** Resolves waits early when a watched name in a directory changes; a plain timer otherwise. */
class ChangeSignal {
  private watcher: FSWatcher | undefined;
  private pending: (() => void) | undefined;
  private changed = false;

  constructor(dir: string, name: string) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        this.changed = true;
        this.pending?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined; // No watching here: polling alone.
    }
  }

  /** Waits up to `ms`, or until the watched name changes (a change since the last wait counts). */
  async next(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return;
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.pending = () => controller.abort('changed');
    try {
      await delay(ms, undefined, { signal: controller.signal });
    } catch (error) {
      if (signal?.aborted) throw error;
    } finally {
      this.pending = undefined;
      this.changed = false;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/** proper-lockfile's floor for `stale`; used once the holder is known to be dead. */
const MIN_STALE_MS = 2_000;
const MAX_POLL_MS = 500;

/**
 * Cross-process mutual exclusion per key, with proper-lockfile (mkdir locks, refreshed mtime).
 * The lock only decides who does the work; correctness comes from atomic publishing, so a
 * compromised lock is logged and the holder carries on rather than crashing the process.
 */
export class LockManager {
  private readonly staleMs: number;
  private readonly updateMs: number;
  private readonly logger: Logger;

  constructor(private readonly dir: string, options: LockOptions = {}) {
    this.staleMs = Math.max(options.staleMs ?? 10_000, MIN_STALE_MS);
    this.updateMs = Math.min(Math.max(options.updateMs ?? 1_000, 1_000), this.staleMs / 2);
    this.logger = options.logger ?? silentLogger;
  }

  /** Takes the lock, or waits for it (polling with backoff) until it is free or `check` yields. */
  async acquire<T>(key: string, options: AcquireOptions<T>): Promise<AcquireResult<T>> {
    await this.ensureDir();
    // A release removes the lock directory: wake at once rather than at the next poll. Polling
    // stays as the fallback where no change events arrive (network filesystems).
    const wake = new ChangeSignal(this.dir, `${key}.lock`);
    try {
      return await this.acquireLoop(key, options, wake);
    } finally {
      wake.close();
    }
  }

  private async acquireLoop<T>(key: string, options: AcquireOptions<T>, wake: ChangeSignal): Promise<AcquireResult<T>> {
    let pollMs = 25;
    let lastOwner: string | undefined;
    for (;;) {
      if (options.signal?.aborted) throw cancelledError(options.signal, `Waiting for lock ${key}`);
      const before = await options.check?.();
      if (before !== undefined) return { done: before };
      const lock = await this.tryAcquire(key, options.purpose);
      if (lock) return this.checkAgain(lock, options);
      const owner = await this.owner(key);
      const ownerId = owner ? `${owner.host}:${owner.pid}:${owner.since}` : 'unknown';
      if (ownerId !== lastOwner) {
        lastOwner = ownerId;
        options.onWait?.(owner);
      }
      try {
        await wake.next(pollMs * (0.5 + Math.random()), options.signal);
      } catch {
        throw cancelledError(options.signal, `Waiting for lock ${key}`);
      }
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
  }

  /** Check again after taking the lock: whoever held it may have done the work (volta #684). */
  private async checkAgain<T>(lock: HeldLock, options: AcquireOptions<T>): Promise<AcquireResult<T>> {
    let after: T | undefined;
    try {
      after = await options.check?.();
    } catch (error) {
      await lock.release();
      throw error;
    }
    if (after === undefined) return { lock };
    await lock.release();
    return { done: after };
  }

  /** One attempt; undefined when another live process holds the lock. */
  async tryAcquire(key: string, purpose: string): Promise<HeldLock | undefined> {
    const target = this.targetFor(key);
    await this.ensureDir();
    const previous = await this.owner(key);
    // A holder we know is dead cannot refresh its lock: take over after the minimum staleness
    // instead of the full timeout. A live new holder's fresh mtime still protects it.
    const stale = previous && liveness(previous) === 'dead' ? MIN_STALE_MS : this.staleMs;
    let compromised = false;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        stale,
        update: this.updateMs,
        retries: 0,
        onCompromised: (error) => {
          compromised = true;
          this.logger.warn(`Lock ${key} was taken over while held (${error.message}); continuing, publishing stays atomic.`);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
      throw fsError(error, 'lock', target);
    }
    const owner: LockOwner = { ...currentProcess(), purpose, since: new Date().toISOString() };
    await this.writeOwner(key, owner);
    const ownerFile = this.ownerFileFor(key);
    return {
      key,
      get compromised() {
        return compromised;
      },
      release: async () => {
        // Remove our owner record before unlocking, so it can never delete the next holder's.
        await fs.rm(ownerFile, { force: true });
        try {
          await release();
        } catch (error) {
          if (!compromised) throw fsError(error, 'unlock', target);
        }
      },
    };
  }

  async owner(key: string): Promise<LockOwner | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.ownerFileFor(key), 'utf8')) as LockOwner;
    } catch {
      return undefined;
    }
  }

  /** Every lock directory under the locks dir, with its holder. */
  async list(): Promise<LockStatus[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    const result: LockStatus[] = [];
    for (const name of names.filter((n) => n.endsWith('.lock'))) {
      const key = name.slice(0, -'.lock'.length);
      try {
        const stat = await fs.stat(path.join(this.dir, name));
        const owner = await this.owner(key);
        result.push({ key, owner, ageMs: Date.now() - stat.mtimeMs, liveness: owner ? liveness(owner) : 'unknown' });
      } catch {
        // Released while we looked.
      }
    }
    return result;
  }

  /**
   * Startup recovery: locks whose holder is dead are broken through proper-lockfile's own stale
   * check (so a live holder's fresh lock is never removed), and owner records without a lock go.
   */
  async removeDead(): Promise<number> {
    let removed = 0;
    for (const status of await this.list()) {
      if (status.liveness !== 'dead' && status.ageMs <= this.staleMs) continue;
      const lock = await this.tryAcquire(status.key, 'recovery');
      if (!lock) continue;
      await lock.release();
      removed++;
    }
    let names: string[] = [];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return removed;
    }
    for (const name of names.filter((n) => n.endsWith('.owner.json'))) {
      const key = name.slice(0, -'.owner.json'.length);
      const owner = await this.owner(key);
      if (owner && liveness(owner) === 'dead' && !names.includes(`${key}.lock`)) {
        await fs.rm(path.join(this.dir, name), { force: true });
      }
    }
    return removed;
  }

  private targetFor(key: string): string {
    return path.join(this.dir, key);
  }

  private ownerFileFor(key: string): string {
    return path.join(this.dir, `${key}.owner.json`);
  }

  private async ensureDir(): Promise<void> {
    try {
      await fs.mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw fsError(error, 'create directory', this.dir);
    }
  }

  private async writeOwner(key: string, owner: LockOwner): Promise<void> {
    // Only meaningful while its writer lives: no fsync on the hot path.
    await writeFileAtomic(this.ownerFileFor(key), JSON.stringify(owner), { durable: false, action: 'write lock owner' });
  }
}
