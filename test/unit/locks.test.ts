import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import * as fs from 'node:fs/promises';
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

  it('never leaves a lock taken when writing its owner record fails (errors are QmErrors)', async () => {
    const dir = path.join(home, 'locks');
    await fs.mkdir(path.join(dir, 'blob-a.owner.json', 'in-the-way'), { recursive: true });
    const locks = new LockManager(dir);
    let first;
    try {
      first = await locks.tryAcquire('blob-a', 'first');
    } catch (error) {
      assert.ok(isQmError(error), `a QmError, not ${String(error)}`);
    }
    await first?.release();
    const again = await new LockManager(dir).tryAcquire('blob-a', 'another process');
    assert.ok(again, 'the lock is free again');
    await again.release();

    // Where the lock itself cannot be created, the half-made lock goes too.
    await fs.writeFile(path.join(dir, 'blob-b.lock'), 'not a lock directory');
    await assert.rejects(locks.tryAcquire('blob-b', 'first'), (error) => isQmError(error, 'EIO') && error.message.includes('blob-b.lock'));
    assert.deepEqual((await fs.readdir(dir)).filter((name) => !name.startsWith('blob-a.owner.json')).sort(), ['blob-b.lock'], 'nothing left in locks/');
  });

  it('release unlocks even when the owner record cannot be removed', async () => {
    const dir = path.join(home, 'locks');
    const locks = new LockManager(dir);
    const held = await locks.tryAcquire('blob-a', 'first');
    assert.ok(held);
    // Wherever the record lives, make it something a plain file removal cannot remove.
    const records = (await fs.readdir(dir, { recursive: true })).filter((name) => /owner[^/]*\.json$/.test(name));
    assert.ok(records.length > 0);
    for (const record of records) {
      await fs.rm(path.join(dir, record));
      await fs.mkdir(path.join(dir, record, 'in-the-way'), { recursive: true });
    }
    await held.release().catch((error: unknown) => assert.ok(isQmError(error), `a QmError, not ${String(error)}`));
    const again = await new LockManager(dir).tryAcquire('blob-a', 'another process');
    assert.ok(again, 'unlocked');
    await again.release();
  });

  it('a holder that was taken over notices at its next heartbeat and leaves the new holder\'s lock alone', async () => {
    const dir = path.join(home, 'locks');
    let now = 0;
    const first = await new LockManager(dir, { staleMs: 60_000, updateMs: 10_000 }).tryAcquire('blob-a', 'stopped holder');
    assert.ok(first);
    // A waiter whose clock has seen the heartbeat unchanged for the stale time takes over.
    const waiter = new LockManager(dir, { staleMs: 1_000, clock: () => now });
    assert.equal(await waiter.tryAcquire('blob-a', 'waiter'), undefined, 'first sight of this heartbeat');
    now += 999;
    assert.equal(await waiter.tryAcquire('blob-a', 'waiter'), undefined, 'not yet stale');
    now += 1;
    const second = await waiter.tryAcquire('blob-a', 'waiter');
    assert.ok(second, 'stale by the waiter\'s own clock');
    await first.release();
    assert.equal(first.compromised, true);
    assert.equal((await waiter.owner('blob-a'))?.purpose, 'waiter', 'the old holder\'s release did not unlock the new holder');
    await second.release();
    assert.deepEqual(await fs.readdir(dir), []);
  });

  it('a release wakes a waiter at once: it does not sleep out its poll interval', { timeout: 30_000 }, async () => {
    const dir = path.join(home, 'locks');
    const held = await new LockManager(dir).tryAcquire('blob-a', 'first');
    assert.ok(held);
    // Ten minutes between looks: only the change the release makes in the locks directory can
    // end this wait before the test's timeout.
    const waiter = new LockManager(dir, { minPollMs: 600_000, maxPollMs: 600_000, staleMs: 3_600_000 });
    let waited = false;
    const result = await waiter.acquire('blob-a', {
      purpose: 'second',
      onWait: () => {
        waited = true;
        void held.release();
      },
    });
    assert.ok(waited, 'it waited for the holder');
    assert.ok(result.lock);
    await result.lock.release();
  });

  it('a waiter looks at a live holder\'s lock without staging a directory of its own each time', async () => {
    const dir = path.join(home, 'locks');
    const held = await new LockManager(dir).tryAcquire('blob-a', 'first');
    assert.ok(held);
    // Every name that appears in the locks directory while the waiter polls 10 times.
    const names = new Set<string>();
    const watcher = watch(dir, (_event, name) => name !== null && names.add(name));
    const waiter = new LockManager(dir, { minPollMs: 1, maxPollMs: 1 });
    let checks = 0;
    try {
      const result = await waiter.acquire('blob-a', {
        purpose: 'second',
        check: async () => {
          if (++checks === 10) await held.release();
          return undefined;
        },
      });
      assert.ok(result.lock);
      await result.lock.release();
    } finally {
      watcher.close();
    }
    const staged = [...names].filter((name) => name.endsWith('.dir'));
    assert.ok(checks >= 10);
    assert.ok(staged.length <= 2, `one staging directory to find the lock held, one to take it: ${staged.join(', ')}`);
  });

  it('an adopted lock goes to the first acquire of its key, checked again; the others are released', async () => {
    const dir = path.join(home, 'locks');
    // Taken by another manager in this process (the CLI's small entry), then handed over.
    const early = new LockManager(dir);
    const a = await early.tryAcquire('toolchain-a', 'install a');
    const b = await early.tryAcquire('toolchain-b', 'install b');
    const c = await early.tryAcquire('toolchain-c', 'install c');
    assert.ok(a && b && c);
    const locks = new LockManager(dir, { minPollMs: 600_000, maxPollMs: 600_000, staleMs: 3_600_000 });
    for (const lock of [a, b, c]) locks.adopt(lock);
    const taken = await locks.acquire('toolchain-a', { purpose: 'install a', onWait: () => assert.fail('it waited for itself') });
    assert.equal(taken.lock, a, 'the adopted lock itself');
    const done = await locks.acquire('toolchain-b', { purpose: 'install b', check: () => Promise.resolve('installed') });
    assert.equal(done.done, 'installed');
    assert.equal(await locks.owner('toolchain-b'), undefined, 'the re-check found the work done and released it');
    await locks.releaseAdopted(new Set(['toolchain-c']));
    assert.equal((await locks.owner('toolchain-c'))?.purpose, 'install c', 'kept');
    await locks.releaseAdopted();
    assert.equal(await locks.owner('toolchain-c'), undefined);
    await a.release();
    assert.deepEqual(await fs.readdir(dir), []);
  });
});
