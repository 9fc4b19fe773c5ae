import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isQmError, type QmError, type QmErrorCode } from '../../src/core/errors';
import { Downloader } from '../../src/core/fetch/downloader';
import { parsePlatform } from '../../src/core/platform';
import { IndexCache } from '../../src/core/providers/index-cache';
import { createProviders, mirrorRules, type ProviderSet } from '../../src/core/providers/registry';
import type { ResolvedToolchain, ToolRelease } from '../../src/core/providers/types';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { DEFAULT_GO_RELEASES, publishGoDist, type GoArtifact } from '../fixtures/go-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist, type ZigArtifact } from '../fixtures/zig-dist';

const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64'] as const;

interface Dists {
  server: MirrorServer;
  node: PublishedArtifact[];
  go: GoArtifact[];
  zig: ZigArtifact[];
}

interface Client {
  downloader: Downloader;
  indexes: IndexCache;
  providers: ProviderSet;
}

/** Rejects unless the promise fails with a QmError of `code`; returns that error. */
async function rejectsWith(promise: Promise<unknown>, code: QmErrorCode): Promise<QmError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(isQmError(error, code), `expected ${code}, got ${String(error)}`);
  return error;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

void describe('providers against a local mirror of nodejs.org, go.dev and ziglang.org', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let dists: Dists;

  /** A mirror serving all three upstream trees, as Quartermaster's mirror settings expect them. */
  async function publishDists(): Promise<Dists> {
    const server = await MirrorServer.start();
    cleanups.push(() => server.close());
    const [node, go, zig] = await Promise.all([
      publishNodeDist(server, DEFAULT_RELEASES),
      publishGoDist(server, DEFAULT_GO_RELEASES),
      publishZigDist(server, DEFAULT_ZIG_RELEASES),
    ]);
    return { server, node, go, zig };
  }

  /** Providers that speak upstream URLs, fetched through mirror rules, with a cache in a fresh temp dir. */
  async function client(server: MirrorServer, options: { nodeArchive?: 'tar.gz' | 'tar.xz' } = {}): Promise<Client> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-providers-'));
    const downloader = new Downloader({
      env: {},
      retries: 0,
      mirrors: mirrorRules({ node: `${server.url}/dist`, go: `${server.url}/dl`, zig: `${server.url}/download` }),
    });
    cleanups.push(() => downloader.close(), () => fs.rm(dir, { recursive: true, force: true }));
    const indexes = new IndexCache({ dir: path.join(dir, 'indexes'), fetcher: downloader });
    return { downloader, indexes, providers: createProviders(indexes, options) };
  }

  /** The resolved URL, fetched through the mirror, has the digest and size the provider promised. */
  async function assertServes(downloader: Downloader, resolved: ResolvedToolchain): Promise<void> {
    const { body } = await downloader.downloadBuffer({ url: resolved.url });
    assert.equal(sha256(body), resolved.sha256, resolved.url);
    if (resolved.size !== undefined) assert.equal(body.length, resolved.size, resolved.url);
  }

  function summary(releases: readonly ToolRelease[]): unknown[] {
    return releases.map((r) => [r.upstreamVersion, r.version, r.lts, r.prerelease, r.date]);
  }

  before(async () => {
    dists = await publishDists();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  void describe('node', () => {
    it('lists releases newest first with LTS codenames and dates', async () => {
      const { providers } = await client(dists.server);
      assert.deepEqual(summary(await providers.node.releases()), [
        ['v23.3.0', '23.3.0', false, false, '2024-11-20'],
        ['v22.12.0', '22.12.0', 'Jod', false, '2024-12-03'],
        ['v22.11.0', '22.11.0', 'Jod', false, '2024-10-29'],
        ['v20.18.1', '20.18.1', 'Iron', false, '2024-11-20'],
        ['v20.18.0', '20.18.0', 'Iron', false, '2024-10-03'],
        ['v18.20.4', '18.20.4', 'Hydrogen', false, '2024-07-08'],
      ]);
    });

    const cases: [spec: string, upstream: string][] = [
      ['22.11.0', 'v22.11.0'],
      ['v20.18.0', 'v20.18.0'],
      ['22', 'v22.12.0'],
      ['20.18', 'v20.18.1'],
      ['^20.10', 'v20.18.1'],
      ['>=18 <21', 'v20.18.1'],
      ['lts', 'v22.12.0'],
      ['lts/*', 'v22.12.0'],
      ['lts/iron', 'v20.18.1'],
      ['lts/Hydrogen', 'v18.20.4'],
      ['latest', 'v23.3.0'],
    ];
    it('resolves exact, prefix, range, lts and latest specs to upstream URLs with the served digests', async () => {
      const { providers, downloader } = await client(dists.server);
      for (const platformName of ['linux-x64', 'linux-arm64', 'darwin-arm64'] as const) {
        for (const [spec, upstream] of cases) {
          const { recheck, ...resolved } = await providers.node.resolve(parseVersionSpec(spec), parsePlatform(platformName));
          assert.equal(typeof recheck, 'function', 'a digest from an index can be rechecked');
          const file = `node-${upstream}-${platformName}.tar.gz`;
          const served = dists.node.find((a) => a.path === `/dist/${upstream}/${file}`);
          const xz = dists.node.find((a) => a.path === `/dist/${upstream}/${file.replace(/\.gz$/, '.xz')}`);
          assert.ok(served && xz, file);
          assert.deepEqual(resolved, {
            tool: 'node',
            version: upstream.slice(1),
            upstreamVersion: upstream,
            platform: platformName,
            url: `https://nodejs.org/dist/${upstream}/${file}`,
            sha256: served.sha256,
            archive: 'tar.gz',
            // The same tree as .tar.xz, for the installer to choose by link speed.
            alternative: { url: `https://nodejs.org/dist/${upstream}/${file.replace(/\.gz$/, '.xz')}`, sha256: xz.sha256, archive: 'tar.xz' },
            stripComponents: 1,
            binDirs: ['bin'],
            executables: ['node', 'npm', 'npx'],
          }, `${spec} on ${platformName}`);
        }
        await assertServes(downloader, await providers.node.resolve(parseVersionSpec('lts'), parsePlatform(platformName)));
      }
    });

    it('resolves .tar.xz archives when asked to', async () => {
      const { providers, downloader } = await client(dists.server, { nodeArchive: 'tar.xz' });
      const resolved = await providers.node.resolve(parseVersionSpec('22'), parsePlatform('darwin-arm64'));
      const served = dists.node.find((a) => a.path === '/dist/v22.12.0/node-v22.12.0-darwin-arm64.tar.xz');
      assert.equal(resolved.url, 'https://nodejs.org/dist/v22.12.0/node-v22.12.0-darwin-arm64.tar.xz');
      assert.equal(resolved.archive, 'tar.xz');
      assert.equal(resolved.sha256, served?.sha256);
      await assertServes(downloader, resolved);
    });

    it('fails with ENOVERSION for a version that does not exist and for a platform without a build', async () => {
      const { providers } = await client(dists.server);
      for (const spec of ['21', '22.10.0', 'lts/argon', '^24']) {
        const error = await rejectsWith(providers.node.resolve(parseVersionSpec(spec), parsePlatform('linux-x64')), 'ENOVERSION');
        assert.equal(error.message, `node "${spec}": no released version matches`);
      }
      // The fixture publishes no Windows builds: index.json lists no win-x64-zip.
      const error = await rejectsWith(providers.node.resolve(parseVersionSpec('lts'), parsePlatform('win32-x64')), 'ENOVERSION');
      assert.equal(error.message, 'node "lts": v22.12.0 has no build for win-x64');
    });
  });

  void describe('go', () => {
    it('lists releases newest first, release candidates as prereleases', async () => {
      const { providers } = await client(dists.server);
      assert.deepEqual(summary(await providers.go.releases()), [
        ['go1.24rc1', '1.24.0-rc.1', false, true, undefined],
        ['go1.23.4', '1.23.4', false, false, undefined],
        ['go1.23.3', '1.23.3', false, false, undefined],
        ['go1.22.10', '1.22.10', false, false, undefined],
        ['go1.21.13', '1.21.13', false, false, undefined],
      ]);
    });

    const cases: [spec: string, upstream: string][] = [
      ['1.23.3', 'go1.23.3'],
      ['1.21', 'go1.21.13'],
      ['1.23', 'go1.23.4'],
      ['1', 'go1.23.4'],
      ['~1.22.0', 'go1.22.10'],
      ['>=1.21 <1.23', 'go1.22.10'],
      ['latest', 'go1.23.4'],
      ['1.24rc1', 'go1.24rc1'],
    ];
    it('resolves specs to go.dev URLs of the archive (not the installer) with digest and size', async () => {
      const { providers, downloader } = await client(dists.server);
      const goNames: Record<(typeof PLATFORMS)[number], [string, 'tar.gz' | 'zip']> = {
        'linux-x64': ['linux-amd64', 'tar.gz'],
        'linux-arm64': ['linux-arm64', 'tar.gz'],
        'darwin-arm64': ['darwin-arm64', 'tar.gz'],
        'win32-x64': ['windows-amd64', 'zip'],
      };
      for (const platformName of PLATFORMS) {
        const [goPlatform, archive] = goNames[platformName];
        for (const [spec, upstream] of cases) {
          const resolved = await providers.go.resolve(parseVersionSpec(spec), parsePlatform(platformName));
          const filename = `${upstream}.${goPlatform}.${archive}`;
          const served = dists.go.find((a) => a.filename === filename);
          assert.ok(served, filename);
          assert.deepEqual(resolved, {
            tool: 'go',
            version: upstream === 'go1.24rc1' ? '1.24.0-rc.1' : upstream.slice(2),
            upstreamVersion: upstream,
            platform: goPlatform,
            url: `https://go.dev/dl/${filename}`,
            sha256: served.sha256,
            size: served.size,
            archive,
            stripComponents: 1,
            binDirs: ['bin'],
            executables: ['go', 'gofmt'],
          }, `${spec} on ${platformName}`);
        }
        await assertServes(downloader, await providers.go.resolve(parseVersionSpec('1.22'), parsePlatform(platformName)));
      }
    });

    it('fails with ENOVERSION for a version that does not exist and for a platform without an archive', async () => {
      const { providers } = await client(dists.server);
      // "1.24" asks for a stable 1.24.x; only a release candidate exists.
      for (const spec of ['1.20', '1.24', '1.23.9', 'lts']) {
        const error = await rejectsWith(providers.go.resolve(parseVersionSpec(spec), parsePlatform('linux-x64')), 'ENOVERSION');
        assert.equal(error.message, `go "${spec}": no released version matches`);
      }
      const darwin = await rejectsWith(providers.go.resolve(parseVersionSpec('1.23'), parsePlatform('darwin-x64')), 'ENOVERSION');
      assert.equal(darwin.message, 'go "1.23": go1.23.4 has no archive for darwin-amd64');
      const windows = await rejectsWith(providers.go.resolve(parseVersionSpec('latest'), parsePlatform('win32-arm64')), 'ENOVERSION');
      assert.equal(windows.message, 'go "latest": go1.23.4 has no archive for windows-arm64');
    });
  });

  void describe('zig', () => {
    it('lists releases newest first and leaves out the master build', async () => {
      const { providers } = await client(dists.server);
      assert.deepEqual(summary(await providers.zig.releases()), [
        ['0.13.0', '0.13.0', false, false, '2024-06-07'],
        ['0.12.1', '0.12.1', false, false, '2024-06-08'],
        ['0.11.0', '0.11.0', false, false, '2023-08-04'],
      ]);
    });

    const cases: [spec: string, upstream: string][] = [
      ['0.12.1', '0.12.1'],
      ['0.11', '0.11.0'],
      ['0', '0.13.0'],
      ['^0.12', '0.12.1'],
      ['>=0.11 <0.13', '0.12.1'],
      ['latest', '0.13.0'],
    ];
    it('resolves specs to the absolute ziglang.org URLs from index.json, with digest and size', async () => {
      const { providers, downloader } = await client(dists.server);
      const zigNames: Record<(typeof PLATFORMS)[number], [key: string, stem: string, 'tar.xz' | 'zip']> = {
        'linux-x64': ['x86_64-linux', 'linux-x86_64', 'tar.xz'],
        'linux-arm64': ['aarch64-linux', 'linux-aarch64', 'tar.xz'],
        'darwin-arm64': ['aarch64-macos', 'macos-aarch64', 'tar.xz'],
        'win32-x64': ['x86_64-windows', 'windows-x86_64', 'zip'],
      };
      for (const platformName of PLATFORMS) {
        const [key, stem, archive] = zigNames[platformName];
        for (const [spec, upstream] of cases) {
          const resolved = await providers.zig.resolve(parseVersionSpec(spec), parsePlatform(platformName));
          const file = `zig-${stem}-${upstream}.${archive}`;
          const served = dists.zig.find((a) => a.path === `/download/${upstream}/${file}`);
          assert.ok(served, file);
          assert.deepEqual(resolved, {
            tool: 'zig',
            version: upstream,
            upstreamVersion: upstream,
            platform: key,
            url: `https://ziglang.org/download/${upstream}/${file}`,
            sha256: served.sha256,
            size: served.size,
            archive,
            stripComponents: 1,
            binDirs: ['.'],
            executables: ['zig'],
          }, `${spec} on ${platformName}`);
        }
        await assertServes(downloader, await providers.zig.resolve(parseVersionSpec('0.12'), parsePlatform(platformName)));
      }
    });

    it('fails with ENOVERSION for a version that does not exist, the master build and a platform without a build', async () => {
      const { providers } = await client(dists.server);
      for (const spec of ['0.10', '0.12.0', '0.14.0-dev.2577+271452d22', 'lts']) {
        const error = await rejectsWith(providers.zig.resolve(parseVersionSpec(spec), parsePlatform('linux-x64')), 'ENOVERSION');
        assert.equal(error.message, `zig "${spec}": no released version matches`);
      }
      const error = await rejectsWith(providers.zig.resolve(parseVersionSpec('0.13'), parsePlatform('darwin-x64')), 'ENOVERSION');
      assert.equal(error.message, 'zig "0.13": 0.13.0 has no build for x86_64-macos');
    });

    it('leaves size out when index.json has none or not a byte count, instead of NaN', async () => {
      const own = await publishDists();
      const index = JSON.parse((await fetchText(`${own.server.url}/download/index.json`))) as Record<string, Record<string, Record<string, unknown>>>;
      delete index['0.13.0']!['x86_64-linux']!.size;
      index['0.13.0']!['aarch64-linux']!.size = 'about 40 MB';
      own.server.addFile('/download/index.json', Buffer.from(JSON.stringify(index)));
      const { providers } = await client(own.server);
      for (const platformName of ['linux-x64', 'linux-arm64']) {
        const resolved = await providers.zig.resolve(parseVersionSpec('0.13.0'), parsePlatform(platformName));
        assert.equal('size' in resolved, false, platformName);
      }
      const macos = await providers.zig.resolve(parseVersionSpec('0.13.0'), parsePlatform('darwin-arm64'));
      assert.equal(typeof macos.size, 'number');
    });
  });

  void describe('malformed indexes', () => {
    const indexes: [tool: 'node' | 'go' | 'zig', servedAt: string, upstream: string, wrongShape: string, shapeProblem: string][] = [
      ['node', '/dist/index.json', 'https://nodejs.org/dist/index.json', '{"releases": []}', 'expected an array of releases'],
      ['go', '/dl/', 'https://go.dev/dl/?mode=json&include=all', '[{"stable": true, "files": []}]', 'a release has no "version"'],
      ['zig', '/download/index.json', 'https://ziglang.org/download/index.json', '[]', 'expected an object keyed by version'],
    ];
    for (const [tool, servedAt, upstream, wrongShape, shapeProblem] of indexes) {
      it(`${tool}: an index that is not JSON, or not the expected shape, fails with EINDEX naming the URL`, async () => {
        const own = await publishDists();
        const linux = parsePlatform('linux-x64');

        own.server.addFile(servedAt, Buffer.from('<html><body>Service Unavailable</body></html>'), { contentType: 'text/html' });
        const garbage = await rejectsWith((await client(own.server)).providers[tool].resolve(parseVersionSpec('latest'), linux), 'EINDEX');
        assert.match(garbage.message, new RegExp(`^The index at ${escape(upstream)} is not valid JSON: `));
        assert.ok(garbage.message.endsWith(`(fetched from ${own.server.url}${servedAt.endsWith('/') ? `${servedAt}?mode=json&include=all` : servedAt})`), garbage.message);
        assert.equal(garbage.details.url, upstream);

        own.server.addFile(servedAt, Buffer.from(wrongShape));
        const shape = await rejectsWith((await client(own.server)).providers[tool].releases(), 'EINDEX');
        assert.ok(shape.message.startsWith(`The index at ${upstream} is malformed: ${shapeProblem}`), shape.message);
      });
    }

    it('node: a SHASUMS256.txt without the archive fails with EINDEX naming that file', async () => {
      const own = await publishDists();
      const sumsPath = '/dist/v22.12.0/SHASUMS256.txt';
      const sums = await fetchText(`${own.server.url}${sumsPath}`);
      // Without the .tar.gz, the .tar.xz is what there is.
      const withoutGz = sums.split('\n').filter((line) => !line.endsWith('node-v22.12.0-linux-x64.tar.gz'));
      assert.equal(withoutGz.length, sums.split('\n').length - 1);
      own.server.addFile(sumsPath, Buffer.from(withoutGz.join('\n')));
      const xzOnly = await (await client(own.server)).providers.node.resolve(parseVersionSpec('22'), parsePlatform('linux-x64'));
      assert.equal(xzOnly.url, 'https://nodejs.org/dist/v22.12.0/node-v22.12.0-linux-x64.tar.xz');
      assert.equal(xzOnly.archive, 'tar.xz');
      assert.equal(xzOnly.alternative, undefined);

      const kept = withoutGz.filter((line) => !line.endsWith('node-v22.12.0-linux-x64.tar.xz'));
      own.server.addFile(sumsPath, Buffer.from(kept.join('\n')));
      const { providers } = await client(own.server);
      const error = await rejectsWith(providers.node.resolve(parseVersionSpec('22'), parsePlatform('linux-x64')), 'EINDEX');
      assert.ok(
        error.message.startsWith(`The index at ${own.server.url}/dist/v22.12.0/SHASUMS256.txt is malformed: no checksum for node-v22.12.0-linux-x64.tar.gz or node-v22.12.0-linux-x64.tar.xz`),
        error.message,
      );
      // The other archives of the release still resolve from the same file.
      const darwin = await providers.node.resolve(parseVersionSpec('22'), parsePlatform('darwin-arm64'));
      assert.equal(darwin.upstreamVersion, 'v22.12.0');

      own.server.addFile(sumsPath, Buffer.from('this is not a checksum list\n'));
      const garbled = await rejectsWith((await client(own.server)).providers.node.resolve(parseVersionSpec('22'), parsePlatform('linux-x64')), 'EINDEX');
      assert.match(garbled.message, /SHASUMS256\.txt is malformed: line 1 is not/);
    });
  });
});

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return response.text();
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
