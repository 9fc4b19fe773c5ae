import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { LockManager, type LockOwner } from '../../src/core/store/locks';
import { tempHome } from '../helpers/temp-home';

describe('LockManager', () => {
  let home: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('gives a lock to one taker at a time and records who holds it', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'download a');
    assert.ok(held);
    assert.equal(await locks.tryAcquire('blob-a', 'download a again'), undefined);
    const owner = await locks.owner('blob-a');
    assert.equal(owner?.pid, process.pid);
    assert.equal(owner?.purpose, 'download a');
    assert.ok(await locks.tryAcquire('blob-b', 'another key'), 'other keys are independent');
    await held.release();
    assert.equal(await locks.owner('blob-a'), undefined);
    const again = await locks.tryAcquire('blob-a', 'after release');
    assert.ok(again);
    await again.release();
  });

  it('waits for a held lock, says whom it waits for, and takes it once released', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    const waitedFor: Array<LockOwner | undefined> = [];
    let released = false;
    const waiting = locks.acquire('blob-a', {
      purpose: 'second',
      onWait: (owner) => {
        waitedFor.push(owner);
        released = true;
        void held.release();
      },
    });
    const result = await waiting;
    assert.ok(released);
    assert.ok(result.lock);
    assert.equal(waitedFor[0]?.purpose, 'first');
    assert.equal((await locks.owner('blob-a'))?.purpose, 'second');
    await result.lock.release();
  });

  it('stops waiting when the check reports the work done', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    let done = false;
    const result = await locks.acquire('blob-a', {
      purpose: 'second',
      onWait: () => {
        done = true;
      },
      check: () => Promise.resolve(done ? 'published' : undefined),
    });
    assert.equal(result.done, 'published');
    assert.equal(result.lock, undefined);
    await held.release();
  });

  it('checks again right after taking the lock, and releases it when the holder it waited for did the work', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    // The holder publishes and releases while the waiter is checking (after its check read the
    // store, before it tries the lock): only a check after taking the lock can see the work done.
    let published = false;
    let checks = 0;
    const result = await locks.acquire('blob-a', {
      purpose: 'second',
      check: async () => {
        checks++;
        const seen = published;
        if (checks === 2) {
          published = true;
          await held.release();
        }
        return seen ? 'published' : undefined;
      },
    });
    assert.equal(checks, 3, 'checked before each attempt and once after taking the lock');
    assert.equal(result.done, 'published', 'the re-check after taking the lock saw the work done');
    assert.equal(result.lock, undefined);
    assert.deepEqual(await locks.list(), [], 'the lock taken for the re-check was released');
  });

  it('stops waiting with ECANCELLED when the signal aborts', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    const controller = new AbortController();
    const waiting = locks.acquire('blob-a', { purpose: 'second', signal: controller.signal, onWait: () => controller.abort() });
    await assert.rejects(waiting, (error) => isQmError(error, 'ECANCELLED'));
    assert.equal((await locks.owner('blob-a'))?.purpose, 'first', 'the holder keeps its lock');
    await held.release();
  });

  it('lists held locks with their owners and keeps a live holder in recovery', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    const [status] = await locks.list();
    assert.equal(status?.key, 'blob-a');
    assert.equal(status?.liveness, 'alive');
    assert.equal(await locks.removeDead(), 0);
    assert.equal(await locks.tryAcquire('blob-a', 'thief'), undefined);
    await held.release();
    assert.deepEqual(await locks.list(), []);
  });
});
