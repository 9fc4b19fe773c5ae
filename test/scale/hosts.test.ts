// Many hosts on one shared QM_HOME (issue 13): each host is a UTS namespace with its own
// hostname, alone (`uts`: boot id and PIDs still shared, so liveness can be checked by pid) or
// with its own PID namespace too (`uts+pid`: only the lock's heartbeat tells). The home is a
// local directory, and a GlusterFS volume with one FUSE mount per host where GlusterFS runs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { connect } from 'node:net';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import type { Child, ChildMessage } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';
import { GlusterVolume, glusterUnavailable } from './harness/gluster';
import { clockSkewOf, faketimeLibrary, hostsUnavailable, qmOnHost, runQmOnHost, type HostSpec, type Isolation } from './harness/hosts';
import { assertInstalledTree, qmEnv, ToolchainWorld, VERSION } from './harness/toolchain-world';

/** A safety net only: a wedged host fails its test instead of hanging CI. */
const TIMEOUT = { timeout: 240_000 };

const MiB = 1024 * 1024;
/** qm's lock stale time: how long a lock whose holder cannot be checked may go without a heartbeat. */
const STALE_MS = 10_000;
/**
 * How soon after a holder's death another host must take over. Where its pid can be checked the
 * takeover needs no stale wait. Elsewhere each lock the dead host held (the toolchain's, then the
 * download's) goes once its heartbeat has not changed for the stale time on the waiter's own
 * clock: at most two stale times. Both with room for a loaded machine.
 */
const TAKEOVER_BOUND_MS: Record<Isolation, number> = { uts: STALE_MS - 2_000, 'uts+pid': 2 * STALE_MS + 8_000 };
/** A skewed clock may not change the takeover time by more than this against a holder on time. */
const SKEW_TOLERANCE_MS = 5_000;
const CONTROL_VERSION = '22.11.0';
/** A holder that will be killed downloads this slowly, so it is still downloading however slow the set-up around it. */
const DOOMED_RATE = 128 * 1024;
const HOST_NAMES = ['host-a', 'host-b', 'host-c', 'host-d'];

const hostsSkip = hostsUnavailable();
const glusterSkip = hostsSkip ?? glusterUnavailable();
const faketimeSkip = faketimeLibrary() ? undefined : 'libfaketime is not installed (apt-get install -y faketime)';

/** Where each host finds the shared home: the same directory, or its own mount of one volume. */
interface SharedHome {
  /** A fresh home for the next test; `of(host)` is that home as `host` sees it. */
  next(): Promise<{ of: (host: string) => string }>;
  close(): Promise<void>;
}

/**
 * Resolves once `dir` holds at least `count` entries. Polled, not watched: on GlusterFS the
 * entries are made through another host's mount, which this one's inotify never hears of.
 */
