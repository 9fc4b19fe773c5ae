import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError, type QmError, type QmErrorCode } from '../../src/core/errors';
import { parsePlatform } from '../../src/core/platform';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { createCore, type CoreServices } from '../../src/core/services';
import { parseMinisignKeys, verifyMinisign } from '../../src/core/signatures/minisign';
import { signaturePolicyFromEnv } from '../../src/core/signatures/policy';
import { BUILT_IN_TRUST } from '../../src/core/signatures/trust';
import { SignatureVerifier } from '../../src/core/signatures/verifier';
import { publishBunDist } from '../fixtures/bun-dist';
import { GITHUB_PREFIX } from '../fixtures/github-release';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { clearsign, makeMinisignKey, makePgpKey, minisign, type MinisignFixtureKey, type PgpFixtureKey } from '../fixtures/signing';
import { DEFAULT_ZIG_RELEASES, publishZigDist, type ZigArtifact } from '../fixtures/zig-dist';
import { listFiles, tempHome } from '../helpers/temp-home';

const LINUX = parsePlatform('linux-x64');

async function rejectsWith(promise: Promise<unknown>, code: QmErrorCode): Promise<QmError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(isQmError(error, code), `expected ${code}, got ${String(error)}`);
  return error;
}

describe('minisign (Zig .minisig)', () => {
  let dir: string;
  let dispose: () => Promise<void>;
  let key: MinisignFixtureKey;
  const data = Buffer.from('zig-linux-x86_64-0.13.0.tar.xz, pretend\n'.repeat(1000));
  beforeEach(async () => {
    ({ home: dir, dispose } = await tempHome());
    key = makeMinisignKey();
    await fs.writeFile(path.join(dir, 'file'), data);
  });
  afterEach(() => dispose());
  const file = (): string => path.join(dir, 'file');
  const keys = (): ReturnType<typeof parseMinisignKeys> => parseMinisignKeys(`untrusted comment: minisign public key\n${key.publicLine}\n`, 'test');

  it('accepts the prehashed (ED, BLAKE2b-512) and the legacy (Ed) signature, returning the trusted comment', async () => {
    assert.match(await verifyMinisign(file(), minisign(data, key, 'f').toString(), keys(), 'u'), /^timestamp:\d+\tfile:f\thashed$/);
    assert.match(await verifyMinisign(file(), minisign(data, key, 'f', { prehashed: false }).toString(), keys(), 'u'), /file:f/);
  });

  it('refuses another file, another key, an altered trusted comment and a malformed document, with ESIGNATURE', async () => {
    const other = minisign(Buffer.from('something else'), key, 'f').toString();
    assert.match((await rejectsWith(verifyMinisign(file(), other, keys(), 'https://x/zig.minisig'), 'ESIGNATURE')).message, /does not match the downloaded file/);
    const stranger = makeMinisignKey();
    assert.match((await rejectsWith(verifyMinisign(file(), minisign(data, stranger, 'f').toString(), keys(), 'u'), 'ESIGNATURE')).message, /which is not trusted/);
    const altered = minisign(data, key, 'f').toString().replace('file:f', 'file:g');
    assert.match((await rejectsWith(verifyMinisign(file(), altered, keys(), 'u'), 'ESIGNATURE')).message, /trusted comment .* was altered/);
    assert.match((await rejectsWith(verifyMinisign(file(), '<html>404</html>', keys(), 'u'), 'ESIGNATURE')).message, /malformed/);
  });

  it('Zig\'s own published key parses', () => {
    assert.equal(parseMinisignKeys('RWSGOq2NVecA2UPNdBUZykf1CCb147pkmdtYxgb3Ti+JO/wCYvhbAb/U', 'zig').length, 1);
    assert.throws(() => parseMinisignKeys('not a key', 'QM_KEYS_ZIG'), /not a minisign public key/);
  });

  it('QM_SIGNATURES is require, if-published or off', () => {
    assert.equal(signaturePolicyFromEnv({}).mode, 'if-published');
    assert.equal(signaturePolicyFromEnv({ QM_SIGNATURES: 'require', QM_KEYS_ZIG: '/k' }).keyFiles.zig, '/k');
    assert.throws(() => signaturePolicyFromEnv({ QM_SIGNATURES: 'yes' }), /QM_SIGNATURES must be/);
  });
});

