import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { parsePlatform } from '../../src/core/platform';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { createCore, type CoreServices } from '../../src/core/services';
import type { ResolvedToolchain } from '../../src/core/providers/types';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const LINUX = parsePlatform('linux-x64');

describe('Installer: extraction overlapping the download, under faults', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 3 * 1024 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home, env: { QM_MIRROR_NODE: `${server.url}/dist` } });
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  const resolve = (spec: string): Promise<ResolvedToolchain> => core.providers.node.resolve(parseVersionSpec(spec), LINUX);
  const archivePath = (version: string): string => artifacts.find((a) => a.version === version && a.ext === 'tar.gz')!.path;

  async function assertTree(dir: string, version: string): Promise<void> {
    assert.equal((await run(path.join(dir, 'bin', 'node'), ['--version'])).stdout.trim(), version);
    assert.equal((await fs.stat(path.join(dir, 'lib', 'payload.bin'))).size, 3 * 1024 * 1024);
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  }

  it('installs once, publishes with a receipt, and a second install finds it', async () => {
    const toolchain = await resolve('22.12.0');
    const first = await core.installer.install(toolchain);
    assert.equal(first.installed, true);
    await assertTree(first.dir, 'v22.12.0');
    const second = await core.installer.install(toolchain);
    assert.equal(second.installed, false);
    assert.equal(server.stats(archivePath('v22.12.0')).gets, 1);
    assert.deepEqual((await core.installer.list()).map((t) => t.version), ['22.12.0']);
  });

  it('keeps extracting across a resumed download (Range)', async () => {
    server.fault(archivePath('v22.11.0'), { kind: 'drop', afterBytes: 1024 * 1024, times: 1 });
    const installed = await core.installer.install(await resolve('22.11.0'));
    assert.equal(server.stats(archivePath('v22.11.0')).rangeRequests, 1);
    await assertTree(installed.dir, 'v22.11.0');
  });

  it('starts the extraction over when the download restarts from zero', async () => {
    server.fault(archivePath('v20.18.1'), { kind: 'drop', afterBytes: 1024 * 1024, times: 1 });
    server.fault(archivePath('v20.18.1'), { kind: 'ignoreRange', times: 1 });
    const installed = await core.installer.install(await resolve('20.18.1'));
    assert.equal(server.stats(archivePath('v20.18.1')).rangeRequests, 1);
    assert.equal(server.stats(archivePath('v20.18.1')).fullBodies, 1);
    await assertTree(installed.dir, 'v20.18.1');
  });

  it('discards what a corrupt body unpacked, and installs from the good second download', async () => {
    server.fault(archivePath('v20.18.0'), { kind: 'corrupt', atByte: 2 * 1024 * 1024, times: 1 });
    const installed = await core.installer.install(await resolve('20.18.0'));
    assert.equal(server.stats(archivePath('v20.18.0')).gets, 2);
    await assertTree(installed.dir, 'v20.18.0');
  });

  it('publishes nothing when every body is corrupt', async () => {
    server.fault(archivePath('v18.20.4'), { kind: 'corrupt', atByte: 100, times: 5 });
    await assert.rejects(core.installer.install(await resolve('18.20.4')), (error) => isQmError(error, 'EINTEGRITY'));
    assert.deepEqual(await core.installer.list(), []);
    assert.deepEqual(await listFiles(core.layout.toolchainsDir), []);
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });

  it('unpacks from the stored blob when the archive is already downloaded', async () => {
    const toolchain = await resolve('23.3.0');
    await core.manager.fetchBlob({ url: toolchain.url, sha256: toolchain.sha256 });
    const installed = await core.installer.install(toolchain);
    assert.equal(server.stats(archivePath('v23.3.0')).gets, 1);
    await assertTree(installed.dir, 'v23.3.0');
  });

  it('shares one install among concurrent callers and lets a cancelled one go', async () => {
    const toolchain = await resolve('22.12.0');
    server.fault(archivePath('v22.12.0'), { kind: 'throttle', bytesPerSecond: 4 * 1024 * 1024 });
    const quitter = new AbortController();
    const cancelled = core.installer.install(toolchain, { signal: quitter.signal, onProgress: (p) => p.phase === 'downloading' && quitter.abort() });
    const results = await Promise.all([core.installer.install(toolchain), core.installer.install(toolchain), assert.rejects(cancelled, (e) => isQmError(e, 'ECANCELLED'))]);
    assert.equal(results[0].dir, results[1].dir);
    assert.equal(server.stats(archivePath('v22.12.0')).gets, 1);
    await assertTree(results[0].dir, 'v22.12.0');
  });
});
