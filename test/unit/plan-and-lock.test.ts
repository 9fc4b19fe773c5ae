import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { installPlan } from '../../src/core/install/install-plan';
import { formatLockfile, lockMismatch, parseLockfile, readLockfile, writeLockfile } from '../../src/core/lockfile/qm-lock';
import { parseQmToml } from '../../src/core/manifest/qm-toml';
import { parsePlatform } from '../../src/core/platform';
import { lockfileFor, resolvePlan } from '../../src/core/plan/plan';
import { createCore, type CoreServices } from '../../src/core/services';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { tempHome } from '../helpers/temp-home';

const LINUX = parsePlatform('linux-x64');

describe('plans: unique downloads by digest, before anything is fetched', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64', 'darwin-arm64'] });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home: path.join(home, 'qm'), env: { QM_MIRROR_NODE: `${server.url}/dist` } });
    server.resetStats();
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  it('artifacts and toolchains that share a digest share one download', async () => {
    const node = artifacts.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz' && a.platform === 'linux-x64')!;
    // The same bytes at two more URLs, as a mirror or a vendored copy would serve them.
    const bytes = Buffer.from(await (await fetch(node.url)).arrayBuffer());
    server.addFile('/mirror-copy/node.tar.gz', bytes);
    server.addFile('/another-copy/node.tar.gz', bytes);
    server.resetStats();
    const text = [
      '[tools]',
      'node = "22.12.0"',
      '[artifacts.same-as-node]',
      `url = "${server.url}/mirror-copy/node.tar.gz"`,
      `sha256 = "${node.sha256}"`,
      'dest = "vendor/node.tar.gz"',
      '[artifacts.again]',
      `url = "${server.url}/another-copy/node.tar.gz"`,
      `sha256 = "${node.sha256.toUpperCase()}"`,
    ].join('\n');
    const manifest = parseQmToml(text, path.join(home, 'qm.toml'));
    assert.deepEqual(manifest.problems, []);
    const plan = await resolvePlan(manifest, { providers: core.providers, platform: LINUX });
    assert.equal(plan.downloads.length, 1);
    assert.deepEqual(plan.downloads[0]!.usedBy, ['node@22.12.0', 'artifact same-as-node', 'artifact again']);
    assert.equal(server.stats(node.path).requests, 0, 'resolving fetches no archive');

    const result = await installPlan(plan, core);
    assert.equal(server.stats(node.path).gets + server.stats('/mirror-copy/node.tar.gz').gets + server.stats('/another-copy/node.tar.gz').gets, 1);
    assert.equal(result.artifacts.find((a) => a.name === 'same-as-node')?.written, true);
    assert.equal((await fs.stat(path.join(home, 'vendor', 'node.tar.gz'))).size, node.size);
  });

  it('a lockfile round-trips, keeps other platforms, and says exactly what no longer matches', async () => {
    const manifest = parseQmToml('[tools]\nnode = "20"\n', path.join(home, 'qm.toml'));
    const plan = await resolvePlan(manifest, { providers: core.providers, platform: LINUX });
    const arm = await resolvePlan(manifest, { providers: core.providers, platform: parsePlatform('darwin-arm64') });
    const lock = lockfileFor(plan, lockfileFor(arm, undefined));
    assert.deepEqual(lock.tools.map((t) => `${t.name} ${t.version} ${t.platform}`).sort(), ['node 20.18.1 darwin-arm64', 'node 20.18.1 linux-x64']);
    const file = path.join(home, 'qm.lock');
    await writeLockfile(file, lock);
    const read = await readLockfile(file);
    assert.deepEqual(read, parseLockfile(formatLockfile(lock), file));
    assert.equal(lockMismatch(manifest, read, 'linux-x64'), undefined);
    assert.match(lockMismatch(parseQmToml('[tools]\nnode = "22"\n', 'qm.toml'), read, 'linux-x64')!, /node is "22" in qm\.toml but was locked as "20"/);
    assert.match(lockMismatch(manifest, read, 'win32-x64')!, /node is not locked for win32-x64/);
    assert.match(lockMismatch(parseQmToml('[tools]\nnode = "20"\nzig = "0.13.0"\n', 'qm.toml'), read, 'linux-x64')!, /zig is not locked/);

    server.resetStats();
    const locked = await resolvePlan(manifest, { providers: core.providers, platform: LINUX, locked: read });
    assert.equal(locked.tools[0]!.toolchain.sha256, plan.tools[0]!.toolchain.sha256);
    assert.equal(server.stats('/dist/index.json').requests, 0);
    await assert.rejects(
      resolvePlan(parseQmToml('[tools]\nnode = "18"\n', 'qm.toml'), { providers: core.providers, platform: LINUX, locked: read }),
      (error) => isQmError(error, 'ELOCKFILE'),
    );
  });

  it('a malformed lockfile is EMANIFEST with where and what to do', () => {
    assert.throws(() => parseLockfile('version = 1\n[[tool]]\nname = "node"\n', '/p/qm.lock'), (error) => {
      assert.ok(isQmError(error, 'EMANIFEST'));
      assert.match(error.message, /\/p\/qm\.lock: \[\[tool\]\] entry 1 needs name, spec, platform, version, url and sha256\. Delete it and run "qm lock"/);
      return true;
    });
    assert.throws(() => parseLockfile('version = 7\n', '/p/qm.lock'), /lockfile version 7 is not supported/);
    assert.throws(() => parseLockfile('version = \n', '/p/qm.lock'), (error) => isQmError(error, 'EMANIFEST') && /qm\.lock:\d+:[1-9]\d*: /.test(error.message));
  });
});
