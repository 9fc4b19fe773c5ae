import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { runQm, spawnQm, type Child } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);

describe('qm install across processes (the rustup case, kills, recovery)', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let project: string;
  let dispose: () => Promise<void>;
  const children: Child[] = [];

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 2 * 1024 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    project = path.join(home, 'project');
    await fs.mkdir(project);
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  const env = (): NodeJS.ProcessEnv => ({ QM_HOME: path.join(home, 'qm'), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64' });
  const archive = (version: string): PublishedArtifact => artifacts.find((a) => a.version === version && a.ext === 'tar.gz')!;
  const qm = (args: string[]): Child => {
    const child = spawnQm(args, { cwd: project, env: env() });
    children.push(child);
    return child;
  };

  async function assertInstalled(version: string): Promise<void> {
    const dir = new HomeLayout(env().QM_HOME!).toolchainDir('node', version.slice(1), 'linux-x64');
    const { stdout } = await run(path.join(dir, 'bin', 'node'), ['--version']);
    assert.equal(stdout.trim(), version);
    for (const file of ['LICENSE', 'README.md', 'include/node/node.h', 'lib/payload.bin', '.qm-receipt.json']) await fs.access(path.join(dir, file));
    assert.equal((await fs.readlink(path.join(dir, 'bin', 'npm'))), '../lib/node_modules/npm/bin/npm-cli.js');
  }

  async function assertCacheClean(): Promise<void> {
    const layout = new HomeLayout(env().QM_HOME!);
    assert.deepEqual(await listFiles(layout.tmpDir), [], 'no temp files or staging directories left');
    assert.deepEqual((await listFiles(layout.locksDir)).filter((f) => !f.endsWith('.json')), [], 'no locks left');
  }

  it('8 installs of one version and 3 of others at once: all succeed, each archive fetched once, every tree intact', async () => {
    const others = ['v20.18.1', 'v18.20.4', 'v23.3.0'];
    const both = (version: string): PublishedArtifact[] => artifacts.filter((a) => a.version === version);
    for (const version of ['v22.12.0', ...others]) for (const a of both(version)) server.fault(a.path, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    const runs = [
      ...Array.from({ length: 8 }, () => runQm(['install', 'node@22.12.0'], { cwd: project, env: env() })),
      ...others.map((v) => runQm(['install', `node@${v.slice(1)}`], { cwd: project, env: env() })),
    ];
    const results = await Promise.all(runs);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    for (const version of ['v22.12.0', ...others]) {
      // On this slow link the .tar.gz may be dropped early for the .tar.xz: one whole download, at most one GET of each.
      const stats = both(version).map((a) => server.stats(a.path));
      assert.equal(stats.reduce((sum, s) => sum + s.fullBodies, 0), 1, `${version} fetched whole once`);
      assert.ok(stats.every((s) => s.gets <= 1), `${version}: ${stats.map((s) => s.gets).join(' + ')} GETs`);
      await assertInstalled(version);
    }
    const installedNow = results.slice(0, 8).filter((r) => r.stdout.includes(': installed in')).length;
    assert.equal(installedNow, 1, 'one process installed 22.12.0, seven reused it');
    await assertCacheClean();
  });

  for (const phase of ['downloading', 'extracting', 'publishing'] as const) {
    it(`SIGKILL while ${phase}: the next run succeeds and the cache is clean`, async (t) => {
      const version = 'v22.12.0';
      if (phase === 'downloading') server.fault(archive(version).path, { kind: 'throttle', bytesPerSecond: 1024 * 1024, times: 1 });
      const victim = qm(['install', `node@${version.slice(1)}`, '--json']);
      await victim.waitFor<{ progress?: { phase?: string } }>((m) => m.progress?.phase === phase);
      await victim.kill('SIGKILL');

      const layout = new HomeLayout(env().QM_HOME!);
      const visible = await listFiles(layout.toolchainDir('node', version.slice(1), 'linux-x64'));
      // Whatever the kill interrupted, a tree counts as installed exactly when its receipt is there.
      const listed = await runQm(['list', '--json'], { cwd: project, env: env() });
      const installed = (JSON.parse(listed.stdout) as Array<{ version: string }>).map((t) => t.version);
      assert.equal(installed.includes(version.slice(1)), visible.includes('.qm-receipt.json'));
      t.diagnostic(`killed while ${phase}: ${visible.length} file(s) visible, receipt ${visible.includes('.qm-receipt.json') ? 'present' : 'absent'}`);

      const next = await runQm(['install', `node@${version.slice(1)}`], { cwd: project, env: env() });
      assert.equal(next.code, 0, next.stderr);
      await assertInstalled(version);
      await assertCacheClean();
      const doctor = await runQm(['doctor', '--json'], { cwd: project, env: env() });
      const report = JSON.parse(doctor.stdout) as { toolchains: { withoutReceipt: string[] }; temps: { orphaned: string[] } };
      assert.deepEqual(report.toolchains.withoutReceipt, []);
      assert.deepEqual(report.temps.orphaned, []);
    });
  }

  it('a tree without a receipt (left by an older version killed between publish and receipt) is replaced by the next install', async () => {
    const layout = new HomeLayout(env().QM_HOME!);
    const dir = layout.toolchainDir('node', '22.12.0', 'linux-x64');
    await fs.mkdir(path.join(dir, 'bin'), { recursive: true });
    await fs.writeFile(path.join(dir, 'bin', 'node'), '#!/bin/sh\necho half-written\n', { mode: 0o755 });
    const result = await runQm(['install', 'node@22.12.0'], { cwd: project, env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /installed in/);
    await assertInstalled('v22.12.0');
    await assertCacheClean();
  });
});
