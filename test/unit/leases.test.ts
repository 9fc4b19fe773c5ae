import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { LeaseManager } from '../../src/core/install/leases';
import { collectGarbage } from '../../src/core/maintenance/gc';
import { uninstallToolchain } from '../../src/core/maintenance/uninstall';
import { parsePlatform } from '../../src/core/platform';
import type { ResolvedToolchain } from '../../src/core/providers/types';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { createCore, type CoreServices } from '../../src/core/services';
import { currentProcess } from '../../src/core/store/process-identity';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { listFiles, tempHome } from '../helpers/temp-home';

describe('readers never lose their toolchain; gc never fails an install', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;
  let toolchain: ResolvedToolchain;

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 256 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home, env: { QM_MIRROR_NODE: `${server.url}/dist` } });
    toolchain = await core.providers.node.resolve(parseVersionSpec('22.12.0'), parsePlatform('linux-x64'));
    server.resetStats();
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  it('a leased toolchain is neither uninstalled nor collected; once released it goes', async () => {
    const { dir } = await core.installer.install(toolchain);
    const lease = await core.leases.hold(toolchain, { purpose: 'a terminal in VS Code' });
    await assert.rejects(uninstallToolchain(core, toolchain), (error) => isQmError(error, 'ELOCKED') && /in use by pid \d+ \(a terminal in VS Code\)/.test(error.message));
    const gc = await collectGarbage(core, { blobGraceMs: 0 });
    assert.deepEqual(gc.removed.filter((item) => item.kind === 'toolchain'), []);
    assert.match(gc.busy[0]?.reason ?? '', /in use by pid/);
    await fs.access(path.join(dir, 'bin', 'node'));
    lease.dispose();
    await lease.release();
    await uninstallToolchain(core, toolchain);
    await assert.rejects(fs.access(dir));
    assert.deepEqual(await listFiles(path.join(core.layout.stateDir, 'leases')), [], 'no lease left');
  });

  it('a lease is only given for a tree that is there, checked after the lease is written', async () => {
    await assert.rejects(core.leases.hold(toolchain, { purpose: 'qm exec node' }), (error) => isQmError(error, 'ENOTINSTALLED'));
    assert.deepEqual(await listFiles(path.join(core.layout.stateDir, 'leases')), []);
  });

  it('a reader that comes after the remover\'s check waits for the removal, then hears the tree is gone', async () => {
    const { dir } = await core.installer.install(toolchain);
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    let checked!: () => void;
    const removerChecked = new Promise<void>((resolve) => (checked = resolve));
    const removal = core.leases.removeUnlessLeased(toolchain, 'qm gc', async () => {
      checked(); // the remover has found no reader and is about to move the tree
      await gate;
      await fs.rename(dir, `${dir}.gone`);
      return true;
    });
    await removerChecked;
    // Each try of the reader writes its lease and takes it back on seeing the removal marker.
    const leaseDir = path.join(core.layout.stateDir, 'leases', 'node', '22.12.0-linux-x64');
    let tries = 0;
    let triedTwice!: () => void;
    const twice = new Promise<void>((resolve) => (triedTwice = resolve));
    const watcher = watch(leaseDir, (_event, name) => {
      if (name?.startsWith('reader.') && ++tries >= 4) triedTwice();
    });
    const reading = core.leases.hold(toolchain, { purpose: 'qm exec node' });
    let settled = false;
    void reading.then(() => (settled = true), () => (settled = true));
    await twice;
    watcher.close();
    assert.equal(settled, false, 'the reader does not trust a tree being removed');
    letGo();
    assert.deepEqual(await removal, { removed: true, heldBy: [] });
    await assert.rejects(reading, (error) => isQmError(error, 'ENOTINSTALLED'));
  });

  it('a dead reader\'s lease does not keep a tree; a child\'s lease outlives its parent\'s', async () => {
    await core.installer.install(toolchain);
    const child = spawn('sleep', ['60']);
    await once(child, 'spawn');
    const lease = await core.leases.hold(toolchain, { purpose: 'qm exec sleep' });
    await lease.addHolder(child.pid!);
    // The parent's own lease file goes (as if qm exec were SIGKILLed); the child still runs from the tree.
    const ours = (await fs.readdir(path.join(core.layout.stateDir, 'leases', 'node', '22.12.0-linux-x64'))).filter((n) => n.includes(`.${process.pid}.`));
    for (const name of ours) await fs.rm(path.join(core.layout.stateDir, 'leases', 'node', '22.12.0-linux-x64', name));
    await assert.rejects(uninstallToolchain(core, toolchain), (error) => isQmError(error, 'ELOCKED') && error.message.includes(`pid ${child.pid}`));
    child.kill('SIGKILL');
    await once(child, 'exit');
    await uninstallToolchain(core, toolchain);
    await lease.release();

    const dead = new LeaseManager(core.layout, { identity: { ...currentProcess(), pid: child.pid!, startTime: 1 } });
    await core.installer.install(toolchain);
    await dead.hold(toolchain, { purpose: 'a reader that died' });
    await uninstallToolchain(core, toolchain);
  });

  it('an install whose stored blob gc removes between finding and opening it fetches it again', async () => {
    await core.installer.install(toolchain);
    await uninstallToolchain(core, toolchain);
    const archive = artifacts.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz')!;
    assert.equal(server.stats(archive.path).gets, 1);
    // The interleaving gc can produce (it takes no lock the finder holds): the blob is there when
    // the install looks, and gone when it opens it.
    const fetchBlob = core.manager.fetchBlob.bind(core.manager);
    let vanished = 0;
    core.manager.fetchBlob = async (request) => {
      const blob = await fetchBlob(request);
      if (vanished++ === 0) await fs.rm(blob.path);
      return blob;
    };
    const installed = await core.installer.install(toolchain);
    assert.equal(installed.installed, true);
    assert.equal(server.stats(archive.path).gets, 2, 'fetched again');
    await fs.access(path.join(installed.dir, 'bin', 'node'));
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });
});
