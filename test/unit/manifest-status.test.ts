import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CoordinatorService } from '../../src/core/coordinator/service';
import { isQmError } from '../../src/core/errors';
import { writeLockfile } from '../../src/core/lockfile/qm-lock';
import { loadManifest } from '../../src/core/manifest/find';
import { parsePlatform } from '../../src/core/platform';
import { lockfileFor, resolvePlan } from '../../src/core/plan/plan';
import { createCore, type CoreServices } from '../../src/core/services';
import { manifestStatus, missingTools, statusInForce, type ManifestStatus, type ManifestStatusOptions } from '../../src/core/workspace/manifest-status';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../fixtures/go-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist } from '../fixtures/zig-dist';
import { tempHome } from '../helpers/temp-home';

const LINUX = parsePlatform('linux-x64');
const MANIFEST = '[tools]\nnode = "22"\ngo = "1.23"\nzig = "0.13"\n';
/** Everything a provider reads to resolve the specs above; archives are not indexes. */
const INDEX_PATHS = ['/dist/index.json', '/dist/v22.12.0/SHASUMS256.txt', '/dist/v22.11.0/SHASUMS256.txt', '/dl/', '/download/index.json'];

describe('manifestStatus: each declared tool resolved, installed, locked, through a real coordinator', () => {
  let server: MirrorServer;
  let root: string;
  let dispose: () => Promise<void>;
  let project: string;
  let file: string;
  const cores: CoreServices[] = [];

  before(async () => {
    server = await MirrorServer.start();
    await Promise.all([
      publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] }),
      publishGoDist(server, DEFAULT_GO_RELEASES, { platforms: ['linux-amd64'] }),
      publishZigDist(server, DEFAULT_ZIG_RELEASES, { platforms: ['x86_64-linux'] }),
    ]);
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home: root, dispose } = await tempHome('qm-status-'));
    project = path.join(root, 'project');
    await fs.mkdir(project);
    file = path.join(project, 'qm.toml');
    await fs.writeFile(file, MANIFEST);
    server.resetStats();
  });
  afterEach(async () => {
    await Promise.all(cores.splice(0).map((core) => core.close()));
    await dispose();
  });

  /** A core with its own QM_HOME (so its own, empty, index cache) over the mirror. */
  function core(name = 'qm'): CoreServices {
    const created = createCore({
      home: path.join(root, name),
      env: {},
      mirrors: { node: `${server.url}/dist`, go: `${server.url}/dl`, zig: `${server.url}/download` },
    });
    cores.push(created);
    return created;
  }

  function coordinator(): CoordinatorService {
    return new CoordinatorService(core(), LINUX);
  }

  function status(source: CoordinatorService, options: Partial<ManifestStatusOptions> = {}): Promise<ManifestStatus> {
    return manifestStatus(file, source, { platform: 'linux-x64', network: true, ...options });
  }

  /** What `qm lock` writes, from a core of its own so the coordinator's index cache stays empty. */
  async function lockManifest(): Promise<void> {
    const manifest = await loadManifest(file);
    const plan = await resolvePlan(manifest, { providers: core('locker').providers, platform: LINUX });
    await writeLockfile(path.join(project, 'qm.lock'), lockfileFor(plan, undefined));
    server.resetStats();
  }

  function indexRequests(): Record<string, number> {
    return Object.fromEntries(INDEX_PATHS.map((p) => [p, server.stats(p).requests]));
  }
  const NO_INDEX_REQUESTS = Object.fromEntries(INDEX_PATHS.map((p) => [p, 0]));

  const summary = (s: ManifestStatus): unknown[] => s.tools.map((t) => [t.name, t.spec, t.version, t.installed, t.locked, t.error?.code]);

  it('resolves every spec; nothing is installed yet, so every tool is missing', async () => {
    const result = await status(coordinator());
    assert.equal(result.file, file);
    assert.equal(result.dir, project);
    assert.equal(result.error, undefined);
    assert.deepEqual(summary(result), [
      ['node', '22', '22.12.0', false, false, undefined],
      ['go', '1.23', '1.23.4', false, false, undefined],
      ['zig', '0.13', '0.13.0', false, false, undefined],
    ]);
    assert.deepEqual(result.tools.map((t) => t.binPaths), [[], [], []]);
    assert.deepEqual(result.tools.map((t) => t.request), [{ name: 'node', spec: '22' }, { name: 'go', spec: '1.23' }, { name: 'zig', spec: '0.13' }]);
    assert.deepEqual(missingTools(result).map((t) => t.name), ['node', 'go', 'zig']);
  });

  it('an install through the coordinator shows as installed, with its bin directories', async () => {
    const service = coordinator();
    const initial = await status(service);
    const node = initial.tools.find((t) => t.name === 'node')!;
    const installed = await service.install({ jobId: 'status-1', requester: { kind: 'command', pid: process.pid, label: 'test' }, tools: [node.request] });

    const result = await status(service);
    const now = result.tools.find((t) => t.name === 'node')!;
    assert.equal(now.installed, true);
    assert.equal(now.version, '22.12.0');
    assert.deepEqual(now.binPaths, installed.tools[0]!.binPaths);
    assert.ok(now.binPaths.length > 0);
    await fs.access(path.join(now.binPaths[0]!, 'node'), fs.constants.X_OK);
    assert.deepEqual(missingTools(result).map((t) => t.name), ['go', 'zig']);
  });

  it('follows a matching qm.lock exactly, without reading any index', async () => {
    // A lock written when 22.11.0 was the newest 22: following it must not pick up 22.12.0.
    const manifest = await loadManifest(file);
    const old = await resolvePlan({ ...manifest, tools: [{ name: 'node', spec: '22.11.0' }, ...manifest.tools.slice(1)] }, { providers: core('locker').providers, platform: LINUX });
    const lock = lockfileFor(old, undefined);
    lock.tools = lock.tools.map((t) => (t.name === 'node' ? { ...t, spec: '22' } : t));
    await writeLockfile(path.join(project, 'qm.lock'), lock);
    server.resetStats();

    const service = coordinator();
    const locked = await status(service);
    assert.deepEqual(summary(locked), [
      ['node', '22', '22.11.0', false, true, undefined],
      ['go', '1.23', '1.23.4', false, true, undefined],
      ['zig', '0.13', '0.13.0', false, true, undefined],
    ]);
    const { name: _name, spec: _spec, platform: _platform, ...pinned } = lock.tools.find((t) => t.name === 'node')!;
    assert.deepEqual(locked.tools[0]!.request.locked, pinned);
    assert.deepEqual(indexRequests(), NO_INDEX_REQUESTS);

    // Installing the request it hands out installs the locked build, which then shows as installed.
    await service.install({ jobId: 'status-locked', requester: { kind: 'command', pid: process.pid, label: 'test' }, tools: [locked.tools[0]!.request] });
    assert.deepEqual(summary(await status(service))[0], ['node', '22', '22.11.0', true, true, undefined]);
    assert.deepEqual(indexRequests(), NO_INDEX_REQUESTS);

    // The same coordinator without the lock does read the indexes: the zeros above were the lock's doing.
    await fs.rm(path.join(project, 'qm.lock'));
    const unlocked = await status(service);
    assert.deepEqual(summary(unlocked)[0], ['node', '22', '22.12.0', false, false, undefined]);
    assert.equal(server.stats('/dist/index.json').requests, 1);
    assert.equal(server.stats('/dl/').requests, 1);
    assert.equal(server.stats('/download/index.json').requests, 1);
  });

  it('network: false resolves only from qm.lock: unlocked tools are EUNTRUSTED and nothing is fetched', async () => {
    const service = coordinator();
    const untrusted = await status(service, { network: false });
    assert.deepEqual(summary(untrusted), [
      ['node', '22', undefined, false, false, 'EUNTRUSTED'],
      ['go', '1.23', undefined, false, false, 'EUNTRUSTED'],
      ['zig', '0.13', undefined, false, false, 'EUNTRUSTED'],
    ]);
    assert.deepEqual(missingTools(untrusted), []);
    assert.deepEqual(indexRequests(), NO_INDEX_REQUESTS);

    await lockManifest();
    const locked = await status(service, { network: false });
    assert.deepEqual(summary(locked), [
      ['node', '22', '22.12.0', false, true, undefined],
      ['go', '1.23', '1.23.4', false, true, undefined],
      ['zig', '0.13', '0.13.0', false, true, undefined],
    ]);
    assert.deepEqual(missingTools(locked).map((t) => t.name), ['node', 'go', 'zig']);
    assert.deepEqual(indexRequests(), NO_INDEX_REQUESTS);

    // A lock that no longer matches (one spec edited) is not followed for any tool, as `qm install` would not.
    await fs.writeFile(file, MANIFEST.replace('zig = "0.13"', 'zig = "0.12"'));
    const stale = await status(service, { network: false });
    assert.deepEqual(stale.tools.map((t) => t.error?.code), ['EUNTRUSTED', 'EUNTRUSTED', 'EUNTRUSTED']);
    assert.deepEqual(indexRequests(), NO_INDEX_REQUESTS);
  });

  it('a spec that matches no release fails that tool alone (ENOVERSION)', async () => {
    await fs.writeFile(file, MANIFEST.replace('node = "22"', 'node = "99"'));
    const result = await status(coordinator());
    const [node, go, zig] = result.tools;
    assert.equal(node?.error?.code, 'ENOVERSION');
    assert.match(node.error.message, /99/);
    assert.equal(node.version, undefined);
    assert.deepEqual([go?.version, go?.error], ['1.23.4', undefined]);
    assert.deepEqual([zig?.version, zig?.error], ['0.13.0', undefined]);
    assert.deepEqual(missingTools(result).map((t) => t.name), ['go', 'zig']);
  });

  it('a manifest with a syntax error reports EMANIFEST, with what still parsed', async () => {
    await fs.writeFile(file, '[tools]\nnode = "22"\ngo = "1.23\n');
    const result = await status(coordinator());
    assert.equal(result.error?.code, 'EMANIFEST');
    assert.ok(result.error.message.startsWith(`${file}:3:`), result.error.message);
    assert.deepEqual(summary(result), [['node', '22', '22.12.0', false, false, undefined]]);
  });

  it('a missing manifest rejects with EMANIFEST', async () => {
    await fs.rm(file);
    await assert.rejects(status(coordinator()), (error) => isQmError(error, 'EMANIFEST') && error.message.includes(file));
  });
  describe('statusInForce: the last good manifest stays in force while the file cannot be used', () => {
    const options = { platform: 'linux-x64', network: true };

    it('a half-typed line keeps every tool of the last good version, and names line and column', async () => {
      const source = coordinator();
      const first = await statusInForce(await loadManifest(file), undefined, source, options);
      assert.equal(first.good?.tools.length, 3);
      assert.equal(first.status.heldBack, undefined);
      await fs.writeFile(file, '[tools]\nnode = "22"\ngo = "1.23"\npython =\nzig = "0.13"\n');
      const broken = await statusInForce(await loadManifest(file), first.good, source, options);
      assert.equal(broken.good, first.good, 'the last good one is still the last good one');
      assert.equal(broken.status.heldBack, true);
      assert.deepEqual(broken.status.tools.map((t) => `${t.name} ${t.version}`), ['node 22.12.0', 'go 1.23.4', 'zig 0.13.0']);
      assert.equal(broken.status.error?.code, 'EMANIFEST');
      assert.deepEqual(broken.status.error?.at, { file, line: 4, column: 8 });
      assert.match(broken.status.error?.reason ?? '', /No value after "="/);
    });

    it('a bad value (not a version, or no such release) is held back the same way; fixed, the file is in force again', async () => {
      const source = coordinator();
      const { good } = await statusInForce(await loadManifest(file), undefined, source, options);
      await fs.writeFile(file, '[tools]\nnode = "22 # exactly"\ngo = "1.23"\nzig = "0.13"\n');
      const notAVersion = await statusInForce(await loadManifest(file), good, source, options);
      assert.equal(notAVersion.status.heldBack, true);
      assert.equal(notAVersion.status.tools.find((t) => t.name === 'node')?.spec, '22');
      assert.deepEqual(notAVersion.status.error?.at, { file, line: 2, column: 8 });

      await fs.writeFile(file, '[tools]\nnode = "99.0.0"\ngo = "1.23"\nzig = "0.13"\n');
      const noRelease = await statusInForce(await loadManifest(file), good, source, options);
      assert.equal(noRelease.status.heldBack, true);
      assert.equal(noRelease.status.error?.code, 'ENOVERSION');
      assert.deepEqual(noRelease.status.error?.at, { file, line: 2, column: 8 });
      assert.equal(noRelease.status.tools.find((t) => t.name === 'node')?.version, '22.12.0', 'node 99.0.0 is not shown as in force');

      await fs.writeFile(file, '[tools]\nnode = "20"\n');
      const fixed = await statusInForce(await loadManifest(file), good, source, options);
      assert.equal(fixed.status.heldBack, undefined);
      assert.equal(fixed.status.error, undefined);
      assert.deepEqual(fixed.status.tools.map((t) => t.name), ['node']);
      assert.equal(fixed.good?.tools[0]?.spec, '20');
    });

    it('with no good version yet, the file is shown as it is, with its error', async () => {
      await fs.writeFile(file, '[tools]\nnode = "99.0.0"\n');
      const { status, good } = await statusInForce(await loadManifest(file), undefined, coordinator(), options);
      assert.equal(good, undefined);
      assert.equal(status.heldBack, undefined);
      assert.equal(status.error?.code, 'ENOVERSION');
      assert.equal(status.tools[0]?.version, undefined);
    });
  });
});
