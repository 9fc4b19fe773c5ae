import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CoordinatorService } from '../../src/core/coordinator/service';
import { isQmError } from '../../src/core/errors';
import { parsePlatform } from '../../src/core/platform';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { createCore, type CoreServices } from '../../src/core/services';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { tempHome } from '../helpers/temp-home';

const LINUX = parsePlatform('linux-x64');
const VERSION = 'v22.12.0';
const SUMS = `/dist/${VERSION}/SHASUMS256.txt`;
const WRONG = 'f'.repeat(64);

/**
 * A mirror that served a bad SHASUMS256.txt, cached for an hour, and was then fixed: a missing
 * entry or a digest the download does not match fetches the checksum file again, once.
 */
describe('a bad SHASUMS256.txt in the index cache', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let goodSums: Buffer;
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 64 * 1024 });
    goodSums = Buffer.from(await (await fetch(`${server.url}${SUMS}`)).arrayBuffer());
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home, env: { QM_MIRROR_NODE: `${server.url}/dist` } });
    server.addFile(SUMS, goodSums);
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  const archive = (): PublishedArtifact => artifacts.find((a) => a.version === VERSION && a.ext === 'tar.gz')!;
  const archiveName = (): string => archive().path.split('/').pop()!;
  /** The checksum file as the mirror served it first: `edit` applied to every line. */
  const serveBadSums = (edit: (lines: string[]) => string[]): void =>
    void server.addFile(SUMS, Buffer.from(`${edit(goodSums.toString().trim().split('\n')).join('\n')}\n`));
  const resolve = () => core.providers.node.resolve(parseVersionSpec(VERSION), LINUX);

  it('an entry missing from the checksum file is EINDEX naming the mirror, after one fetch more', async () => {
    // Both archives of the platform (with only the .tar.gz gone, the .tar.xz would install).
    serveBadSums((lines) => lines.filter((line) => !line.endsWith(archiveName()) && !line.endsWith(archiveName().replace(/\.gz$/, '.xz'))));
    const error = await resolve().then(() => assert.fail('resolved'), (caught: unknown) => caught);
    assert.ok(isQmError(error, 'EINDEX'), String(error));
    assert.ok(error.message.includes(`${server.url}${SUMS}`), error.message);
    assert.ok(!error.message.includes('nodejs.org'), error.message);
    assert.equal(server.stats(SUMS).gets, 2);

    // The mirror is fixed; the bad copy is still in the cache, fresh for an hour.
    server.addFile(SUMS, goodSums);
    const toolchain = await resolve();
    assert.equal(toolchain.sha256, archive().sha256);
    assert.equal(server.stats(SUMS).gets, 3, 'the missing entry fetched the file again, once');
  });

  it('a digest the download does not match is rechecked once, and the corrected one installs', async () => {
    serveBadSums((lines) => lines.map((line) => (line.endsWith(archiveName()) ? `${WRONG}  ${archiveName()}` : line)));
    const toolchain = await resolve();
    assert.equal(toolchain.sha256, WRONG, 'the bad copy is what the cache holds');
    server.addFile(SUMS, goodSums);
    const installed = await core.installer.install(toolchain);
    assert.equal(installed.receipt.sha256, archive().sha256);
    assert.equal(server.stats(SUMS).gets, 2, 'the checksum file was fetched again once');
    assert.equal(server.stats(archive().path).gets, 3, 'two mismatching downloads, then the one that matches');
  });

  it('a digest that stays wrong after the recheck is EINTEGRITY naming the mirror, without looping', async () => {
    serveBadSums((lines) => lines.map((line) => (line.endsWith(archiveName()) ? `${WRONG}  ${archiveName()}` : line)));
    const error = await core.installer.install(await resolve()).then(() => assert.fail('installed'), (caught: unknown) => caught);
    assert.ok(isQmError(error, 'EINTEGRITY'), String(error));
    assert.ok(error.message.includes(`${server.url}${archive().path}`), error.message);
    assert.equal(server.stats(SUMS).gets, 2);
    assert.equal(server.stats(archive().path).gets, 2);
  });

  it('through the coordinator: a pin read from an index is rechecked, a pin from qm.lock is not', async () => {
    serveBadSums((lines) => lines.map((line) => (line.endsWith(archiveName()) ? `${WRONG}  ${archiveName()}` : line)));
    const pinned = await resolve();
    server.addFile(SUMS, goodSums);
    const service = new CoordinatorService(core, LINUX);
    const locked = { version: pinned.version, url: pinned.url, sha256: pinned.sha256 };
    const requester = { kind: 'cli', pid: process.pid, label: 'test' } as const;
    const fromLock = await service
      .install({ jobId: 'lock', requester, tools: [{ name: 'node', spec: VERSION, locked }] })
      .then(() => assert.fail('installed against qm.lock'), (caught: unknown) => caught);
    assert.ok(isQmError(fromLock, 'EINTEGRITY'), String(fromLock));
    assert.equal(server.stats(SUMS).gets, 1, 'qm.lock is the truth: no index read');
    const result = await service.install({ jobId: 'index', requester, tools: [{ name: 'node', spec: VERSION, locked: { ...locked, fromIndex: true } }] });
    assert.equal(result.tools[0]!.version, pinned.version);
    assert.equal(server.stats(SUMS).gets, 2);
  });
});
