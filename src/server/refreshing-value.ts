import type { WireError } from '../shared/protocol';
import { wireErrorOf } from './coordinator-link';

export interface RefreshPolicy {
  /** An answer older than this is asked for again the next time it is read. */
  maxAgeMs: number;
  /** After a failure, a read asks again once this much time has passed. */
  retryMs: number;
  now: () => number;
}

/**
 * One answer from the coordinator, as the server last heard it. Reading never waits: it returns
 * what is known now and, when that is nothing or old, asks again in the background. One request
 * at a time (single-flight); a refresh asked for during one runs once it ends, so an answer that
 * was already on its way cannot hide a change announced after it left.
 */
export class RefreshingValue<T> {
  private current: T | undefined;
  private failure: WireError | undefined;
  private answeredAt = Number.NEGATIVE_INFINITY;
  private inflight = false;
  private again = false;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly policy: RefreshPolicy,
    /** Called after every answer or failure. */
    private readonly settled: () => void,
  ) {}

  /** The last good answer (a failed refresh keeps it: stale beats none while typing); refreshes it when due. */
  read(): T | undefined {
    if (this.due()) this.refresh();
    return this.current;
  }

  get value(): T | undefined {
    return this.current;
  }

  /** Why the latest request failed, until one succeeds. */
  get error(): WireError | undefined {
    return this.failure;
  }

  /** True while a request is under way. */
  get loading(): boolean {
    return this.inflight;
  }

  /** Asks again now, or right after the request under way. */
  refresh(): void {
    if (this.inflight) {
      this.again = true;
      return;
    }
    this.inflight = true;
    this.again = false;
    void this.load().then(
      (value) => this.finish(value, undefined),
      (error: unknown) => this.finish(undefined, wireErrorOf(error)),
    );
  }

  private finish(value: T | undefined, failure: WireError | undefined): void {
    if (failure === undefined) this.current = value;
    this.failure = failure;
    this.answeredAt = this.policy.now();
    this.inflight = false;
    if (this.again) this.refresh();
    this.settled();
  }

  private due(): boolean {
    if (this.inflight) return false;
    const age = this.policy.now() - this.answeredAt;
    return age >= (this.failure !== undefined ? this.policy.retryMs : this.policy.maxAgeMs);
  }
}
