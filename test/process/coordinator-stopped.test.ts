import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { spawnQm, type Child, type ChildMessage } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const timeout = 120_000;

/**
 * A coordinator stopped (SIGSTOP, Ctrl-Z) in the middle of a job it does for a `qm` in a
 * terminal: the CLI hears nothing more from it, gives up on it after a bounded silence (10 s),
 * and finishes alone. The stopped coordinator still holds the archive's lock; the store protocol
 * lets the CLI take it over once it is stale, and keeps the store correct whoever publishes.
 */
describe('qm install whose coordinator is stopped mid-job', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let scratch: { home: string; dispose: () => Promise<void> };
  const children: Child[] = [];

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 4 * MiB });
  });
  after(() => server.close());
  beforeEach(async () => {
    scratch = await tempHome('qm-stopped-');
    await fs.mkdir(path.join(scratch.home, 'project'));
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.process.kill('SIGCONT');
      await child.kill();
    }
    await scratch.dispose();
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    QM_HOME: path.join(scratch.home, 'qm'),
    QM_MIRROR_NODE: `${server.url}/dist`,
    QM_PLATFORM: 'linux-x64',
    ...extra,
  });
  const qm = (args: string[], extra: NodeJS.ProcessEnv = {}): Child => {
    const child = spawnQm(args, { cwd: path.join(scratch.home, 'project'), env: env(extra) });
    children.push(child);
    return child;
  };

  it('the CLI gives up on it after a bounded silence and installs alone; the coordinator, continued, keeps the store intact', { timeout }, async () => {
    const archive = artifacts.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz')!;
    // Slow enough that the coordinator is surely mid-download when it is stopped, the first time only.
    server.fault(archive.path, { kind: 'throttle', bytesPerSecond: 256 * 1024, times: 1 });
    const coordinator = qm(['coordinator', '--json']);
    const role = await coordinator.waitFor((m: ChildMessage) => m.role === 'leader');
    const cli = qm(['install', 'node@22.12.0', '--json'], { QM_COORDINATOR: String(role.endpoint) });
    await cli.waitFor((m: ChildMessage) => m.type === 'progress' && (m.progress as { phase?: string }).phase === 'downloading');
    await server.waitFor(archive.path, (s) => s.bytesSent > 0);
    coordinator.process.kill('SIGSTOP');

    const stoppedAt = performance.now();
    const { code } = await cli.exited;
    const waited = performance.now() - stoppedAt;
    assert.equal(code, 0, cli.stderr.join('\n'));
    const doc = JSON.parse(cli.stdout.join('\n')) as { coordinator: boolean; tools: Array<{ dir: string }> };
    assert.equal(doc.coordinator, false, 'finished without the coordinator');
    assert.match(cli.stderr.join('\n'), /has not answered for \d+ s/);
    assert.ok(waited < 60_000, `finished ${Math.round(waited / 1000)} s after the stop`);
    const { stdout } = await run(path.join(doc.tools[0]!.dir, 'bin', 'node'), ['--version']);
    assert.equal(stdout.trim(), 'v22.12.0');

    // Continued, the coordinator finds its client gone: its job is cancelled, and nothing it does breaks the tree.
    coordinator.process.kill('SIGCONT');
    const { code: stopped } = await coordinator.kill('SIGTERM');
    assert.equal(stopped, 0, coordinator.stderr.join('\n'));
    assert.equal((await run(path.join(doc.tools[0]!.dir, 'bin', 'node'), ['--version'])).stdout.trim(), 'v22.12.0');
    assert.deepEqual(await listFiles(new HomeLayout(env().QM_HOME!).tmpDir), [], 'no temp file or staging left');
  });
});
