import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { refreshLockfile } from '../../src/core/project/lock-refresh';
import { lockMismatch, readLockfile, writeLockfile, type Lockfile } from '../../src/core/lockfile/qm-lock';
import { loadManifest } from '../../src/core/manifest/find';
import { parsePlatform } from '../../src/core/platform';
import { lockfileFor, resolvePlan } from '../../src/core/plan/plan';
import { createCore, type CoreServices } from '../../src/core/services';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../fixtures/go-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { tempHome } from '../helpers/temp-home';

const LINUX = parsePlatform('linux-x64');
const MAC = parsePlatform('darwin-arm64');
const MANIFEST = '[tools]\nnode = "20"\ngo = "1.23"\n';

describe('refreshLockfile: an existing qm.lock follows an edited manifest', () => {
  let server: MirrorServer;
  let root: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;
  let locker: CoreServices;
  let file: string;
  let lockFile: string;

  before(async () => {
    server = await MirrorServer.start();
    await Promise.all([
      publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64', 'darwin-arm64'] }),
      publishGoDist(server, DEFAULT_GO_RELEASES, { platforms: ['linux-amd64', 'darwin-arm64'] }),
    ]);
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home: root, dispose } = await tempHome('qm-refresh-'));
    const mirrors = { node: `${server.url}/dist`, go: `${server.url}/dl` };
    core = createCore({ home: path.join(root, 'qm'), env: {}, mirrors });
    // qm.lock is written by a core of its own, so `core`'s index cache starts empty.
    locker = createCore({ home: path.join(root, 'locker'), env: {}, mirrors });
    const project = path.join(root, 'project');
    await fs.mkdir(project);
    file = path.join(project, 'qm.toml');
    lockFile = path.join(project, 'qm.lock');
    await fs.writeFile(file, MANIFEST);
  });
  afterEach(async () => {
    await Promise.all([core.close(), locker.close()]);
    await dispose();
  });

  /** `qm lock --platform linux-x64 --platform darwin-arm64` for the manifest as it is now. */
  async function lockForBothPlatforms(): Promise<void> {
    const manifest = await loadManifest(file);
    let lock: Lockfile | undefined;
    for (const platform of [LINUX, MAC]) lock = lockfileFor(await resolvePlan(manifest, { providers: locker.providers, platform }), lock);
    await writeLockfile(lockFile, lock!);
    server.resetStats();
  }

  const entries = (lock: Lockfile | undefined): string[] => (lock?.tools ?? []).map((t) => `${t.name} ${t.spec} ${t.version} ${t.platform}`).sort();
  const indexRequests = (): number => server.stats('/dist/index.json').requests + server.stats('/dl/').requests;

  it('without a qm.lock does nothing: none is created and no index is read', async () => {
    server.resetStats();
    assert.equal(await refreshLockfile(file, core, LINUX), undefined);
    await assert.rejects(fs.access(lockFile), { code: 'ENOENT' });
    assert.deepEqual(await fs.readdir(path.dirname(file)), ['qm.toml']);
    assert.equal(indexRequests(), 0);
  });

  it('leaves a qm.lock that still matches byte for byte', async () => {
    await lockForBothPlatforms();
    const original = await fs.readFile(lockFile);
    assert.equal(await refreshLockfile(file, core, LINUX), undefined);
    assert.deepEqual(await fs.readFile(lockFile), original);
    assert.deepEqual((await fs.readdir(path.dirname(file))).sort(), ['qm.lock', 'qm.toml']);
    assert.equal(indexRequests(), 0);
  });

  it('rewrites it after a spec changes: the new version for this platform, other platforms\' unchanged specs kept', async () => {
    await lockForBothPlatforms();
    assert.deepEqual(entries(await readLockfile(lockFile)), [
      'go 1.23 1.23.4 darwin-arm64',
      'go 1.23 1.23.4 linux-x64',
      'node 20 20.18.1 darwin-arm64',
      'node 20 20.18.1 linux-x64',
    ]);
    await fs.writeFile(file, MANIFEST.replace('node = "20"', 'node = "22"'));

    assert.equal(await refreshLockfile(file, core, LINUX), lockFile);
    const lock = await readLockfile(lockFile);
    // darwin-arm64's node entry was for the old spec: it goes, rather than pin the wrong version there.
    assert.deepEqual(entries(lock), ['go 1.23 1.23.4 darwin-arm64', 'go 1.23 1.23.4 linux-x64', 'node 22 22.12.0 linux-x64']);
    const node = lock!.tools.find((t) => t.name === 'node')!;
    assert.equal(node.url, 'https://nodejs.org/dist/v22.12.0/node-v22.12.0-linux-x64.tar.gz');
    assert.match(node.sha256, /^[0-9a-f]{64}$/);
    assert.equal(lockMismatch(await loadManifest(file), lock!, 'linux-x64'), undefined);
    assert.deepEqual((await fs.readdir(path.dirname(file))).sort(), ['qm.lock', 'qm.toml']);

    // Now it matches again: a second refresh changes nothing.
    const written = await fs.readFile(lockFile);
    assert.equal(await refreshLockfile(file, core, LINUX), undefined);
    assert.deepEqual(await fs.readFile(lockFile), written);
  });

  it('drops every platform\'s entries of a tool no longer declared', async () => {
    await lockForBothPlatforms();
    await fs.writeFile(file, '[tools]\nnode = "20"\n');
    assert.equal(await refreshLockfile(file, core, LINUX), lockFile);
    assert.deepEqual(entries(await readLockfile(lockFile)), ['node 20 20.18.1 darwin-arm64', 'node 20 20.18.1 linux-x64']);
  });
});
