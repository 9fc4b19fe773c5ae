import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { toolchainLockKey } from '../../src/core/store/lock-keys';
import { LockManager } from '../../src/core/store/locks';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { Child, QM_CLI } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether the full CLI (out/cli-main.js) was loaded, or the small entry answered alone. */
  full: boolean;
}

describe('qm install <tool>@<x.y.z>: the small entry answers, or takes the lock for the full CLI', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let project: string;
  let hook: string;
  let dispose: () => Promise<void>;
  const children: Child[] = [];

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 512 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    project = path.join(home, 'project');
    await fs.mkdir(project);
    server.clearFaults();
    server.resetStats();
    // Preloaded into each qm: writes the modules it loaded to $QM_TEST_LOADED at exit.
    hook = path.join(home, 'loaded-hook.js');
    await fs.writeFile(hook, "process.on('exit', () => require('fs').writeFileSync(process.env.QM_TEST_LOADED, JSON.stringify(Object.keys(require.cache))));\n");
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  const qmHome = (): string => path.join(home, 'qm');
  const dir = (): string => new HomeLayout(qmHome()).toolchainDir('node', '22.12.0', 'linux-x64');
  const gz = (): PublishedArtifact => artifacts.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz')!;

  let runs = 0;
  function qm(args: string[], extra: NodeJS.ProcessEnv = {}): { child: Child; finished: Promise<Finished> } {
    const loaded = path.join(home, `loaded-${++runs}.json`);
    const env = { QM_HOME: qmHome(), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off', QM_TEST_LOADED: loaded, ...extra };
    const child = new Child(['--require', hook, QM_CLI, ...args], { cwd: project, env });
    children.push(child);
    const finished = child.exited.then(async ({ code }) => {
      const modules = JSON.parse(await fs.readFile(loaded, 'utf8').catch(() => '[]')) as string[];
      return { code, stdout: child.stdout.join('\n'), stderr: child.stderr.join('\n'), full: modules.some((file) => file.endsWith(`${path.sep}cli-main.js`)) };
    });
    return { child, finished };
  }

  async function assertNoLocksLeft(): Promise<void> {
    assert.deepEqual((await listFiles(new HomeLayout(qmHome()).locksDir)).filter((f) => !f.endsWith('.json')), [], 'no locks left');
  }

  it('processes started while one installs sleep on its lock and answer from the tree it publishes, without the full CLI', async () => {
    // A slow link keeps the first process installing while the others start, longer than the
    // stale time: the lock the entry took keeps beating in the full CLI, or the waiters take it over.
    server.fault(gz().path, { kind: 'throttle', bytesPerSecond: 64 * 1024, times: 1 });
    const stale = { QM_LOCK_STALE_MS: '2000' };
    const first = qm(['install', 'node@22.12.0'], stale);
    await first.child.waitFor<{ text?: string }>((m) => m.text?.includes('downloading') === true);
    const waiters = Array.from({ length: 3 }, () => qm(['install', 'node@22.12.0'], stale));
    for (const waiter of waiters) await waiter.child.waitFor<{ text?: string }>((m) => m.text?.includes(`waiting for pid ${first.child.pid}`) === true);

    const installed = await first.finished;
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(installed.stdout, `node 22.12.0: installed in ${dir()}`);
    assert.equal(installed.full, true);
    for (const waiter of waiters) {
      const result = await waiter.finished;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `node 22.12.0: already installed in ${dir()}`, 'what the full CLI says of an installed toolchain');
      assert.equal(result.full, false, 'answered by the small entry');
    }
    assert.equal(server.stats(gz().path).gets, 1);
    await assertNoLocksLeft();

    const again = await qm(['install', 'node@22.12.0']).finished;
    assert.deepEqual([again.code, again.stdout, again.full], [0, `node 22.12.0: already installed in ${dir()}`, false]);
  });

  it('a waiter whose holder was killed takes the lock over and installs with the full CLI', async () => {
    server.fault(gz().path, { kind: 'throttle', bytesPerSecond: 128 * 1024, times: 1 });
    const victim = qm(['install', 'node@22.12.0']);
    await victim.child.waitFor<{ text?: string }>((m) => m.text?.includes('downloading') === true);
    const waiter = qm(['install', 'node@22.12.0']);
    await waiter.child.waitFor<{ text?: string }>((m) => m.text?.includes(`waiting for pid ${victim.child.pid}`) === true);
    await victim.child.kill('SIGKILL');

    const result = await waiter.finished;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `node 22.12.0: installed in ${dir()}`);
    assert.equal(result.full, true);
    await fs.access(path.join(dir(), '.qm-receipt.json'));
    await assertNoLocksLeft();
  });

  it('a version no index lists fails as the full CLI reports it, and the lock taken for it goes', async () => {
    const result = await qm(['install', 'node@99.0.0']).finished;
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ENOVERSION/);
    assert.equal(result.full, true);
    await assertNoLocksLeft();
  });

  it('the lock it took goes before the job is sent to a coordinator serving the home, which would wait for it', { timeout: 60_000 }, async () => {
    server.fault(gz().path, { kind: 'throttle', bytesPerSecond: 128 * 1024, times: 1 });
    const coordinator = new Child([QM_CLI, 'coordinator', '--json'], { cwd: project, env: { QM_HOME: qmHome(), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64' } });
    children.push(coordinator);
    const role = await coordinator.waitFor((m) => m.role === 'leader');
    const loaded = path.join(home, 'loaded-coordinated.json');
    const cli = new Child(['--require', hook, QM_CLI, 'install', 'node@22.12.0'], {
      cwd: project,
      env: { QM_HOME: qmHome(), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: String(role.endpoint), QM_TEST_LOADED: loaded },
    });
    children.push(cli);
    await cli.waitFor<{ text?: string }>((m) => m.text?.includes('downloading') === true);
    const owner = await new LockManager(new HomeLayout(qmHome()).locksDir).owner(toolchainLockKey({ tool: 'node', version: '22.12.0', platform: 'linux-x64' }));
    assert.equal(owner?.pid, coordinator.pid, 'the coordinator holds the toolchain lock and does the job');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.stderr.join('\n'));
    assert.equal(cli.stdout.join('\n'), `node 22.12.0: installed in ${dir()}`);
    await assertNoLocksLeft();
  });
});
