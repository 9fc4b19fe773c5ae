import { cancelledError } from '../errors';

export interface FlightOptions<P> {
  /** Cancels this caller's wait; the shared work stops only when every caller has cancelled. */
  signal?: AbortSignal;
  onProgress?: (progress: P) => void;
}

/** What the shared work gets: a signal aborted when nobody waits any more, and a progress fan-out. */
export interface FlightContext<P> {
  signal: AbortSignal;
  emit: (progress: P) => void;
}

interface Flight<V, P> {
  promise: Promise<V>;
  controller: AbortController;
  listeners: Set<(progress: P) => void>;
  waiters: number;
  last: P | undefined;
}

/**
 * One in-flight operation per key. The lookup and the insertion happen in one synchronous step,
 * so there is no check-then-act across an await: concurrent callers always share one promise.
 */
export class SingleFlight<K, V, P = never> {
  private readonly flights = new Map<K, Flight<V, P>>();

  /** Keys with work under way now. */
  get size(): number {
    return this.flights.size;
  }

  run(key: K, work: (context: FlightContext<P>) => Promise<V>, options: FlightOptions<P> = {}): Promise<V> {
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(cancelledError(signal, 'The request'));
    const flight = this.flights.get(key) ?? this.start(key, work);
    flight.waiters++;
    if (onProgress) {
      flight.listeners.add(onProgress);
      if (flight.last !== undefined) onProgress(flight.last);
    }
    if (!signal) return flight.promise.finally(() => this.leave(key, flight, onProgress, false));

    return new Promise<V>((resolve, reject) => {
      const onAbort = (): void => {
        this.leave(key, flight, onProgress, true);
        reject(cancelledError(signal, 'The request'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          this.leave(key, flight, onProgress, false);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          this.leave(key, flight, onProgress, false);
          reject(error);
        },
      );
    });
  }

  private start(key: K, work: (context: FlightContext<P>) => Promise<V>): Flight<V, P> {
    const controller = new AbortController();
    const flight: Flight<V, P> = {
      controller,
      listeners: new Set(),
      waiters: 0,
      last: undefined,
      promise: undefined as unknown as Promise<V>,
    };
    const emit = (progress: P): void => {
      flight.last = progress;
      for (const listener of flight.listeners) listener(progress);
    };
    // Deferred a tick so `flights` holds the flight before any of `work` runs.
    flight.promise = Promise.resolve()
      .then(() => {
        // Everyone may have cancelled before the work got its first tick.
        if (controller.signal.aborted) throw cancelledError(controller.signal, 'The request');
        return work({ signal: controller.signal, emit });
      })
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    // Every caller attaches its own handler; this one only keeps an abandoned flight quiet.
    flight.promise.catch(() => undefined);
    this.flights.set(key, flight);
    return flight;
  }

  private leave(key: K, flight: Flight<V, P>, listener: ((progress: P) => void) | undefined, cancelled: boolean): void {
    if (listener) flight.listeners.delete(listener);
    flight.waiters--;
    if (cancelled && flight.waiters === 0) {
      // Forget it first, so a new request starts fresh work instead of joining an aborting one.
      if (this.flights.get(key) === flight) this.flights.delete(key);
      flight.controller.abort(cancelledError(undefined, 'The download'));
    }
  }
}