describe('signatures where upstream signs, end to end through the installer', () => {
  let server: MirrorServer;
  let zig: ZigArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  let pgp: PgpFixtureKey;
  let stranger: PgpFixtureKey;
  let mini: MinisignFixtureKey;
  const cores: CoreServices[] = [];

  before(async () => {
    server = await MirrorServer.start();
    [pgp, stranger] = await Promise.all([makePgpKey(), makePgpKey('Someone Else')]);
    mini = makeMinisignKey();
    await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    zig = await publishZigDist(server, DEFAULT_ZIG_RELEASES, { platforms: ['x86_64-linux'] });
    await publishBunDist(server, undefined, { signWith: pgp });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    await fs.writeFile(path.join(home, 'node.asc'), pgp.publicArmored);
    await fs.writeFile(path.join(home, 'zig.pub'), `untrusted comment: minisign public key\n${mini.publicLine}\n`);
    await fs.writeFile(path.join(home, 'bun.asc'), pgp.publicArmored);
    server.resetStats();
  });
  afterEach(async () => {
    await Promise.all(cores.splice(0).map((core) => core.close()));
    await dispose();
  });

  const core = (extra: NodeJS.ProcessEnv = {}): CoreServices => {
    const created = createCore({
      home: path.join(home, `qm-${cores.length}`),
      env: {
        QM_MIRROR_NODE: `${server.url}/dist`,
        QM_MIRROR_ZIG: `${server.url}/download`,
        QM_MIRROR_GITHUB: `${server.url}${GITHUB_PREFIX}`,
        QM_KEYS_NODE: path.join(home, 'node.asc'),
        QM_KEYS_ZIG: path.join(home, 'zig.pub'),
        QM_KEYS_BUN: path.join(home, 'bun.asc'),
        ...extra,
      },
    });
    cores.push(created);
    return created;
  };
  const sums = async (version: string): Promise<string> => (await fetch(`${server.url}/dist/${version}/SHASUMS256.txt`)).text();
  const tarball = (version: string): ZigArtifact => zig.find((a) => a.version === version && a.platform === 'x86_64-linux')!;
  const bytes = async (urlPath: string): Promise<Buffer> => Buffer.from(await (await fetch(`${server.url}${urlPath}`)).arrayBuffer());

  it('Node: a SHASUMS256.txt.asc signed by a trusted key is checked and its signed list is used', async () => {
    server.addFile('/dist/v22.12.0/SHASUMS256.txt.asc', Buffer.from(await clearsign(await sums('v22.12.0'), pgp)));
    server.resetStats();
    const toolchain = await core().providers.node.resolve(parseVersionSpec('22.12.0'), LINUX);
    assert.match(toolchain.sha256, /^[0-9a-f]{64}$/);
    assert.equal(server.stats('/dist/v22.12.0/SHASUMS256.txt.asc').gets, 1);
    assert.equal(server.stats('/dist/v22.12.0/SHASUMS256.txt').gets, 0, 'the signed text is the list');
  });

  it('Node: signed by an untrusted key, or with a digest changed under the signature, is ESIGNATURE', async () => {
    server.addFile('/dist/v22.11.0/SHASUMS256.txt.asc', Buffer.from(await clearsign(await sums('v22.11.0'), stranger)));
    const untrusted = await rejectsWith(core().providers.node.resolve(parseVersionSpec('22.11.0'), LINUX), 'ESIGNATURE');
    assert.match(untrusted.message, /SHASUMS256\.txt\.asc .*does not verify with the trusted keys/);
    const signed = await clearsign(await sums('v20.18.1'), pgp);
    const tampered = signed.replace(/^[0-9a-f]{64}(?= {2}node-v20\.18\.1-linux-x64\.tar\.gz)/m, 'f'.repeat(64));
    assert.notEqual(tampered, signed);
    server.addFile('/dist/v20.18.1/SHASUMS256.txt.asc', Buffer.from(tampered));
    await rejectsWith(core().providers.node.resolve(parseVersionSpec('20.18.1'), LINUX), 'ESIGNATURE');
  });

  it('Node: no SHASUMS256.txt.asc is ESIGNATURE under QM_SIGNATURES=require, and only the checksums otherwise', async () => {
    const error = await rejectsWith(core({ QM_SIGNATURES: 'require' }).providers.node.resolve(parseVersionSpec('18'), LINUX), 'ESIGNATURE');
    assert.match(error.message, /No signature is published at https:\/\/nodejs\.org\/dist\/v18\.20\.4\/SHASUMS256\.txt\.asc/);
    const resolved = await core().providers.node.resolve(parseVersionSpec('18'), LINUX);
    assert.equal(resolved.version, '18.20.4');
  });

  it('Zig: a good .minisig installs; a bad one is ESIGNATURE and nothing is published, not even the blob', async () => {
    const good = tarball('0.13.0');
    server.addFile(`${good.path}.minisig`, minisign(await bytes(good.path), mini, path.posix.basename(good.path)));
    const ok = core();
    const installed = await ok.installer.install(await ok.providers.zig.resolve(parseVersionSpec('0.13.0'), LINUX));
    assert.equal(installed.installed, true);

    const bad = tarball('0.12.1');
    server.addFile(`${bad.path}.minisig`, minisign(Buffer.from('another file'), mini, path.posix.basename(bad.path)));
    const refused = core();
    const toolchain = await refused.providers.zig.resolve(parseVersionSpec('0.12.1'), LINUX);
    const error = await rejectsWith(refused.installer.install(toolchain), 'ESIGNATURE');
    assert.match(error.message, /zig-linux-x86_64-0\.12\.1\.tar\.xz\.minisig does not match the downloaded file/);
    assert.equal(await refused.installer.find(toolchain), undefined);
    assert.deepEqual(await listFiles(refused.layout.toolchainsDir), []);
    assert.deepEqual(await listFiles(refused.layout.blobsDir), [], 'the refused archive is not kept');
    assert.deepEqual(await listFiles(refused.layout.tmpDir), []);
  });

  it('Zig: a missing .minisig is ESIGNATURE under QM_SIGNATURES=require; qm.lock entries are checked too', async () => {
    const strict = core({ QM_SIGNATURES: 'require' });
    const toolchain = await strict.providers.zig.resolve(parseVersionSpec('0.11.0'), LINUX);
    assert.ok(toolchain.signature);
    await rejectsWith(strict.installer.install(toolchain), 'ESIGNATURE');
    const relaxed = core();
    assert.equal((await relaxed.installer.install(await relaxed.providers.zig.resolve(parseVersionSpec('0.11.0'), LINUX))).installed, true);
    const off = core({ QM_SIGNATURES: 'off' });
    assert.equal((await off.providers.zig.resolve(parseVersionSpec('0.11.0'), LINUX)).signature, undefined);
  });

  it('Bun: SHASUMS256.txt.asc is checked with QM_KEYS_BUN; an untrusted signer is ESIGNATURE; with no key configured only the checksums are used', async () => {
    const resolved = await core().providers.bun.resolve(parseVersionSpec('1.1'), LINUX);
    assert.equal(resolved.version, '1.1.38');
    await fs.writeFile(path.join(home, 'bun.asc'), stranger.publicArmored);
    await rejectsWith(core().providers.bun.resolve(parseVersionSpec('1.1'), LINUX), 'ESIGNATURE');
    const noKey = core({ QM_KEYS_BUN: '' });
    assert.equal((await noKey.providers.bun.resolve(parseVersionSpec('1.1'), LINUX)).version, '1.1.38');
    await rejectsWith(core({ QM_KEYS_BUN: '', QM_SIGNATURES: 'require' }).providers.bun.resolve(parseVersionSpec('1.1'), LINUX), 'ESIGNATURE');
  });
});

