import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { ChildScript, spawnQm, type Child } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const timeout = 120_000;

describe('a receipted tree is never removed or replaced by an install', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  const children: Child[] = [];

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 4 * 1024 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    for (const child of children) child.process.kill('SIGCONT');
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  const env = (): NodeJS.ProcessEnv => ({
    QM_HOME: path.join(home, 'qm'),
    QM_MIRROR_NODE: `${server.url}/dist`,
    QM_PLATFORM: 'linux-x64',
    QM_LOCK_STALE_MS: '1500',
  });
  const qm = (args: string[]): Child => {
    const child = spawnQm(args, { cwd: home, env: env() });
    children.push(child);
    return child;
  };

  it('an installer stopped past the stale time, then continued, leaves the winner\'s tree in place: same inode, never absent', { timeout }, async () => {
    const archive = artifacts.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz')!;
    server.fault(archive.path, { kind: 'throttle', bytesPerSecond: 1024 * 1024, times: 1 });
    const dir = new HomeLayout(env().QM_HOME!).toolchainDir('node', '22.12.0', 'linux-x64');

    const first = qm(['install', 'node@22.12.0', '--json']);
    await server.waitFor(archive.path, (s) => s.bytesSent >= 512 * 1024);
    first.process.kill('SIGSTOP');

    const watcher = new ChildScript('test/helpers/watch-tree.ts', [dir]);
    children.push(watcher);
    await watcher.waitFor((m) => m.watching === dir);

    // The second takes the stopped one's lock over once its heartbeat has stood still for the
    // stale time, downloads at full speed and publishes.
    const second = qm(['install', 'node@22.12.0']);
    const { code } = await second.exited;
    assert.equal(code, 0, second.stderr.join('\n'));
    assert.match(second.stdout.join('\n'), /installed in/);
    const winner = (await fs.stat(dir)).ino;

    first.process.kill('SIGCONT');
    const resumed = await first.exited;
    assert.equal(resumed.code, 0, `the first install succeeds with the tree it finds: ${first.stderr.join('\n')}`);
    assert.equal(server.stats(archive.path).fullBodies, 2, 'both downloads ran to their end');

    watcher.send('stop');
    const seen = await watcher.waitFor<{ looks: number; absent: number; inodes: number[] }>((m) => Array.isArray(m.inodes));
    assert.ok(seen.looks > 1000, `the watcher looked ${seen.looks} times`);
    assert.equal(seen.absent, 0, 'the tree was never absent once published');
    assert.deepEqual(seen.inodes, [winner], 'one tree, the winner\'s, from its publish to the end');
    assert.equal((await fs.stat(dir)).ino, winner);
    assert.equal((await run(path.join(dir, 'bin', 'node'), ['--version'])).stdout.trim(), 'v22.12.0');
    assert.deepEqual(await listFiles(new HomeLayout(env().QM_HOME!).tmpDir), [], 'the loser\'s staging tree is gone');
  });
});
