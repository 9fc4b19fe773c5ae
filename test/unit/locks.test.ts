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

  it('stops waiting when the shortcut reports the work done', async () => {
    const locks = new LockManager(path.join(home, 'locks'));
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    let done = false;
    const result = await locks.acquire('blob-a', {
      purpose: 'second',
      onWait: () => {
        done = true;
      },
      shortcut: () => Promise.resolve(done ? 'published' : undefined),
    });
    assert.equal(result.shortcut, 'published');
    assert.equal(result.lock, undefined);
    await held.release();
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
