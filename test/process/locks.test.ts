import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { LockManager, type LockOwner } from '../../src/core/store/locks';
import { recoverHome } from '../../src/core/store/recovery';
import { isOrphanTemp } from '../../src/core/store/temp-files';
import { ChildScript } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

describe('locks and leftovers across processes', () => {
  let home: string;
  let dispose: () => Promise<void>;
  const children: ChildScript[] = [];
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  it('never breaks the lock or removes the temp file of a live process', async () => {
    const child = new ChildScript('test/helpers/hold-lock.ts', [home, 'blob-x']);
    children.push(child);
    const { locked, temp } = await child.waitFor<{ locked: boolean; temp: string }>(() => true);
    assert.equal(locked, true);
    const layout = new HomeLayout(home);
    const locks = new LockManager(layout.locksDir);
    assert.equal(await locks.tryAcquire('blob-x', 'parent'), undefined);
    assert.equal((await locks.owner('blob-x'))?.pid, child.pid);
    assert.equal(isOrphanTemp(path.basename(temp)), false);
    const report = await recoverHome(layout, locks);
    assert.deepEqual(report, { tempsRemoved: [], locksRemoved: 0 });
    await fs.access(temp);
  });

  it('takes over the lock of a SIGKILLed holder well within the stale timeout and says whom it waited for', async () => {
    const child = new ChildScript('test/helpers/hold-lock.ts', [home, 'blob-x']);
    children.push(child);
    const { temp } = await child.waitFor<{ temp: string }>(() => true);
    const layout = new HomeLayout(home);
    const staleMs = 10_000;
    const locks = new LockManager(layout.locksDir, { staleMs });
    const waitedFor: Array<LockOwner | undefined> = [];
    const started = Date.now();
    const acquiring = locks.acquire('blob-x', {
      purpose: 'parent',
      onWait: (owner) => {
        waitedFor.push(owner);
        if (waitedFor.length === 1) void child.kill();
      },
    });
    const { lock } = await acquiring;
    const elapsed = Date.now() - started;
    assert.ok(lock);
    assert.equal(waitedFor[0]?.pid, child.pid);
    assert.equal(waitedFor[0]?.purpose, 'test holder');
    assert.ok(elapsed < staleMs, `took ${elapsed} ms, the stale timeout is ${staleMs} ms`);
    await lock.release();

    assert.equal(isOrphanTemp(path.basename(temp)), true);
    const report = await recoverHome(layout, locks);
    assert.deepEqual(report.tempsRemoved, [path.join('tmp', path.basename(temp))]);
    await assert.rejects(fs.access(temp));
  });

  it('recovery removes a dead holder\'s lock so nobody has to wait for it', async () => {
    const child = new ChildScript('test/helpers/hold-lock.ts', [home, 'blob-y']);
    children.push(child);
    await child.waitFor(() => true);
    await child.kill();
    const layout = new HomeLayout(home);
    const locks = new LockManager(layout.locksDir);
    const [status] = await locks.list();
    assert.equal(status?.liveness, 'dead');
    // The holder refreshed its lock up to a second before it died; age the lock past
    // proper-lockfile's minimum staleness as that much time passing would.
    const past = new Date(Date.now() - 5_000);
    await fs.utimes(path.join(layout.locksDir, 'blob-y.lock'), past, past);
    assert.equal(await locks.removeDead(), 1);
    assert.deepEqual(await locks.list(), []);
    assert.equal(await locks.owner('blob-y'), undefined);
  });
});
