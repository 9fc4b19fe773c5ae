import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { collectGarbage, gcFigures } from '../../src/core/maintenance/gc';
import { gcReport } from '../../src/core/maintenance/gc-report';
import { recordManifestUse } from '../../src/core/state/usage';
import { directorySize } from '../../src/core/store/disk-usage';
import { uninstallToolchain } from '../../src/core/maintenance/uninstall';
import { parsePlatform } from '../../src/core/platform';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { createCore, type CoreServices } from '../../src/core/services';
import type { InstalledToolchain } from '../../src/core/install/installer';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { ChildScript } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const LINUX = parsePlatform('linux-x64');

describe('uninstallToolchain: under the install lock, out of sight with one rename', () => {
  let server: MirrorServer;
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;
  const children: ChildScript[] = [];

  before(async () => {
    server = await MirrorServer.start();
    await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home, env: {}, mirrors: { node: `${server.url}/dist` } });
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await core.close();
    await dispose();
  });

  async function install(spec: string): Promise<InstalledToolchain> {
    return core.installer.install(await core.providers.node.resolve(parseVersionSpec(spec), LINUX));
  }

  /** A real process holding the lock an install of `toolchain` takes (test/helpers/hold-lock.ts). */
  async function holdInstallLock(toolchain: InstalledToolchain): Promise<ChildScript> {
    const child = new ChildScript('test/helpers/hold-lock.ts', [home, `toolchain-${toolchain.tool}-${toolchain.version}-${toolchain.platform}`]);
    children.push(child);
    const { locked } = await child.waitFor<{ locked: boolean }>((m) => 'locked' in m);
    assert.equal(locked, true);
    return child;
  }

  it('removes the tree, says how many bytes it freed, and leaves nothing in tmp', async () => {
    const installed = await install('22.12.0');
    const kept = await install('20.18.1');
    const result = await uninstallToolchain(core, installed);
    assert.equal(result.dir, installed.dir);
    assert.ok(result.bytes > 0, `bytes: ${result.bytes}`);
    await assert.rejects(fs.access(installed.dir), { code: 'ENOENT' });
    assert.equal(await core.installer.find(installed), undefined);
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
    assert.deepEqual(await fs.readdir(core.layout.tmpDir), []);
    // Its neighbour is untouched, and the lock was released: installing again works.
    assert.deepEqual((await core.installer.list()).map((t) => t.version), ['20.18.1']);
    assert.equal((await run(path.join(kept.dir, 'bin', 'node'), ['--version'])).stdout.trim(), 'v20.18.1');
    const again = await install('22.12.0');
    assert.equal(again.installed, true);
  });

  it('says ENOTINSTALLED for a toolchain that is not installed', async () => {
    await assert.rejects(uninstallToolchain(core, { tool: 'node', version: '22.12.0', platform: 'linux-x64' }), (error) => isQmError(error, 'ENOTINSTALLED'));
    // Removed already: the second attempt says so too.
    const installed = await install('22.12.0');
    await uninstallToolchain(core, installed);
    await assert.rejects(uninstallToolchain(core, installed), (error) => isQmError(error, 'ENOTINSTALLED'));
  });

  it('says ELOCKED, and leaves the tree alone, while another process holds its lock', async () => {
    const installed = await install('22.12.0');
    const files = await listFiles(installed.dir);
    const holder = await holdInstallLock(installed);

    await assert.rejects(uninstallToolchain(core, installed), (error) => isQmError(error, 'ELOCKED') && error.message.includes('22.12.0'));
    assert.deepEqual(await listFiles(installed.dir), files);
    assert.equal((await run(path.join(installed.dir, 'bin', 'node'), ['--version'])).stdout.trim(), 'v22.12.0');
    assert.equal((await core.installer.find(installed))?.dir, installed.dir);
    // Failing to take the lock did not take it from its holder.
    assert.equal((await core.manager.locks.owner(`toolchain-node-22.12.0-linux-x64`))?.pid, holder.pid);
  });

  it('gc removes the same way, and skips a toolchain whose lock is held', async () => {
    const busy = await install('22.12.0');
    const unused = await install('20.18.1');
    const holder = await holdInstallLock(busy);
    const result = await collectGarbage(core, { blobGraceMs: 0 });
    assert.deepEqual(result.removed.filter((r) => r.kind === 'toolchain').map((r) => r.path), [unused.dir]);
    assert.deepEqual(result.busy.filter((r) => r.kind === 'toolchain').map((r) => r.path), [busy.dir]);
    await assert.rejects(fs.access(unused.dir), { code: 'ENOENT' });
    assert.equal((await core.installer.find(busy))?.dir, busy.dir);
    // The holder's own temp file stays; nothing of the removed tree does.
    const { temp } = await holder.waitFor<{ temp: string }>((m) => 'temp' in m);
    assert.deepEqual(await listFiles(core.layout.tmpDir), [path.basename(temp)]);
  });
  it('gc says what it frees and what it keeps and why, and the figures add up to the cache', async () => {
    const project = path.join(home, 'project');
    await fs.mkdir(project);
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\n');
    await recordManifestUse(core.layout, path.join(project, 'qm.toml'));
    const used = await install('22.12.0');
    const unused = await install('20.18.1');
    // 20.18.1's archive is an hour and a minute old, 22.12.0's (kept anyway) and one stray download are fresh.
    const old = new Date(Date.now() - 61 * 60 * 1000);
    await fs.utimes(core.layout.blobPath(unused.receipt.sha256), old, old);
    const stray = core.layout.blobPath('ab'.repeat(32));
    await fs.mkdir(path.dirname(stray), { recursive: true });
    await fs.writeFile(stray, Buffer.alloc(3000));

    const preview = await collectGarbage(core, { dryRun: true });
    assert.equal(preview.cacheBytes, await directorySize(home));
    const figures = gcFigures(preview);
    assert.equal(figures.freed + figures.used + figures.recent + figures.busy + figures.other, figures.total);
    assert.deepEqual(preview.removed.map((item) => item.path).sort(), [unused.dir, core.layout.blobPath(unused.receipt.sha256)].sort());
    assert.deepEqual(preview.kept.filter((item) => item.because === 'recent').map((item) => [item.path, item.bytes]), [[stray, 3000]]);
    assert.deepEqual(preview.kept.filter((item) => item.kind === 'toolchain').map((item) => item.path), [used.dir]);
    const text = gcReport(preview, true);
    assert.match(text.headline, /^Frees [\d.]+ [KM]iB of the [\d.]+ [KM]iB cache \([\d.]+ [KM]iB left\)$/);
    assert.ok(text.lines.includes('  1 download fetched under an hour ago: an install may be about to unpack it, 2.9 KiB; a later clean-up removes it if still unused'), text.lines.join('\n'));
    assert.ok(text.lines.some((line) => line.startsWith('    node 22.12.0 (linux-x64): used by ')), text.lines.join('\n'));

    const result = await collectGarbage(core);
    assert.equal(result.cacheBytes, preview.cacheBytes);
    assert.equal(result.cacheBytesAfter, await directorySize(home));
    // Removing took away exactly what it says it freed.
    assert.equal(result.cacheBytes - result.cacheBytesAfter, gcFigures(result).freed);
    assert.match(gcReport(result, false).headline, /^Freed /);
  });
});