describe("Node's default trust: pinned fingerprints, keys fetched from release-keys", () => {
  let server: MirrorServer;
  let dir: string;
  let dispose: () => Promise<void>;
  let releaser: PgpFixtureKey;
  let impostor: PgpFixtureKey;

  before(async () => {
    server = await MirrorServer.start();
    [releaser, impostor] = await Promise.all([makePgpKey('Releaser'), makePgpKey('Impostor')]);
    await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    const sums = await (await fetch(`${server.url}/dist/v22.12.0/SHASUMS256.txt`)).text();
    server.addFile('/dist/v22.12.0/SHASUMS256.txt.asc', Buffer.from(await clearsign(sums, releaser)));
  });
  after(() => server.close());
  beforeEach(async () => ({ home: dir, dispose } = await tempHome()));
  afterEach(() => dispose());

  /** A verifier trusting `fingerprint` as trust.ts trusts Node's releasers, keys served where release-keys has them. */
  const verifierFor = (fingerprint: string, served: PgpFixtureKey): { core: CoreServices; verifier: SignatureVerifier } => {
    server.addFile(`${GITHUB_PREFIX}/raw/nodejs/release-keys/HEAD/keys/${fingerprint}.asc`, Buffer.from(served.publicArmored));
    const core = createCore({ home: path.join(dir, `qm-${Math.random()}`), env: { QM_MIRROR_NODE: `${server.url}/dist`, QM_MIRROR_GITHUB: `${server.url}${GITHUB_PREFIX}` } });
    const upstream = BUILT_IN_TRUST.node;
    const keyUrl = (pinned: string): string => (upstream?.kind === 'pgp' ? upstream.keyUrl(pinned) : '');
    const trust = { node: { kind: 'pgp' as const, fingerprints: [fingerprint], keyUrl } };
    return { core, verifier: new SignatureVerifier(core.indexes, { mode: 'require', keyFiles: {} }, undefined, trust) };
  };

  it('a key whose fingerprint is pinned verifies the release', async () => {
    const { core, verifier } = verifierFor(releaser.fingerprint, releaser);
    const text = await verifier.clearsigned('node', 'https://nodejs.org/dist/v22.12.0/SHASUMS256.txt.asc');
    assert.match(text ?? '', /node-v22\.12\.0-linux-x64\.tar\.gz/);
    await core.close();
  });

  it('a key served under a pinned fingerprint that is another key is refused: the URL is not the trust', async () => {
    const { core, verifier } = verifierFor(releaser.fingerprint, impostor);
    const error = await rejectsWith(verifier.clearsigned('node', 'https://nodejs.org/dist/v22.12.0/SHASUMS256.txt.asc'), 'ESIGNATURE');
    assert.match(error.message, /None of node's release keys could be loaded/);
    await core.close();
  });
});
