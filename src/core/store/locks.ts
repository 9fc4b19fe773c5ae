import { watch, type FSWatcher } from 'node:fs';
import * as fs from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { cancelledError, fsError } from '../errors';
import { silentLogger, type Logger } from '../log';
import { LockDirectory, newInstance, type LockOwner, type LockState } from './lock-directory';
import { currentProcess, liveness, type Liveness, type ProcessIdentity } from './process-identity';

export type { LockOwner } from './lock-directory';

export interface LockOptions {
  /**
   * A lock whose heartbeat this process has not seen change for this long, by its own clock, is
   * taken over. It bounds how long a holder that stopped (SIGSTOP, a frozen VM, a dead host)
   * blocks others. Default 10 s.
   */
  staleMs?: number;
  /** How often a holder beats. Default 1 s; at most a third of `staleMs`. */
  updateMs?: number;
  /**
   * How long a waiter sleeps between looks at a held lock: from `minPollMs` (default 25 ms),
   * doubling up to `maxPollMs` (default 500 ms), never past a quarter of `staleMs`. A release
   * wakes waiters at once where the file system reports changes (fs.watch on the locks
   * directory); the poll is the fallback where it does not, and how often a waiter looks at the
   * holder's heartbeat.
   */
  minPollMs?: number;
  maxPollMs?: number;
  /** A monotonic clock in milliseconds, for judging staleness; default performance.now. */
  clock?: () => number;
  /** Who this process is, for owner records and liveness checks; default the real process. */
  identity?: ProcessIdentity;
  logger?: Logger;
}

export interface HeldLock {
  readonly key: string;
  /** True once our heartbeat found the lock taken over (we were stopped past `staleMs`). */
  readonly compromised: boolean;
  release(): Promise<void>;
}

export interface LockStatus {
  key: string;
  owner: LockOwner | undefined;
  /** The token's name: it changes with every heartbeat of a live holder. */
  heartbeat: string;
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

const MIN_POLL_MS = 25;
const MAX_POLL_MS = 500;
/** Attempts in one go when the lock changes hands under us (freed, or released but not cleared). */
const ATTEMPTS_PER_TRY = 4;

/** A lock this process holds: it beats until released, and notices a takeover at its next beat. */
class OwnLock implements HeldLock {
  private beat = 0;
  private lost = false;
  private released = false;
  private readonly timer: NodeJS.Timeout;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: LockDirectory,
    private readonly instance: string,
    updateMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => {
      this.work = this.work.then(() => this.tick());
    }, updateMs);
    this.timer.unref();
  }

  get key(): string {
    return this.dir.key;
  }

  get compromised(): boolean {
    return this.lost;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.work;
    if (this.lost) return;
    if (!(await this.dir.release(this.instance, this.beat))) this.noteLost();
  }

  private async tick(): Promise<void> {
    if (this.released || this.lost) return;
    try {
      if (await this.dir.beat(this.instance, this.beat)) this.beat++;
      else this.noteLost();
    } catch (error) {
      // A missed beat is not fatal: waiters only act on a heartbeat that stays unchanged.
      this.logger.debug(`Lock ${this.key}: heartbeat failed (${(error as Error).message})`);
    }
  }

  private noteLost(): void {
    this.lost = true;
    clearInterval(this.timer);
    this.logger.warn(`Lock ${this.key} was taken over while held (this process was stopped past the stale time?); continuing, publishing never replaces finished work.`);
  }
}

/**
 * Cross-process mutual exclusion per key (see LockDirectory for the format). A holder beats by
 * renaming its token; a waiter takes over a lock whose token it has seen unchanged for `staleMs`
 * on its own monotonic clock (never comparing another machine's clock with ours), or at once when
 * the holder is provably dead. The lock only decides who does the work; correctness comes from
 * publishing that never replaces finished work, so a holder that lost its lock carries on.
 */
