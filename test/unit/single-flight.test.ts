import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { SingleFlight } from '../../src/core/flight/single-flight';
import { Semaphore } from '../../src/core/flight/semaphore';

/** A promise with its resolve/reject exposed, to control when work finishes. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs the work once for concurrent callers of one key and gives all the same result', async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    let calls = 0;
    const work = (): Promise<number> => {
      calls++;
      return gate.promise;
    };
    const results = Array.from({ length: 16 }, () => flights.run('k', work));
    gate.resolve(42);
    assert.deepEqual(await Promise.all(results), Array(16).fill(42));
    assert.equal(calls, 1);
    assert.equal(flights.size, 0);
  });

  it('runs different keys independently and starts fresh work after a key settles', async () => {
    const flights = new SingleFlight<string, string>();
    let calls = 0;
    const work = (value: string) => (): Promise<string> => {
      calls++;
      return Promise.resolve(value);
    };
    assert.deepEqual(await Promise.all([flights.run('a', work('A')), flights.run('b', work('B'))]), ['A', 'B']);
    assert.equal(await flights.run('a', work('A2')), 'A2');
    assert.equal(calls, 3);
  });

  it('shares a failure with every caller', async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    let calls = 0;
    const work = (): Promise<number> => {
      calls++;
      return gate.promise;
    };
    const a = flights.run('k', work);
    const b = flights.run('k', work);
    const failure = new Error('boom');
    gate.reject(failure);
    const [errorA, errorB] = await Promise.all([a.then(() => undefined, (e: unknown) => e), b.then(() => undefined, (e: unknown) => e)]);
    assert.equal(calls, 1, 'one attempt, shared: the second caller did not run its own');
    assert.equal(errorA, failure);
    assert.equal(errorB, failure, 'both callers got that one failure');
  });

  it('lets one cancelled waiter go without stopping the shared work', async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    let workSignal: AbortSignal | undefined;
    const work = ({ signal }: { signal: AbortSignal }): Promise<number> => {
      workSignal = signal;
      return gate.promise;
    };
    const quitter = new AbortController();
    const a = flights.run('k', work, { signal: quitter.signal });
    const b = flights.run('k', work, { signal: new AbortController().signal });
    quitter.abort();
    await assert.rejects(a, (error) => isQmError(error, 'ECANCELLED'));
    await Promise.resolve();
    assert.equal(workSignal?.aborted, false);
    gate.resolve(7);
    assert.equal(await b, 7);
  });

  it('aborts the shared work when every waiter has cancelled, and a later caller starts afresh', async () => {
    const flights = new SingleFlight<string, number>();
    const aborted = deferred<void>();
    const started = deferred<void>();
    let calls = 0;
    const work = ({ signal }: { signal: AbortSignal }): Promise<number> => {
      calls++;
      started.resolve();
      return new Promise<number>((_, reject) => {
        signal.addEventListener('abort', () => {
          aborted.resolve();
          reject(new Error('aborted'));
        });
      });
    };
    const controllers = [new AbortController(), new AbortController()];
    const runs = controllers.map((c) => flights.run('k', work, { signal: c.signal }));
    await started.promise;
    controllers[0]!.abort();
    controllers[1]!.abort();
    await Promise.all(runs.map((run) => assert.rejects(run, (error) => isQmError(error, 'ECANCELLED'))));
    await aborted.promise;
    const fresh = flights.run('k', () => Promise.resolve(1));
    assert.equal(await fresh, 1);
    assert.equal(calls, 1);
  });

  it('fans progress out to every waiter and replays the latest to a late joiner', async () => {
    const flights = new SingleFlight<string, number, number>();
    const gate = deferred<number>();
    let emit!: (p: number) => void;
    const seenA: number[] = [];
    const seenB: number[] = [];
    const a = flights.run('k', (context) => {
      emit = context.emit;
      return gate.promise;
    }, { onProgress: (p) => seenA.push(p) });
    await Promise.resolve();
    await Promise.resolve();
    emit(1);
    const b = flights.run('k', () => gate.promise, { onProgress: (p) => seenB.push(p) });
    emit(2);
    gate.resolve(0);
    await Promise.all([a, b]);
    assert.deepEqual(seenA, [1, 2]);
    assert.deepEqual(seenB, [1, 2]);
  });

  it('never starts the work when every waiter cancels before it began', async () => {
    const flights = new SingleFlight<string, number>();
    let calls = 0;
    const controller = new AbortController();
    const run = flights.run('k', () => Promise.resolve(++calls), { signal: controller.signal });
    controller.abort();
    await assert.rejects(run, (error) => isQmError(error, 'ECANCELLED'));
    assert.equal(await flights.run('k', () => Promise.resolve(10)), 10);
    assert.equal(calls, 0);
  });

  it('rejects at once for an already aborted signal without starting work', async () => {
    const flights = new SingleFlight<string, number>();
    let calls = 0;
    await assert.rejects(
      flights.run('k', () => Promise.resolve(++calls), { signal: AbortSignal.abort() }),
      (error) => isQmError(error, 'ECANCELLED'),
    );
    assert.equal(calls, 0);
  });
});

describe('Semaphore', () => {
  it('never lets more than the limit run and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, () => deferred<void>());
    const tasks = gates.map((gate, index) =>
      semaphore.use(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(index);
        await gate.promise;
        running--;
      }),
    );
    for (const gate of gates) gate.resolve();
    await Promise.all(tasks);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  });

  it('drops a cancelled waiter from the queue without consuming a slot', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort();
    await assert.rejects(waiting, (error) => isQmError(error, 'ECANCELLED'));
    assert.equal(semaphore.waiting, 0);
    release();
    release();
    assert.equal(semaphore.running, 0);
    const again = await semaphore.acquire();
    assert.equal(semaphore.running, 1);
    again();
  });
});
