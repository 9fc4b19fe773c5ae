import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { LockManager, type HeldLock } from '../../src/core/store/locks';
import { currentProcess, processStartTime } from '../../src/core/store/process-identity';
import { recoverHome } from '../../src/core/store/recovery';
import { uniqueTempName } from '../../src/core/store/temp-files';
import { ChildScript, type ChildMessage } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

/** Whether `command args` runs here (unshare needs root, faketime a Debian package). */
function runs(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
const canUnshare = runs(UNSHARE[0]!, [...UNSHARE.slice(1), 'true']) ? false : 'needs `unshare --pid` (root)';
/** libfaketime, preloaded into the holder itself (the faketime wrapper would run node as its child). */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((dir) => path.join(dir, 'faketime', 'libfaketime.so.1'))
  .find((file) => existsSync(file));
const canFaketime = LIBFAKETIME ? false : 'needs libfaketime (apt-get install faketime)';
const skewed = (offset: string): NodeJS.ProcessEnv => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME: offset });

/**
 * Resolves after the lock's heartbeat has changed `count` times, as seen from here: the lock
 * directory's names and mtime (a token renamed inside it changes both).
 */
async function heartbeats(dir: string, count: number, deadlineMs = 30_000): Promise<void> {
  const seen = new Set<string>();
  const deadline = Date.now() + deadlineMs;
  while (seen.size <= count) {
    const stat = await fs.stat(dir).catch(() => undefined);
    const names = await fs.readdir(dir).catch(() => []);
    if (stat) seen.add(`${stat.mtimeMs} ${names.sort().join(' ')}`);
    if (Date.now() > deadline) throw new Error(`saw ${seen.size - 1} heartbeats of ${dir} in ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A promise's state without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

const timeout = 60_000;

describe('lock takeover: one winner, judged by heartbeat on the waiter\'s own clock, identities that containers cannot confuse', () => {
  let home: string;
  let dispose: () => Promise<void>;
  let layout: HomeLayout;
  const children: ChildScript[] = [];
  const held: HeldLock[] = [];
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    layout = new HomeLayout(home);
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((lock) => lock.release()));
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  function holder(key: string, env: NodeJS.ProcessEnv = {}, wrapper?: string[]): ChildScript {
    const child = new ChildScript('test/helpers/hold-lock.ts', [home, key], env, wrapper);
    children.push(child);
    return child;
  }

  it('many processes racing for a dead holder\'s lock: exactly one wins, every other sees the winner', { timeout }, async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `blob-race-${i}`);
    const dead = new ChildScript('test/helpers/hold-lock.ts', [home, ...keys]);
    children.push(dead);
    await dead.waitFor((m) => m.locked === true);
    await dead.kill('SIGKILL');
    const racers = Array.from({ length: 8 }, () => {
      const racer = new ChildScript('test/helpers/lock-racer.ts', [home, String(dead.pid)]);
      children.push(racer);
      return racer;
    });
    await Promise.all(racers.map((racer) => racer.waitFor((m) => m.event === 'ready')));
    for (const key of keys) {
      for (const racer of racers) racer.send(key);
      const outcomes = await Promise.all(racers.map((racer) => racer.waitFor((m) => m.key === key && (m.event === 'acquired' || m.event === 'lost'))));
      const winners = outcomes.filter((m) => m.event === 'acquired');
      assert.equal(winners.length, 1, `${key}: ${winners.length} racers took the lock at once`);
      const winner = racers[outcomes.indexOf(winners[0]!)]!;
      for (const lost of outcomes.filter((m) => m.event === 'lost')) assert.equal(lost.holder, winner.pid, key);
    }
  });

  it('the PID-reuse guard: a holder whose PID now belongs to a process started at another time is dead', { timeout }, async () => {
    const live = holder('blob-other');
    await live.waitFor((m) => m.locked === true);
    const reused = { ...currentProcess(), pid: live.pid, startTime: processStartTime(live.pid)! + 1 };
    const genuine = { ...currentProcess(), pid: live.pid, startTime: processStartTime(live.pid)! };
    const impostor = await new LockManager(layout.locksDir, { identity: reused }).tryAcquire('blob-reused', 'record of an earlier process with that PID');
    const real = await new LockManager(layout.locksDir, { identity: genuine }).tryAcquire('blob-genuine', 'record of the live process');
    assert.ok(impostor && real);
    const locks = new LockManager(layout.locksDir, { staleMs: 60_000 });
    const statuses = new Map((await locks.list()).map((s) => [s.key, s.liveness]));
    assert.equal(statuses.get('blob-reused'), 'dead');
    assert.equal(statuses.get('blob-genuine'), 'alive');
    const taken = await locks.tryAcquire('blob-reused', 'waiter');
    assert.ok(taken, 'a reused PID does not keep a dead lock');
    held.push(taken);
    assert.equal(await locks.tryAcquire('blob-genuine', 'waiter'), undefined, 'the live process keeps its lock');
    await real.release();
  });

  it('a container with the same hostname and its own PID namespace: neither judged dead nor robbed of its temps', { timeout, skip: canUnshare }, async () => {
    const staleMs = 1500;
    const contained = holder('blob-c', { QM_TEST_STALE_MS: String(staleMs), QM_TEST_UPDATE_MS: '200' }, UNSHARE);
    const { temp, pidNamespace } = await contained.waitFor<{ temp: string; pidNamespace: string }>((m) => m.locked === true);
    assert.notEqual(pidNamespace, readlinkSync('/proc/self/ns/pid'), 'the holder runs in a PID namespace of its own');

    const locks = new LockManager(layout.locksDir, { staleMs, updateMs: 200 });
    const [status] = await locks.list();
    assert.equal(status?.owner?.host, currentProcess().host, 'same hostname');
    assert.equal(status?.liveness, 'unknown', 'its PID means nothing in our namespace');
    const waiting = locks.acquire('blob-c', { purpose: 'outside waiter' });
    const report = await recoverHome(layout, locks);
    assert.deepEqual(report, { tempsRemoved: [], locksRemoved: 0 });
    await fs.access(temp);
    await heartbeats(path.join(layout.locksDir, 'blob-c.lock'), 8); // well past staleMs of waiting
    assert.equal(await settled(waiting), false, 'a live holder whose heartbeat moves keeps its lock');

    await contained.kill('SIGKILL');
    const started = performance.now();
    const { lock } = await waiting;
    assert.ok(lock);
    held.push(lock);
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= staleMs * 0.9 && tookMs < staleMs + 3000, `taken over after ${Math.round(tookMs)} ms: its heartbeat alone decides`);
  });

  it('a holder whose clock is 15 s behind keeps its live lock', { timeout, skip: canFaketime }, async () => {
    const staleMs = 1500;
    const behind = holder('blob-skew', { QM_TEST_STALE_MS: String(staleMs), QM_TEST_UPDATE_MS: '200', ...skewed('-15s') });
    const { now } = await behind.waitFor<{ now: number }>((m) => m.locked === true);
    assert.ok(Date.now() - now > 10_000, 'the holder\'s clock runs behind ours');
    const locks = new LockManager(layout.locksDir, { staleMs, updateMs: 200 });
    const waiting = locks.acquire('blob-skew', { purpose: 'waiter on time' });
    await heartbeats(path.join(layout.locksDir, 'blob-skew.lock'), 8);
    assert.equal(await settled(waiting), false, 'not taken over while it beats');
    behind.send('release');
    await behind.waitFor((m: ChildMessage) => m.released === true);
    const { lock } = await waiting;
    assert.ok(lock);
    held.push(lock);
  });

  it('a stopped holder whose clock is 15 s ahead is taken over after the stale time of the waiter\'s clock', { timeout, skip: canFaketime }, async () => {
    const staleMs = 1500;
    const ahead = holder('blob-skew', { QM_TEST_STALE_MS: String(staleMs), QM_TEST_UPDATE_MS: '200', ...skewed('+15s') });
    const { now } = await ahead.waitFor<{ now: number }>((m) => m.locked === true);
    assert.ok(now - Date.now() > 10_000, 'the holder\'s clock runs ahead of ours');
    const locks = new LockManager(layout.locksDir, { staleMs, updateMs: 200 });
    await heartbeats(path.join(layout.locksDir, 'blob-skew.lock'), 2);
    ahead.process.kill('SIGSTOP');
    const started = performance.now();
    const { lock } = await locks.acquire('blob-skew', { purpose: 'waiter on time' });
    const tookMs = performance.now() - started;
    ahead.process.kill('SIGCONT');
    assert.ok(lock);
    held.push(lock);
    assert.ok(tookMs < staleMs + 3000, `taken over after ${Math.round(tookMs)} ms, not ${staleMs} ms + 15 s`);
    // The holder notices at its next beat that it lost the lock, and says so when it releases.
    ahead.send('release');
    assert.equal((await ahead.waitFor<{ compromised: boolean }>((m) => m.released === true)).compromised, true);
  });

  it('recovery removes dead processes\' temps in locks/ and state/, not only in tmp/', { timeout }, async () => {
    const dead = holder('blob-d');
    const { identity } = await dead.waitFor<{ identity: { pid: number } }>((m) => m.locked === true);
    await dead.kill('SIGKILL');
    const owner = { ...currentProcess(), pid: identity.pid, startTime: 1 };
    await fs.mkdir(path.join(layout.stateDir, 'manifests'), { recursive: true });
    const leftovers = [
      path.join(layout.locksDir, `.blob-x.owner.json.${uniqueTempName('tmp', owner)}`),
      path.join(layout.stateDir, 'manifests', `.0123.json.${uniqueTempName('tmp', owner)}`),
      path.join(layout.locksDir, uniqueTempName('dir', owner)),
    ];
    for (const file of leftovers) await fs.writeFile(file, 'left by a dead writer');
    const mine = path.join(layout.locksDir, `.blob-y.owner.json.${uniqueTempName('tmp')}`);
    await fs.writeFile(mine, 'ours, alive');
    const report = await recoverHome(layout, new LockManager(layout.locksDir));
    for (const file of leftovers) await assert.rejects(fs.access(file), `${path.relative(home, file)} removed`);
    await fs.access(mine);
    assert.equal(report.tempsRemoved.length, 3 + 1, 'the dead holder\'s temp in tmp/ went too');
    assert.deepEqual(await new LockManager(layout.locksDir).list(), [], 'and its lock');
  });
});
