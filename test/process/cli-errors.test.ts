import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { tarSegments, type TarEntry } from '../fixtures/ustar';
import { runQm } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** A one-release dist at `prefix` whose archive is whatever `entries` say, with a right or wrong checksum. */
function publishCustomRelease(server: MirrorServer, prefix: string, version: string, entries: TarEntry[], checksum: 'right' | 'wrong'): void {
  const archive = gzipSync(Buffer.concat(tarSegments(entries, { mtime: new Date('2024-01-01T00:00:00Z') })));
  const name = `node-${version}-linux-x64.tar.gz`;
  server.addFile(`${prefix}/${version}/${name}`, archive);
  const digest = checksum === 'right' ? sha256(archive) : sha256(Buffer.from('something else'));
  server.addFile(`${prefix}/${version}/SHASUMS256.txt`, Buffer.from(`${digest}  ${name}\n`));
  server.addFile(`${prefix}/index.json`, Buffer.from(JSON.stringify([{ version, date: '2024-01-01', files: ['linux-x64'], lts: false }])));
}

describe('qm on bad input: a clear error, the right exit code, nothing left behind', () => {
  let server: MirrorServer;
  let home: string;
  let project: string;
  let dispose: () => Promise<void>;

  before(async () => {
    server = await MirrorServer.start();
    await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    const top = 'node-v21.0.0-linux-x64';
    publishCustomRelease(server, '/wrong-sum', 'v21.0.0', [{ type: 'file', path: `${top}/bin/node`, mode: 0o755, body: Buffer.from('#!/bin/sh\necho v21.0.0\n') }], 'wrong');
    publishCustomRelease(
      server,
      '/escape',
      'v21.0.0',
      [
        { type: 'file', path: `${top}/bin/node`, mode: 0o755, body: Buffer.from('#!/bin/sh\necho v21.0.0\n') },
        { type: 'file', path: `${top}/../../../escaped.txt`, mode: 0o644, body: Buffer.from('outside') },
      ],
      'right',
    );
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    project = path.join(home, 'project');
    await fs.mkdir(project);
  });
  afterEach(() => dispose());

  const qm = (args: string[], mirror = '/dist') =>
    runQm(args, { cwd: project, env: { QM_HOME: path.join(home, 'qm'), QM_MIRROR_NODE: `${server.url}${mirror}`, QM_PLATFORM: 'linux-x64' } });

  async function assertNothingLeft(): Promise<void> {
    const qmHome = path.join(home, 'qm');
    // V8's code for qm's own bundles (cache/v8-compile) is kept whatever the command did.
    const files = (await listFiles(qmHome)).filter((f) => !f.startsWith('indexes/') && !f.startsWith('state/') && !f.startsWith('cache/v8-compile/'));
    assert.deepEqual(files, [], 'no toolchain, blob, temp file or lock is left');
    assert.deepEqual((await listFiles(home)).filter((f) => !f.startsWith('qm/') && !f.startsWith('project/')), [], 'nothing written outside');
  }

  const cases: Array<{ name: string; manifest?: string; args: string[]; mirror?: string; code: number; error: string; says: RegExp }> = [
    { name: 'a TOML syntax error', manifest: '[tools]\nnode = "22\n', args: ['install'], code: 2, error: 'EMANIFEST', says: /qm\.toml:2:\d+: / },
    { name: 'a version that is not a string', manifest: '[tools]\nnode = 22\n', args: ['install'], code: 2, error: 'EMANIFEST', says: /qm\.toml:2:8: .*must be a string/ },
    { name: 'an artifact with a bad sha256', manifest: '[artifacts.x]\nurl = "https://example.com/x"\nsha256 = "abc"\n', args: ['install'], code: 2, error: 'EMANIFEST', says: /qm\.toml:3:\d+: .*64 hexadecimal/ },
    { name: 'an unknown tool on the command line', args: ['install', 'erlang@27'], code: 2, error: 'ENOTOOL', says: /Unknown tool "erlang"/ },
    { name: 'a version spec that is not one', args: ['install', 'node@banana'], code: 2, error: 'EUSAGE', says: /node@banana/ },
    { name: 'a version that does not exist', args: ['install', 'node@99'], code: 2, error: 'ENOVERSION', says: /node "99": no released version matches/ },
    { name: 'no manifest at all', args: ['install'], code: 2, error: 'ENOMANIFEST', says: /No qm\.toml/ },
    { name: 'an unknown option', args: ['install', '--frobnicate'], code: 2, error: 'EUSAGE', says: /frobnicate/ },
    { name: 'a mirror serving a wrong checksum', args: ['install', 'node@21.0.0'], mirror: '/wrong-sum', code: 1, error: 'EINTEGRITY', says: /expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/ },
    { name: 'an archive with ../ entries', args: ['install', 'node@21.0.0'], mirror: '/escape', code: 1, error: 'EARCHIVE', says: /escaped\.txt/ },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.error}, exit ${c.code}`, async () => {
      if (c.manifest !== undefined) await fs.writeFile(path.join(project, 'qm.toml'), c.manifest);
      const result = await qm(c.args, c.mirror);
      assert.equal(result.code, c.code, result.stderr);
      assert.match(result.stderr, new RegExp(`^qm: error ${c.error}: `, "m"));
      assert.match(result.stderr, c.says);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace without --verbose');
      await assertNothingLeft();
    });
  }

  it('an unknown key in the manifest is a warning, not a failure', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\n\n[extras]\nfoo = 1\n');
    const result = await qm(['install']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: .*qm\.toml:4:\d+: .*extras/);
  });
});