async function entriesIn(dir: string, count: number): Promise<void> {
  while ((await fs.readdir(dir).catch(() => [])).length < count) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function localHome(): Promise<SharedHome> {
  const scratch = await tempHome('qm-scale-hosts-');
  let n = 0;
  return {
    next: () => {
      const home = path.join(scratch.home, `t${++n}`, 'qm');
      return Promise.resolve({ of: () => home });
    },
    close: scratch.dispose,
  };
}

async function glusterHome(): Promise<SharedHome> {
  const volume = await GlusterVolume.start();
  try {
    const mounts = new Map<string, string>();
    for (const name of HOST_NAMES) mounts.set(name, await volume.mount(name));
    let n = 0;
    return {
      next: () => {
        const sub = `t${++n}`;
        return Promise.resolve({ of: (host: string) => path.join(mounts.get(host)!, sub, 'qm') });
      },
      close: () => volume.stop(),
    };
  } catch (error) {
    await volume.stop();
    throw error;
  }
}

const FILESYSTEMS = [
  { name: 'a local directory', skip: hostsSkip, open: localHome },
  { name: 'GlusterFS (one FUSE mount per host)', skip: glusterSkip, open: glusterHome },
];

let world: ToolchainWorld;
before(async () => {
  if (hostsSkip === undefined) world = await ToolchainWorld.start(4 * MiB);
});
after(() => world?.close());

for (const filesystem of FILESYSTEMS) {
  describe(`hosts sharing one QM_HOME on ${filesystem.name}`, { skip: filesystem.skip }, () => {
    let shared: SharedHome;
    before(async () => {
      shared = await filesystem.open();
    });
    after(() => shared?.close());

    for (const isolation of ['uts', 'uts+pid'] as const) {
      describe(`hosts isolated by ${isolation}`, () => {
        const children: Child[] = [];
        let home: { of: (host: string) => string };
        let cwd: { home: string; dispose: () => Promise<void> };

        beforeEach(async () => {
          home = await shared.next();
          cwd = await tempHome('qm-scale-cwd-');
          world.mirror.clearFaults();
          world.mirror.resetStats();
        });
        afterEach(async () => {
          await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
          await cwd.dispose();
        });

        const host = (i: number, clock?: string): HostSpec => ({ name: HOST_NAMES[i]!, isolation, ...(clock ? { clock } : {}) });
        const env = (h: HostSpec, options: { coordinator?: boolean } = {}): NodeJS.ProcessEnv => qmEnv(home.of(h.name), `${world.mirror.url}/dist`, options);
        const install = (h: HostSpec, spec = `node@${VERSION}`): Child => {
          const child = qmOnHost(h, ['install', spec, '--json'], { cwd: cwd.home, env: env(h) });
          children.push(child);
          return child;
        };
        const waiting = (child: Child): Promise<ChildMessage> =>
          child.waitFor<{ type?: string; progress?: { phase?: string } }>((m) => m.type === 'progress' && m.progress?.phase === 'waiting');
        const succeeded = async (child: Child, label: string): Promise<void> => {
          const { code } = await child.exited;
          assert.equal(code, 0, `${label}: ${child.stderr.join('\n')}`);
        };

        async function assertCacheClean(h: HostSpec): Promise<void> {
          const layout = new HomeLayout(home.of(h.name));
          assert.deepEqual(await listFiles(layout.tmpDir), [], 'no temp files or staging directories left');
          assert.deepEqual((await fs.readdir(layout.locksDir).catch(() => [])).filter((name) => name.endsWith('.lock')), [], 'no lock held');
        }

        /**
         * A holder downloading `version` slowly on `holderHost`, then waiters on the others,
         * started once they report whom they wait for, or (`stealing: true`) once they report
         * anything: a waiter that wrongly takes the live lock never says it waits.
         */
        async function holderAndWaiters(
          holderHost: HostSpec,
          waiterHosts: HostSpec[],
          holderBytesPerSecond: number,
          options: { stealing?: boolean; version?: string } = {},
        ): Promise<{ holder: Child; waiters: Child[] }> {
          const { version = VERSION } = options;
          world.faultArchives({ kind: 'throttle', bytesPerSecond: holderBytesPerSecond, times: 1 }, version);
          const holder = install(holderHost, `node@${version}`);
          await world.archiveFlowing(version);
          const waiters = waiterHosts.map((h) => install(h, `node@${version}`));
          await Promise.all(waiters.map((w) => (options.stealing ? w.waitFor<{ type?: string }>((m) => m.type === 'progress') : waiting(w))));
          return { holder, waiters };
        }

        /** SIGKILLs holders' hosts at one moment, checking that each was still downloading. */
        async function killMidDownload(holders: Array<{ holder: Child; version?: string }>): Promise<number> {
          const killedAt = Date.now();
          await Promise.all(holders.map(({ holder }) => holder.kill('SIGKILL')));
          for (const { version = VERSION } of holders) {
            const finished = world.archivesOf(version).reduce((sum, a) => sum + world.mirror.stats(a.path).fullBodies, 0);
            assert.equal(finished, 0, `the holder of ${version} was killed mid-download`);
          }
          return killedAt;
        }

        /**
         * Milliseconds from `killedAt` until another host starts `version`'s download again; fails
         * with the waiters' output if they all end first.
         */
        async function takeoverAfter(killedAt: number, waiters: Child[], version = VERSION): Promise<number> {
          const allExited = Promise.all(waiters.map((w) => w.exited)).then(() => {
            throw new Error(`every waiter ended before another download of ${version} began:\n${waiters.map((w) => w.stderr.join('\n')).join('\n---\n')}`);
          });
          await Promise.race([world.archiveStats((s) => s.requests >= 2, version), allExited]);
          allExited.catch(() => undefined);
          return Date.now() - killedAt;
        }

        it('4 hosts install at once: one GET, every tree intact, nothing left behind', TIMEOUT, async () => {
          world.faultArchives({ kind: 'throttle', bytesPerSecond: 4 * MiB });
          const hosts = HOST_NAMES.map((_, i) => host(i));
          const results = await Promise.all(hosts.map((h) => runQmOnHost(h, ['install', `node@${VERSION}`], { cwd: cwd.home, env: env(h) })));
          for (const [i, result] of results.entries()) assert.equal(result.code, 0, `${hosts[i]!.name}: ${result.stderr}`);
          assert.equal(world.fetchedArchive().stats.requests, 1, 'the archive was fetched once');
          for (const h of hosts) await assertInstalledTree(home.of(h.name), world.reference, h.name);
          await assertCacheClean(hosts[0]!);
        });

        it('a SIGKILLed holder on one host is taken over by another', TIMEOUT, async (t) => {
          const { holder, waiters } = await holderAndWaiters(host(0), [host(1), host(2)], DOOMED_RATE);
          const killedAt = await killMidDownload([{ holder }]);
          const takeoverMs = await takeoverAfter(killedAt, waiters);
          t.diagnostic(`taken over ${takeoverMs} ms after the kill`);
          for (const [i, waiter] of waiters.entries()) await succeeded(waiter, `waiter ${i}`);
          assert.equal(world.fetchedArchive().stats.requests, 2, 'one duplicate download after the crash, no more');
          assert.ok(takeoverMs < TAKEOVER_BOUND_MS[isolation], `taken over within ${TAKEOVER_BOUND_MS[isolation]} ms of the kill, took ${takeoverMs}`);
          await assertInstalledTree(home.of('host-b'), world.reference, 'host-b');
        });

        describe('skewed clocks (libfaketime)', { skip: faketimeSkip }, () => {
          it('the hosts\' clocks really are skewed: Date.now() and the mtimes a holder stamps', TIMEOUT, async () => {
            const probe = path.join(cwd.home, 'clock-probe');
            for (const [clock, offset] of [['-15s', -15_000], ['+15s', 15_000]] as const) {
              const skew = await clockSkewOf(host(1, clock), probe);
              assert.ok(Math.abs(skew.dateNow - offset) < 3_000, `Date.now() on a ${clock} host is off by ${skew.dateNow} ms`);
              assert.ok(Math.abs(skew.utimes - offset) < 3_000, `an mtime set on a ${clock} host is off by ${skew.utimes} ms`);
            }
          });

          it('a holder 15 s behind keeps its live lock past the stale time, against waiters on time and 15 s ahead', TIMEOUT, async () => {
            // About 12 s of download: longer than the stale time.
            const { holder, waiters } = await holderAndWaiters(host(0, '-15s'), [host(1), host(2, '+15s')], 360 * 1024, { stealing: true });
            await succeeded(holder, 'holder');
            for (const [i, waiter] of waiters.entries()) await succeeded(waiter, `waiter ${i}`);
            assert.equal(world.fetchedArchive().stats.requests, 1, 'nobody took the live lock: one download');
            assert.doesNotMatch(holder.stderr.join('\n'), /taken over/, 'the holder never saw its lock taken');
            await assertInstalledTree(home.of('host-c'), world.reference, 'host-c');
          });

          it('a dead holder 15 s ahead is not waited for longer than one on time, by waiters on time and 15 s behind', TIMEOUT, async (t) => {
            // The control: a holder on time, of another version, killed at the same moment.
            const control = await holderAndWaiters(host(3), [host(1)], DOOMED_RATE, { version: CONTROL_VERSION });
            const skewed = await holderAndWaiters(host(0, '+15s'), [host(1), host(2, '-15s')], DOOMED_RATE);
            const killedAt = await killMidDownload([{ holder: skewed.holder }, { holder: control.holder, version: CONTROL_VERSION }]);
            const [skewedMs, controlMs] = await Promise.all([takeoverAfter(killedAt, skewed.waiters), takeoverAfter(killedAt, control.waiters, CONTROL_VERSION)]);
            t.diagnostic(`taken over ${skewedMs} ms after the kill (the holder on time's: ${controlMs} ms)`);
            for (const [i, waiter] of [...skewed.waiters, ...control.waiters].entries()) await succeeded(waiter, `waiter ${i}`);
            assert.ok(skewedMs < controlMs + SKEW_TOLERANCE_MS, `the clock 15 s ahead did not keep the dead lock longer: ${skewedMs} ms against ${controlMs} ms`);
            assert.ok(skewedMs < TAKEOVER_BOUND_MS[isolation], `taken over within ${TAKEOVER_BOUND_MS[isolation]} ms of the kill, took ${skewedMs}`);
            assert.equal(world.fetchedArchive().stats.requests, 2, 'one duplicate download after the crash, no more');
          });
        });

        it('each host\'s coordinator keeps its own socket, and each host\'s qm uses its own', TIMEOUT, async () => {
          const hosts = [host(0), host(1)];
          const lines: Array<ChildMessage & { role?: string; endpoint?: string }> = [];
          for (const h of hosts) {
            const coordinator = qmOnHost(h, ['coordinator', '--json'], { cwd: cwd.home, env: env(h, { coordinator: true }) });
            children.push(coordinator);
            lines.push(await coordinator.waitFor<{ role?: string }>((m) => m.stream === 'stdout' && typeof m.role === 'string'));
          }
          assert.deepEqual(lines.map((l) => l.role), ['leader', 'leader'], 'each host serves its own processes (another host\'s socket is unreachable for real)');
          if (filesystem.open === localHome) assert.notEqual(lines[0]!.endpoint, lines[1]!.endpoint, 'a per-host endpoint');
          for (const [i, line] of lines.entries()) {
            const stat = await fs.lstat(line.endpoint!).catch(() => undefined);
            assert.ok(stat?.isSocket(), `${hosts[i]!.name}'s socket ${line.endpoint} is still there`);
            const answered = await new Promise<string>((resolve) => {
              const socket = connect(line.endpoint!, () => {
                socket.end();
                resolve('answers');
              });
              socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
            });
            assert.equal(answered, 'answers', `${hosts[i]!.name}'s coordinator still answers at ${line.endpoint} (another host's election must not have replaced its socket)`);
          }
          for (const h of hosts) {
            const result = await runQmOnHost(h, ['install', `node@${VERSION}`, '--json'], { cwd: cwd.home, env: env(h, { coordinator: true }) });
            assert.equal(result.code, 0, result.stderr);
            assert.equal((JSON.parse(result.stdout) as { coordinator: boolean }).coordinator, true, `${h.name}'s qm went through ${h.name}'s coordinator`);
          }
          assert.equal(world.fetchedArchive().stats.requests, 1);
        });

        if (isolation === 'uts+pid') {
          it('a dead host\'s temps: listed elsewhere, removed after a day, or at once by qm doctor --fix --host', TIMEOUT, async () => {
            const dead = host(0);
            // The other host's qm runs in the test's own PID namespace, not a fresh one: the kernel
            // hands out namespace inode numbers lowest-free-first, so a namespace made after the
            // dead host's died would often carry its number, and then (rightly, by PID and start
            // time) judge its temps this host's dead ones. A real other host has its own boot id.
            const other: HostSpec = { ...host(1), isolation: 'uts' };
            for (const version of [VERSION, CONTROL_VERSION]) {
              world.faultArchives({ kind: 'throttle', bytesPerSecond: DOOMED_RATE, times: 1 }, version);
              const before = (await fs.readdir(new HomeLayout(home.of(dead.name)).tmpDir).catch(() => [])).length;
              const victim = install(dead, `node@${version}`);
              // Its download's temp and its staging tree both exist (the 'downloading' phase starts before
              // either, while the request waits for headers).
              await entriesIn(new HomeLayout(home.of(dead.name)).tmpDir, before + 2);
              await victim.kill('SIGKILL');
            }
            const layout = new HomeLayout(home.of(other.name));
            const leftovers = await fs.readdir(layout.tmpDir);
            assert.ok(leftovers.length >= 2, `the dead host left its temps: ${leftovers.join(', ')}`);

            const doctor = async (...args: string[]): Promise<{ code: number | null; report: DoctorJson; stderr: string }> => {
              const result = await runQmOnHost(other, ['doctor', '--json', ...args], { cwd: cwd.home, env: env(other) });
              return { code: result.code, report: (result.code === 2 ? {} : JSON.parse(result.stdout)) as DoctorJson, stderr: result.stderr };
            };
            const listed = await doctor();
            assert.equal(listed.code, 0, listed.stderr);
            // A kill can also leave an atomic write's temp beside its target (a lock owner record).
            const names = listed.report.otherHosts.temps.map((temp) => temp.name);
            assert.deepEqual(leftovers.filter((name) => !names.includes(name)), [], 'qm doctor on another host lists every temp the dead host left in tmp/');
            assert.ok(listed.report.otherHosts.temps.every((temp) => temp.host === dead.name), 'by the name of the host that left them');

            // Under a day old: plain --fix leaves another host's temps alone, it may be alive.
            const [older, ...rest] = leftovers.sort();
            const fixed = await doctor('--fix');
            assert.equal(fixed.code, 0, fixed.stderr);
            assert.deepEqual((await fs.readdir(layout.tmpDir)).sort(), leftovers, 'kept while younger than a day');
            const dayAndHourAgo = new Date(Date.now() - 25 * 3600_000);
            await fs.utimes(path.join(layout.tmpDir, older!), dayAndHourAgo, dayAndHourAgo);
            await doctor('--fix');
            assert.deepEqual((await fs.readdir(layout.tmpDir)).sort(), rest, 'removed once older than a day');

            const refused = await runQmOnHost(other, ['doctor', '--fix', '--host', other.name], { cwd: cwd.home, env: env(other) });
            assert.equal(refused.code, 2, 'naming this host is refused: plain --fix handles it');
            assert.match(refused.stderr, /EUSAGE/);
            const forced = await doctor('--fix', '--host', dead.name);
            assert.equal(forced.code, 0, forced.stderr);
            assert.deepEqual(await fs.readdir(layout.tmpDir), [], '--host removed the rest at once');
            assert.deepEqual(rest.filter((name) => !forced.report.otherHosts.removed.map((p) => path.basename(p)).includes(name)), [], 'and says so');
            assert.deepEqual(forced.report.otherHosts.temps, [], 'no temp of another host is left anywhere');

            const after = await runQmOnHost(other, ['install', `node@${VERSION}`], { cwd: cwd.home, env: env(other) });
            assert.equal(after.code, 0, after.stderr);
            await assertInstalledTree(home.of(other.name), world.reference, other.name);
          });
        }
      });
    }
  });
}

interface DoctorJson {
  otherHosts: { temps: Array<{ name: string; host: string }>; removed: string[] };
}
