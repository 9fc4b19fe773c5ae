import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { MirrorServer } from '../fixtures/mirror-server';
import { buildNodeArchives } from '../fixtures/node-archive';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';

const run = promisify(execFile);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function startMirror(t: TestContext): Promise<MirrorServer> {
  const mirror = await MirrorServer.start();
  t.after(() => mirror.close());
  return mirror;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'qm-node-dist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return Buffer.from(await response.arrayBuffer());
}

/** Extracts with the system tar, as a user would, and returns the archive's top directory. */
async function extract(t: TestContext, artifact: PublishedArtifact): Promise<string> {
  const dir = await tempDir(t);
  const archive = join(dir, `archive.${artifact.ext}`);
  await writeFile(archive, await download(artifact.url));
  await run('tar', [artifact.ext === 'tar.xz' ? '-xJf' : '-xzf', archive, '-C', dir]);
  return join(dir, `node-${artifact.version}-${artifact.platform}`);
}

void test('index.json lists the releases newest first with the upstream fields', async (t) => {
  const mirror = await startMirror(t);
  await publishNodeDist(mirror, DEFAULT_RELEASES);
  const index = JSON.parse((await download(`${mirror.url}/dist/index.json`)).toString()) as Record<string, unknown>[];

  assert.deepEqual(
    index.map((entry) => entry.version),
    ['v23.3.0', 'v22.12.0', 'v22.11.0', 'v20.18.1', 'v20.18.0', 'v18.20.4'],
  );
  for (const entry of index) {
    assert.deepEqual(Object.keys(entry), ['version', 'date', 'files', 'npm', 'v8', 'uv', 'zlib', 'openssl', 'modules', 'lts', 'security']);
    assert.deepEqual(entry.files, ['linux-arm64', 'linux-x64', 'osx-arm64-tar']);
  }
  assert.equal(index[0]!.lts, false);
  assert.equal(index[1]!.lts, 'Jod');
  assert.equal(index[5]!.security, true);
  assert.equal(index[1]!.modules, '127');

  const tab = (await download(`${mirror.url}/dist/index.tab`)).toString().trimEnd().split('\n');
  assert.equal(tab.length, 1 + index.length);
  assert.match(tab[1]!, /^v23\.3\.0\t2024-11-20\t/);
});

void test('SHASUMS256.txt, the returned artifacts and the served bytes agree', async (t) => {
  const mirror = await startMirror(t);
  const artifacts = await publishNodeDist(mirror, DEFAULT_RELEASES.slice(0, 2), { platforms: ['linux-x64', 'darwin-arm64'], prefix: '/mirror/node' });
  assert.equal(artifacts.length, 2 * 2 * 2);

  for (const version of ['v18.20.4', 'v20.18.0']) {
    const sums = (await download(`${mirror.url}/mirror/node/${version}/SHASUMS256.txt`)).toString();
    const lines = sums.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.slice(66)),
      ['darwin-arm64.tar.gz', 'darwin-arm64.tar.xz', 'linux-x64.tar.gz', 'linux-x64.tar.xz'].map((tail) => `node-${version}-${tail}`),
    );
    for (const line of lines) {
      assert.match(line, /^[0-9a-f]{64} {2}node-v[\d.]+-[a-z0-9-]+\.tar\.(gz|xz)$/);
      const artifact = artifacts.find((a) => a.path.endsWith(`/${line.slice(66)}`));
      assert.ok(artifact, line);
      const bytes = await download(artifact.url);
      assert.equal(sha256(bytes), line.slice(0, 64));
      assert.equal(artifact.sha256, line.slice(0, 64));
      assert.equal(artifact.size, bytes.length);
    }
  }
});

void test('an extracted tar.gz has a runnable bin/node, the npm symlink and the upstream files', async (t) => {
  const mirror = await startMirror(t);
  const artifacts = await publishNodeDist(mirror, [{ version: 'v22.11.0', lts: 'Jod', date: '2024-10-29' }], { platforms: ['linux-x64'] });
  const gz = artifacts.find((a) => a.ext === 'tar.gz');
  assert.ok(gz);
  const root = await extract(t, gz);

  const node = join(root, 'bin', 'node');
  assert.equal((await stat(node)).mode & 0o777, 0o755);
  assert.equal((await run(node, [])).stdout, 'v22.11.0\n');
  assert.equal((await run(node, ['--version'])).stdout, 'v22.11.0\n');
  assert.equal(await readlink(join(root, 'bin', 'npm')), '../lib/node_modules/npm/bin/npm-cli.js');
  assert.equal((await run(join(root, 'bin', 'npm'), ['--version'])).stdout, '10.9.0\n');
  for (const file of ['include/node/node.h', 'share/doc/node/README.md', 'LICENSE', 'README.md', 'CHANGELOG.md']) {
    assert.ok((await stat(join(root, file))).isFile(), file);
  }
  await assert.rejects(stat(join(root, 'lib', 'payload.bin')), { code: 'ENOENT' });
});

void test('an extracted tar.xz carries the incompressible payload', async (t) => {
  const mirror = await startMirror(t);
  const payloadBytes = 3 * 1024 * 1024 + 7;
  const artifacts = await publishNodeDist(mirror, [{ version: 'v20.18.1', lts: 'Iron', date: '2024-11-20' }], { platforms: ['darwin-arm64'], payloadBytes });
  for (const artifact of artifacts) assert.ok(artifact.size > payloadBytes, `${artifact.ext} is not smaller than its payload`);
  const xz = artifacts.find((a) => a.ext === 'tar.xz');
  assert.ok(xz);
  const root = await extract(t, xz);
  assert.equal((await stat(join(root, 'lib', 'payload.bin'))).size, payloadBytes);
  assert.equal((await run(join(root, 'bin', 'node'), ['-v'])).stdout, 'v20.18.1\n');
  await run('xz', ['--test', join(root, '..', 'archive.tar.xz')]);
});

void test('archives are byte-identical between builds', async () => {
  const spec = { version: 'v23.3.0', platform: 'linux-arm64', date: '2024-11-20', npmVersion: '10.9.0', payloadBytes: 100_000 };
  const [first, second] = await Promise.all([buildNodeArchives(spec), buildNodeArchives(spec)]);
  assert.ok(first['tar.gz'].equals(second['tar.gz']));
  assert.ok(first['tar.xz'].equals(second['tar.xz']));
  const other = await buildNodeArchives({ ...spec, platform: 'linux-x64' });
  assert.notEqual(sha256(other['tar.gz']), sha256(first['tar.gz']));
});

void test('serve.ts prints the mirror as one JSON line and stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'fixtures', 'serve.ts'), '--port', '0'], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => assert.fail(`serve.ts exited with ${code} before printing`)),
  ]);
  const ready = JSON.parse(first) as { url: string; artifacts: PublishedArtifact[] };
  assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.artifacts.length, DEFAULT_RELEASES.length * 3 * 2);
  const index = JSON.parse((await download(`${ready.url}/dist/index.json`)).toString()) as unknown[];
  assert.equal(index.length, DEFAULT_RELEASES.length);

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
