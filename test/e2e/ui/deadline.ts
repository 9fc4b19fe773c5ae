/**
 * The UI run's one time limit (and its Ctrl-C). Every wait takes what is left of it, so nothing has a timeout of
 * its own, and when the limit strikes the error says which step was waiting for what.
 */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

export class Deadline {
  readonly limitMs: number;
  /** Aborts when time runs out or the run is interrupted. */
  readonly signal: AbortSignal;
  readonly #interrupt: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #endsAt: number;
  #step = 'starting';
  #waitingFor = 'nothing yet';

  constructor(limitMs: number, interrupt: AbortSignal) {
    this.limitMs = limitMs;
    this.#interrupt = interrupt;
    this.#endsAt = performance.now() + limitMs;
    // Not AbortSignal.any([AbortSignal.timeout(...), ...]): `any` holds its sources weakly, and a
    // collected timeout signal never fires (a hung run here waited 20 minutes). This timer's
    // closure holds the controller.
    const expiry = new AbortController();
    this.#timer = setTimeout(() => expiry.abort(), limitMs);
    this.#timer.unref();
    this.signal = AbortSignal.any([expiry.signal, interrupt]);
  }

  /** Stops the timer (the run is over). */
  dispose(): void {
    clearTimeout(this.#timer);
  }

  /** What the run is doing, for the message when time runs out. */
  step(name: string): void {
    this.#step = name;
    this.#waitingFor = 'nothing yet';
  }

  get currentStep(): string {
    return this.#step;
  }

  /** At least 1 ms: Playwright reads 0 as "no timeout". */
  remainingMs(): number {
    return Math.max(1, Math.floor(this.#endsAt - performance.now()));
  }

  get expired(): boolean {
    return this.signal.aborted || performance.now() >= this.#endsAt;
  }

  /** Runs one wait, labelled; past the limit its error becomes a DeadlineExceeded naming step and wait. */
  async wait<T>(what: string, wait: () => Promise<T>): Promise<T> {
    this.#waitingFor = what;
    if (this.expired) throw this.#exceeded();
    try {
      return await raceAbort(wait(), this.signal);
    } catch (error) {
      if (this.expired) throw this.#exceeded();
      throw error;
    }
  }

  #exceeded(): DeadlineExceeded {
    if (this.#interrupt.aborted) return new DeadlineExceeded(`interrupted in step "${this.#step}" while waiting for ${this.#waitingFor}`);
    return new DeadlineExceeded(
      `the UI test did not finish within ${this.limitMs / 1000} s: step "${this.#step}" was waiting for ${this.#waitingFor} (QM_UI_TIMEOUT_MS raises the limit)`,
    );
  }
}

/** Rejects as soon as `signal` aborts, whether or not `promise` ever settles. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
