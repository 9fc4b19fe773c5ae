import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { QM_CLI } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

const timeout = 120_000;
const unshare = spawnSync('unshare', ['--uts', 'true']).status === 0 ? false : 'needs `unshare --uts` (root, util-linux) to give processes their own hostname';

/** `qm` in its own UTS namespace, with its own hostname: another host, as far as qm can tell. */
class QmOnHost {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly stdout: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters: Array<{ test: (value: Record<string, unknown>) => boolean; resolve: (value: Record<string, unknown>) => void }> = [];

  constructor(hostname: string, args: string[], env: NodeJS.ProcessEnv) {
    this.process = spawn('unshare', ['--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname, process.execPath, QM_CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (stream === this.process.stdout) this.stdout.push(line);
        let value: Record<string, unknown>;
        try {
          value = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        for (const waiter of [...this.waiters]) {
          if (!waiter.test(value)) continue;
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(value);
        }
      });
    }
    this.exited = new Promise((resolve) => this.process.on('close', (code) => resolve(code)));
  }

  waitFor(test: (value: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return Promise.race([
      new Promise<Record<string, unknown>>((resolve) => this.waiters.push({ test, resolve })),
      this.exited.then((code) => {
        throw new Error(`qm exited (${code}) first:\n${this.lines.join('\n')}`);
      }),
    ]);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    await this.exited;
  }
}

/**
 * Hosts sharing one QM_HOME (NFS, GlusterFS): each serves its own coordinator at its own
 * endpoint, and never deletes another host's socket, which it cannot reach over a network
 * filesystem and would otherwise take for a dead process's.
 */
describe('per-host coordinators on one shared QM_HOME (hosts in UTS namespaces)', { skip: unshare }, () => {
  let mirror: MirrorServer;
  let scratch: { home: string; dispose: () => Promise<void> };
  const running: QmOnHost[] = [];

  before(async () => {
    mirror = await MirrorServer.start();
    await publishNodeDist(mirror, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    scratch = await tempHome('qm-hosts-');
    await fs.mkdir(path.join(scratch.home, 'project'));
  });
  after(async () => {
    await Promise.all(running.map((qm) => qm.kill('SIGKILL')));
    await mirror.close();
    await scratch.dispose();
  });

  const env = { QM_HOME: '', QM_MIRROR_NODE: '', QM_PLATFORM: 'linux-x64' };
  const on = (hostname: string, args: string[]): QmOnHost => {
    const qm = new QmOnHost(hostname, args, { ...env, QM_HOME: path.join(scratch.home, 'qm'), QM_MIRROR_NODE: `${mirror.url}/dist` });
    running.push(qm);
    return qm;
  };
  const coordinator = async (hostname: string): Promise<{ qm: QmOnHost; endpoint: string; role: unknown }> => {
    const qm = on(hostname, ['coordinator', '--json']);
    const line = await qm.waitFor((value) => typeof value.role === 'string');
    return { qm, endpoint: String(line.endpoint), role: line.role };
  };
  const socketInode = async (file: string): Promise<number> => {
    const stat = await fs.lstat(file);
    assert.ok(stat.isSocket(), `${file} is a socket`);
    return stat.ino;
  };

  it('each host leads at its own endpoint; a dead host\'s socket is left for that host; qm uses its own host\'s coordinator only', { timeout }, async () => {
    const a = await coordinator('qm-host-a');
    const b = await coordinator('qm-host-b');
    assert.equal(a.role, 'leader');
    assert.equal(b.role, 'leader', 'host b serves its own coordinator, not host a\'s');
    assert.notEqual(b.endpoint, a.endpoint);
    assert.match(path.basename(a.endpoint), /^coordinator-qm-host-a-[0-9a-f]{10}\.sock$/);

    // Host a goes down hard: its socket file stays, and nobody answers on it.
    const inodeA = await socketInode(a.endpoint);
    await a.qm.kill('SIGKILL');
    const c = await coordinator('qm-host-c');
    assert.equal(c.role, 'leader');
    assert.equal(await socketInode(a.endpoint), inodeA, 'host c left host a\'s socket alone');
    await socketInode(b.endpoint);

    const installOn = async (hostname: string, version: string): Promise<{ coordinator: boolean }> => {
      const qm = on(hostname, ['install', `node@${version}`, '--json']);
      const code = await qm.exited;
      assert.equal(code, 0, qm.lines.join('\n'));
      return JSON.parse(qm.stdout.join('\n')) as { coordinator: boolean };
    };
    assert.equal((await installOn('qm-host-b', '22.12.0')).coordinator, true, 'host b\'s qm went through host b\'s coordinator');
    assert.equal((await installOn('qm-host-a', '20.18.1')).coordinator, false, 'host a\'s qm works alone: its coordinator is gone');
    assert.equal(await socketInode(a.endpoint), inodeA);
    for (const qm of [b.qm, c.qm]) await qm.kill('SIGTERM');
  });
});
