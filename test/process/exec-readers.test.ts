import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { runQm, spawnQm, type Child } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

const timeout = 60_000;

/** Opens a FIFO's write end as soon as a reader has opened it (that moment is the event). */
async function openWhenRead(fifo: string, deadlineMs = 30_000): Promise<fs.FileHandle> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await fs.open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

describe('qm exec holds its toolchain while the command runs, and runs that tree or nothing', () => {
  let server: MirrorServer;
  let home: string;
  let dispose: () => Promise<void>;
  const children: Child[] = [];
  const strays: number[] = [];

  before(async () => {
    server = await MirrorServer.start();
    await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 256 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(async () => {
    for (const pid of strays.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  const env = (): NodeJS.ProcessEnv => ({ QM_HOME: path.join(home, 'qm'), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64' });
  const qm = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => runQm(args, { cwd: home, env: env() });
  const tree = (): string => new HomeLayout(env().QM_HOME!).toolchainDir('node', '22.12.0', 'linux-x64');

  it('uninstall and gc leave a toolchain alone while a command from it runs, even after qm exec itself is killed', { timeout }, async () => {
    assert.equal((await qm(['install', 'node@22.12.0'])).code, 0);
    const exec = spawnQm(['exec', 'node@22.12.0', '--', 'sh', '-c', 'echo "started $$"; node --version; while :; do sleep 1; done'], { cwd: home, env: env() });
    children.push(exec);
    const started = await exec.waitFor<{ text: string }>((m) => typeof m.text === 'string' && m.text.startsWith('started'));
    const shell = Number(started.text.split(' ')[1]);
    strays.push(shell);
    await exec.waitFor((m) => m.text === 'v22.12.0');

    const uninstall = await qm(['uninstall', 'node@22.12.0']);
    assert.equal(uninstall.code, 1);
    assert.match(uninstall.stderr, /ELOCKED.*in use by pid/);
    const gc = await qm(['gc']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /left node 22\.12\.0 \(linux-x64\): in use by pid/);
    await fs.access(path.join(tree(), 'bin', 'node'));

    // qm exec dies; the command it started still runs from the tree, under its own lease.
    const gone = once(exec.process, 'exit'); // not 'close': the command still holds qm's stdout
    exec.process.kill('SIGKILL');
    await gone;
    process.kill(shell, 0);
    const again = await qm(['uninstall', 'node@22.12.0']);
    assert.equal(again.code, 1, 'still in use by the command');
    assert.match(again.stderr, new RegExp(`in use by pid ${shell}`));

    process.kill(shell, 'SIGKILL');
    const removed = await qm(['uninstall', 'node@22.12.0']);
    assert.equal(removed.code, 0, removed.stderr);
    await assert.rejects(fs.access(tree()));
  });

  it('a tree that vanishes between lookup and start is installed again or reported, never replaced by another node on PATH', { timeout }, async () => {
    assert.equal((await qm(['install', 'node@22.12.0'])).code, 0);
    const systemNode = execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim();
    assert.notEqual(systemNode, 'v22.12.0', 'PATH has another node for a wrong exec to find');
    // The receipt becomes a FIFO: qm exec's lookup of the tree blocks on it, and the test knows
    // the moment it happens. Then the tree goes (as uninstall or gc would take it), and only then
    // does the lookup get its answer: "installed".
    const receipt = path.join(tree(), '.qm-receipt.json');
    const text = await fs.readFile(receipt);
    await fs.rm(receipt);
    execFileSync('mkfifo', [receipt]);
    const exec = spawnQm(['exec', 'node@22.12.0', '--', 'node', '--version'], { cwd: home, env: { ...env(), PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` } });
    children.push(exec);
    const fifo = await openWhenRead(receipt);
    await fs.rename(tree(), `${tree()}.elsewhere`);
    await fifo.write(text);
    await fifo.close();
    const { code } = await exec.exited;
    const printed = exec.stdout.join('\n').trim();
    assert.notEqual(printed, systemNode, `qm exec ran another node (exit ${code})`);
    if (code === 0) assert.equal(printed, 'v22.12.0', 'ran the toolchain it was asked for, installed again');
    else assert.match(exec.stderr.join('\n'), /ENOTINSTALLED/);
  });
});
