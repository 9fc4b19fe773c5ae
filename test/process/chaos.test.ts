import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HomeLayout } from '../../src/core/home';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { runQm, spawnQm, type Child } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';
import { archiveListing, treeDifferences } from '../helpers/tree-check';

/** How long the processes race; the whole test takes about 20 s more. */
const CHAOS_MS = Number(process.env.QM_CHAOS_MS ?? 45_000);
const VERSIONS = ['22.12.0', '20.18.1', '18.20.4'];
const INSTALLERS = 3;

type Kind = 'install' | 'exec' | 'uninstall' | 'gc';

interface Run {
  kind: Kind;
  version: string | undefined;
  child: Child;
  killed: boolean;
  stops: number;
}

interface Finished extends Run {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (low: number, high: number): number => low + Math.random() * (high - low);

describe('chaos: installers, gc, uninstall and exec race on one home under SIGKILL and SIGSTOP', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  const running = new Set<Run>();

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 2 * 1024 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(async () => {
    for (const run of running) {
      run.child.process.kill('SIGCONT');
      run.child.process.kill('SIGKILL');
    }
    await Promise.all([...running].map((run) => run.child.exited));
    await dispose();
  });

  const env = (): NodeJS.ProcessEnv => ({
    QM_HOME: path.join(home, 'qm'),
    QM_MIRROR_NODE: `${server.url}/dist`,
    QM_PLATFORM: 'linux-x64',
    // A stopped holder's work is taken over after 1.5 s without a heartbeat, not 10 s.
    QM_LOCK_STALE_MS: '1500',
  });

  it(`every tree intact, no exec ran a wrong binary, doctor clean and nothing left after one recovery (${CHAOS_MS / 1000} s of chaos)`, { timeout: CHAOS_MS + 120_000 }, async (t) => {
    // Slow enough that downloads overlap with everything else, fast enough for many rounds.
    for (const artifact of artifacts) server.fault(artifact.path, { kind: 'throttle', bytesPerSecond: 4 * 1024 * 1024 });
    const finished: Finished[] = [];
    const deadline = Date.now() + CHAOS_MS;

    const start = async (kind: Kind, args: string[], version?: string): Promise<void> => {
      const run: Run = { kind, version, child: spawnQm(args, { cwd: home, env: env() }), killed: false, stops: 0 };
      running.add(run);
      const { code, signal } = await run.child.exited;
      running.delete(run);
      finished.push({ ...run, code, signal });
    };
    const loop = async (next: () => Promise<void>): Promise<void> => {
      while (Date.now() < deadline) await next();
    };
    const monkey = async (): Promise<void> => {
      const resumes: Array<Promise<void>> = [];
      while (Date.now() < deadline) {
        await delay(between(150, 450));
        const victims = [...running].filter((run) => run.child.process.signalCode === null);
        if (victims.length === 0) continue;
        const victim = pick(victims);
        if (Math.random() < 0.15) {
          victim.killed = true;
          victim.child.process.kill('SIGKILL');
        } else {
          victim.stops++;
          victim.child.process.kill('SIGSTOP');
          // Often past the stale time, so that its lock is taken over while it sleeps.
          resumes.push(delay(between(200, 2500)).then(() => void victim.child.process.kill('SIGCONT')));
        }
      }
      await Promise.all(resumes);
    };

    await Promise.all([
      ...Array.from({ length: INSTALLERS }, () => loop(() => {
        const version = pick(VERSIONS);
        return start('install', ['install', `node@${version}`], version);
      })),
      // A command that runs the toolchain's node twice with a pause between: a tree removed or
      // replaced while it runs shows as a failure or as another node (the real one is on PATH).
      ...Array.from({ length: 2 }, () => loop(() => {
        const version = pick(VERSIONS);
        return start('exec', ['exec', `node@${version}`, '--', 'sh', '-c', 'node --version && sleep 0.3 && node --version'], version);
      })),
      loop(async () => {
        const version = pick(VERSIONS);
        await start('uninstall', ['uninstall', `node@${version}`], version);
      }),
      loop(async () => {
        await delay(between(200, 800));
        await start('gc', ['gc']);
      }),
      monkey(),
    ]);

    // What each process said, as far as it got to say anything.
    const problems: string[] = [];
    for (const run of finished) {
      const out = run.child.stdout.join('\n').trim();
      const err = run.child.stderr.join('\n');
      const who = `${run.kind} ${run.version ?? ''} (pid ${run.child.pid}, ${run.stops} stop(s))`;
      if (/^\s+at /m.test(err)) problems.push(`${who} crashed: ${err}`);
      const expected = `v${run.version!}\nv${run.version!}`;
      if (run.kind === 'exec' && out.split('\n').some((line) => line !== '' && line !== `v${run.version!}`)) problems.push(`${who} ran a wrong binary: printed ${out}`);
      if (run.signal !== null) continue; // SIGKILLed: nothing more to expect of it
      const refused = /error (ENOTINSTALLED|ELOCKED)/.test(err);
      const fine =
        run.kind === 'install' || run.kind === 'gc' ? run.code === 0
        : run.kind === 'exec' ? (run.code === 0 && out === expected) || (run.code === 1 && refused)
        : run.code === 0 || (run.code === 1 && refused);
      if (!fine) problems.push(`${who} exited ${run.code}: ${out} ${err}`);
    }
    const count = (kind: Kind, predicate: (run: Finished) => boolean = () => true): number => finished.filter((r) => r.kind === kind && predicate(r)).length;
    t.diagnostic(
      `${finished.length} runs: ${count('install')} installs (${count('install', (r) => r.code === 0)} ok), ` +
        `${count('exec')} execs (${count('exec', (r) => r.code === 0)} ran), ${count('uninstall', (r) => r.code === 0)} uninstalls removed, ` +
        `${count('gc')} gc; ${finished.filter((r) => r.killed).length} SIGKILLed, ${finished.reduce((n, r) => n + r.stops, 0)} SIGSTOPs`,
    );
    assert.deepEqual(problems, []);
    assert.ok(count('install', (r) => r.code === 0) > 0 && count('exec', (r) => r.code === 0) > 0, 'the race did real work');
    assert.ok(finished.some((r) => r.killed) && finished.some((r) => r.stops > 0), 'and was disturbed');

    // One recovery pass, then the store must be exactly right.
    const fix = await runQm(['doctor', '--fix'], { cwd: home, env: env() });
    assert.equal(fix.code, 0, fix.stderr);
    const layout = new HomeLayout(env().QM_HOME!);
    assert.deepEqual(await listFiles(layout.tmpDir), [], 'nothing left in tmp/');
    assert.deepEqual(await listFiles(layout.locksDir), [], 'nothing left in locks/');
    assert.deepEqual(await fs.readdir(layout.locksDir).catch(() => []), [], 'no lock directories either');

    let trees = 0;
    for (const version of VERSIONS) {
      const dir = layout.toolchainDir('node', version, 'linux-x64');
      const present = await fs.readdir(dir).catch(() => undefined);
      if (present === undefined) continue;
      assert.ok(present.includes('.qm-receipt.json'), `${dir} has no receipt`);
      const archive = artifacts.find((a) => a.version === `v${version}` && a.ext === 'tar.gz')!;
      const body = Buffer.from(await (await fetch(archive.url)).arrayBuffer());
      assert.deepEqual(await treeDifferences(dir, archiveListing(body, 1)), [], `node ${version} verifies file by file`);
      trees++;
    }
    t.diagnostic(`${trees} toolchain tree(s) left, each verified file by file`);

    const doctor = await runQm(['doctor', '--verify', '--json'], { cwd: home, env: env() });
    assert.equal(doctor.code, 0, doctor.stderr);
    const report = JSON.parse(doctor.stdout) as { findings: Array<{ severity: string; message: string }>; blobs: { corrupt: string[] }; toolchains: { withoutReceipt: string[] }; temps: { orphaned: string[]; live: string[] }; locks: unknown[] };
    assert.deepEqual(report.findings.filter((f) => f.severity !== 'ok'), []);
    assert.deepEqual([report.blobs.corrupt, report.toolchains.withoutReceipt, report.temps.orphaned, report.temps.live, report.locks], [[], [], [], [], []]);
  });
});