export class LockManager {
  private readonly staleMs: number;
  private readonly updateMs: number;
  private readonly minPollMs: number;
  private readonly maxPollMs: number;
  private readonly clock: () => number;
  /** Who this manager's locks say holds them, and whose view liveness is judged from. */
  readonly identity: ProcessIdentity;
  private readonly logger: Logger;
  /** The heartbeat last seen per key, and when it was first seen (our clock). */
  private readonly observed = new Map<string, { token: string; since: number }>();
  /** Locks this process took before this manager existed, each waiting for the first acquire of its key. */
  private readonly adopted = new Map<string, HeldLock>();

  constructor(
    private readonly dir: string,
    options: LockOptions = {},
  ) {
    this.staleMs = Math.max(options.staleMs ?? 10_000, 30);
    this.updateMs = Math.max(Math.min(options.updateMs ?? 1_000, this.staleMs / 3), 10);
    this.minPollMs = Math.max(options.minPollMs ?? MIN_POLL_MS, 1);
    this.maxPollMs = Math.max(options.maxPollMs ?? MAX_POLL_MS, this.minPollMs);
    this.clock = options.clock ?? (() => performance.now());
    this.identity = options.identity ?? currentProcess();
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Hands this manager a lock the process already holds (the CLI's small entry takes a
   * toolchain's lock before the rest of the CLI loads): the first `acquire` of its key gets it,
   * checked again like any lock just taken, instead of waiting for itself.
   */
  adopt(lock: HeldLock): void {
    this.adopted.set(lock.key, lock);
  }

  /** Releases the adopted locks no `acquire` has taken, except those of `keep`. */
  async releaseAdopted(keep: ReadonlySet<string> = new Set()): Promise<void> {
    for (const [key, lock] of [...this.adopted]) {
      if (keep.has(key)) continue;
      this.adopted.delete(key);
      await lock.release();
    }
  }

  /** Takes the lock, or waits for it (polling with backoff) until it is free, stale or `check` yields. */
  async acquire<T>(key: string, options: AcquireOptions<T>): Promise<AcquireResult<T>> {
    const adopted = this.adopted.get(key);
    if (adopted !== undefined) {
      this.adopted.delete(key);
      // Taken over while this process was stopped: then it waits like anyone else.
      if (!adopted.compromised) return this.checkAgain(adopted, options);
      await adopted.release();
    }
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
    const dir = new LockDirectory(this.dir, key);
    let pollMs = this.minPollMs;
    let lastHolder: string | undefined;
    let holder: LockState | undefined;
    for (;;) {
      if (options.signal?.aborted) throw cancelledError(options.signal, `Waiting for lock ${key}`);
      const before = await options.check?.();
      if (before !== undefined) return { done: before };
      // While a live holder keeps it, a look (one readdir) is enough: no staging directory per
      // poll, whose creation would also wake every other waiter watching the locks directory.
      const look = holder?.kind === 'held' ? await dir.read() : undefined;
      if (look?.kind === 'held' && !this.isStale(key, look)) {
        holder = look;
      } else {
        const attempt = await this.attempt(key, options.purpose);
        if ('lock' in attempt) return this.checkAgain(attempt.lock, options);
        holder = attempt.holder;
      }
      const holderId = holder.kind === 'held' ? holder.instance : holder.kind;
      if (holderId !== lastHolder) {
        lastHolder = holderId;
        options.onWait?.(holder.kind === 'held' ? holder.owner : undefined);
      }
      try {
        // Never sleep past the moment the holder would turn stale.
        await wake.next(Math.min(pollMs * (0.5 + Math.random()), this.staleMs / 4), options.signal);
      } catch {
        throw cancelledError(options.signal, `Waiting for lock ${key}`);
      }
      pollMs = Math.min(pollMs * 2, this.maxPollMs);
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

  /**
   * One attempt; undefined when another process holds the lock and is neither dead nor stale by
   * what this manager has seen of its heartbeat so far.
   */
  async tryAcquire(key: string, purpose: string): Promise<HeldLock | undefined> {
    await this.ensureDir();
    const attempt = await this.attempt(key, purpose);
    return 'lock' in attempt ? attempt.lock : undefined;
  }

  private async attempt(key: string, purpose: string): Promise<{ lock: HeldLock } | { holder: LockState }> {
    const dir = new LockDirectory(this.dir, key);
    const instance = newInstance();
    const owner = { ...this.identity, instance, purpose, since: new Date().toISOString() };
    let state: LockState = { kind: 'free' };
    for (let i = 0; i < ATTEMPTS_PER_TRY; i++) {
      if (await dir.create(owner)) return { lock: this.hold(dir, instance) };
      state = await dir.read();
      if (state.kind === 'free') continue; // released between the two looks
      if (state.kind === 'released') {
        await dir.clear();
        continue;
      }
      if (!this.isStale(key, state)) return { holder: state };
      const dead = state.owner !== undefined && liveness(state.owner, this.identity) === 'dead';
      this.logger.info(
        `Lock ${key}: taking over from ${describeOwner(state.owner)}, ${dead ? 'which no longer runs' : `whose heartbeat did not change for ${this.staleMs} ms`}.`,
      );
      if (await dir.takeOver(state, owner)) return { lock: this.hold(dir, instance) };
    }
    return { holder: state };
  }

  private hold(dir: LockDirectory, instance: string): HeldLock {
    this.observed.delete(dir.key);
    return new OwnLock(dir, instance, this.updateMs, this.logger);
  }

  /** Dead by its PID (where that can be checked), or its heartbeat unchanged for `staleMs` on our clock. */
  private isStale(key: string, state: Extract<LockState, { kind: 'held' }>): boolean {
    if (state.owner !== undefined && liveness(state.owner, this.identity) === 'dead') return true;
    const now = this.clock();
    const seen = this.observed.get(key);
    if (seen === undefined || seen.token !== state.token) {
      this.observed.set(key, { token: state.token, since: now });
      return false;
    }
    return now - seen.since >= this.staleMs;
  }

  async owner(key: string): Promise<LockOwner | undefined> {
    const state = await new LockDirectory(this.dir, key).read();
    return state.kind === 'held' ? state.owner : undefined;
  }

  /** Every held lock under the locks dir, with its holder. */
  async list(): Promise<LockStatus[]> {
    const result: LockStatus[] = [];
    for (const key of await this.keys()) {
      const state = await new LockDirectory(this.dir, key).read().catch(() => undefined);
      if (state?.kind !== 'held') continue;
      result.push({ key, owner: state.owner, heartbeat: state.token, liveness: state.owner ? liveness(state.owner, this.identity) : 'unknown' });
    }
    return result;
  }

  /**
   * Recovery: locks whose holder is dead are taken over and released (the same conditional
   * takeover as a waiter's, so a live holder is never touched), and released directories are
   * cleared. Returns how many locks went.
   */
  async removeDead(): Promise<number> {
    let removed = 0;
    for (const key of await this.keys()) {
      const dir = new LockDirectory(this.dir, key);
      const state = await dir.read().catch(() => undefined);
      if (state?.kind === 'released') {
        await dir.clear().catch(() => undefined);
        removed++;
      }
      if (state?.kind !== 'held' || state.owner === undefined || liveness(state.owner, this.identity) !== 'dead') continue;
      const instance = newInstance();
      if (await dir.takeOver(state, { ...this.identity, instance, purpose: 'recovery', since: new Date().toISOString() })) {
        await dir.release(instance, 0);
        removed++;
      }
    }
    return removed;
  }

  private async keys(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.lock')).map((n) => n.slice(0, -'.lock'.length));
  }

  private async ensureDir(): Promise<void> {
    try {
      await fs.mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw fsError(error, 'create directory', this.dir);
    }
  }
}

/** QM_LOCK_STALE_MS, when it is a positive number of milliseconds: every process of a home judges staleness alike. */
export function lockStaleMsFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.QM_LOCK_STALE_MS;
  const value = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function describeOwner(owner: LockOwner | undefined): string {
  return owner ? `pid ${owner.pid} on ${owner.host} (${owner.purpose})` : 'an unknown holder';
}
