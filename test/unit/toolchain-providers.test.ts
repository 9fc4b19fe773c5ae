import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError, type QmError, type QmErrorCode } from '../../src/core/errors';
import { parsePlatform } from '../../src/core/platform';
import type { ToolName } from '../../src/core/providers/types';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { collectGarbage } from '../../src/core/maintenance/gc';
import { createCore, type CoreServices } from '../../src/core/services';
import { recordManifestUse } from '../../src/core/state/usage';
import { publishAllDists } from '../fixtures/all-dists';
import { GITHUB_PREFIX } from '../fixtures/github-release';
import { ADOPTIUM_PREFIX } from '../fixtures/java-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { RUST_PREFIX } from '../fixtures/rust-dist';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const LINUX = parsePlatform('linux-x64');

async function rejectsWith(promise: Promise<unknown>, code: QmErrorCode): Promise<QmError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(isQmError(error, code), `expected ${code}, got ${String(error)}`);
  return error;
}

interface BadIndex {
  /** Mirror path of the index document. */
  path: string;
  /** The upstream URL an EINDEX must name. */
  upstream: string;
  /** A body of the right syntax but the wrong shape, and the start of the problem it must report. */
  wrongShape: string;
  problem: string;
  /** A spec whose resolution reads this document. */
  spec: string;
}

interface ProviderCase {
  tool: ToolName;
  /** spec -> the version it must pick on linux-x64 from the fixture mirror. */
  picks: Record<string, string>;
  /** A spec no release matches, and the start of the message. */
  none: [spec: string, message: string];
  install: { spec: string; program: string; args: string[]; prints: RegExp };
  badIndexes: BadIndex[];
}

const CASES: ProviderCase[] = [
  {
    tool: 'python',
    picks: { '3.12': '3.12.8', '3.13': '3.13.1', latest: '3.13.1', '>=3.11 <3.12': '3.11.11', '3.12.7+20241016': '3.12.7', '3.14.0a3': '3.14.0-alpha.3' },
    none: ['3.10', 'python "3.10": no CPython in python-build-standalone 20241219 matches'],
    install: { spec: '3.12', program: 'bin/python3', args: ['--version'], prints: /^Python 3\.12\.8$/ },
    badIndexes: [
      {
        path: `${GITHUB_PREFIX}/raw/astral-sh/python-build-standalone/latest-release/latest-release.json`,
        upstream: 'https://raw.githubusercontent.com/astral-sh/python-build-standalone/latest-release/latest-release.json',
        wrongShape: '{"version": 1}',
        problem: 'expected an object with a "tag"',
        spec: '3.12',
      },
      {
        path: `${GITHUB_PREFIX}/astral-sh/python-build-standalone/releases/download/20241219/SHA256SUMS`,
        upstream: 'https://github.com/astral-sh/python-build-standalone/releases/download/20241219/SHA256SUMS',
        wrongShape: `${'a'.repeat(64)}  cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-debug-full.tar.zst\n`,
        problem: 'it lists no cpython-<version>+<tag>-<triple>-install_only.tar.gz',
        spec: '3.12',
      },
    ],
  },
  {
    tool: 'java',
    picks: { '21': '21.0.5', '21.0.4+7': '21.0.4', '17': '17.0.13', lts: '21.0.5', latest: '23.0.1', '>=17 <21': '17.0.13' },
    none: ['22', 'java "22": no Temurin GA release matches'],
    install: { spec: '21', program: 'bin/java', args: ['-version'], prints: /^openjdk version "21\.0\.5" 2024-10-16\nJAVA_HOME=.*\/toolchains\/java\/21\.0\.5-linux-x64$/ },
    badIndexes: [
      {
        path: `${ADOPTIUM_PREFIX}/v3/info/available_releases`,
        upstream: 'https://api.adoptium.net/v3/info/available_releases',
        wrongShape: '{"available_releases": [17, 21]}',
        problem: 'expected "available_releases" and "available_lts_releases"',
        spec: '21',
      },
      {
        path: `${ADOPTIUM_PREFIX}/v3/assets/feature_releases/21/ga`,
        upstream: 'https://api.adoptium.net/v3/assets/feature_releases/21/ga?image_type=jdk&jvm_impl=hotspot&vendor=eclipse&page_size=100&sort_order=DESC',
        wrongShape: '[{"release_name": "jdk-21.0.5+11", "version_data": {"major": 21, "minor": 0, "security": 5}, "binaries": [{"os": "linux", "architecture": "x64", "image_type": "jdk", "package": {"name": "a.tar.gz", "link": "https://github.com/a.tar.gz"}}]}]',
        problem: 'jdk-21.0.5+11: the linux-x64 package a.tar.gz has no SHA-256 "checksum"',
        spec: '21',
      },
    ],
  },
  {
    tool: 'rust',
    picks: { '1.83': '1.83.0', '1.82.0': '1.82.0', stable: '1.83.0', latest: '1.83.0' },
    none: ['1.84', 'ENOVERSION'],
    install: { spec: '1.83', program: 'bin/rustc', args: ['--version'], prints: /^rustc 1\.83\.0 \(90b35a623 2024-11-28\)$/ },
    badIndexes: [
      {
        path: `${RUST_PREFIX}/dist/channel-rust-1.83.toml`,
        upstream: 'https://static.rust-lang.org/dist/channel-rust-1.83.toml',
        wrongShape: 'manifest-version = "1"\n',
        problem: 'expected manifest-version = "2"',
        spec: '1.83',
      },
    ],
  },
  {
    tool: 'deno',
    picks: { '2': '2.1.4', '2.0': '2.0.6', '1': '1.46.3', latest: '2.1.4', '^2.0.0 <2.1': '2.0.6' },
    none: ['3', 'deno "3": no released version matches'],
    install: { spec: '2', program: 'deno', args: ['--version'], prints: /^deno 2\.1\.4 \(stable, release, x86_64-unknown-linux-gnu\)$/ },
    badIndexes: [
      {
        path: `${GITHUB_PREFIX}/api/v3/repos/denoland/deno/releases`,
        upstream: 'https://api.github.com/repos/denoland/deno/releases?per_page=100',
        wrongShape: '{"message": "API rate limit exceeded"}',
        problem: 'expected an array of releases',
        spec: '2',
      },
    ],
  },
  {
    tool: 'bun',
    picks: { '1.1': '1.1.38', '1.1.37': '1.1.37', '1.0': '1.0.36', latest: '1.1.38' },
    none: ['2', 'bun "2": no released version matches'],
    install: { spec: '1.1', program: 'bun', args: ['--version'], prints: /^1\.1\.38$/ },
    badIndexes: [
      {
        path: `${GITHUB_PREFIX}/api/v3/repos/oven-sh/bun/releases`,
        upstream: 'https://api.github.com/repos/oven-sh/bun/releases?per_page=100',
        wrongShape: '[{"tag_name": "bun-v1.1.38", "assets": [{"name": "bun-linux-x64.zip"}]}]',
        problem: 'an asset of release bun-v1.1.38 lacks "name" or "browser_download_url"',
        spec: '1.1',
      },
    ],
  },
];

describe('Python, Java, Rust, Deno and Bun from their upstream layouts', () => {
  let server: MirrorServer;
  let mirrors: Record<string, string>;
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;

  before(async () => {
    server = await MirrorServer.start();
    mirrors = await publishAllDists(server);
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home, env: mirrors });
    server.resetStats();
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  for (const c of CASES) {
    describe(c.tool, () => {
      it('resolves each kind of spec from the real index format', async () => {
        for (const [spec, version] of Object.entries(c.picks)) {
          const toolchain = await core.providers[c.tool].resolve(parseVersionSpec(spec), LINUX);
          assert.equal(toolchain.version, version, `${c.tool} "${spec}"`);
          assert.match(toolchain.sha256, /^[0-9a-f]{64}$/);
        }
        const [spec, message] = c.none;
        const error = await rejectsWith(core.providers[c.tool].resolve(parseVersionSpec(spec), LINUX), 'ENOVERSION');
        if (message !== 'ENOVERSION') assert.ok(error.message.startsWith(message), error.message);
        const releases = await core.providers[c.tool].releases();
        assert.ok(releases.length > 0 && releases.every((r) => r.tool === c.tool));
      });

      it('installs (staged, published with a receipt) and the program runs', async () => {
        const toolchain = await core.providers[c.tool].resolve(parseVersionSpec(c.install.spec), LINUX);
        const installed = await core.installer.install(toolchain);
        assert.equal(installed.installed, true);
        const program = path.join(installed.dir, c.install.program);
        const { stdout, stderr } = await run(program, c.install.args, { env: { ...process.env, ...installed.env } });
        assert.match(`${stdout}${stderr}`.trim(), c.install.prints);
        assert.ok((await listFiles(installed.dir)).includes('.qm-receipt.json'));
        assert.deepEqual(await listFiles(core.layout.tmpDir), [], 'no staging left');
        const again = await core.installer.install(toolchain);
        assert.equal(again.installed, false);
        if (c.tool === 'java') assert.deepEqual(installed.env, { JAVA_HOME: installed.dir });
      });

      it('a download that does not match the published checksum is EINTEGRITY, and nothing is installed', async () => {
        const own = await MirrorServer.start();
        try {
          const ownMirrors = await publishAllDists(own);
          const ownCore = createCore({ home: path.join(home, 'other'), env: ownMirrors });
          try {
            const toolchain = await ownCore.providers[c.tool].resolve(parseVersionSpec(c.install.spec), LINUX);
            const url = new URL(toolchain.components?.[0]?.url ?? toolchain.url);
            const mirrored = Object.entries({ 'https://github.com': GITHUB_PREFIX, 'https://static.rust-lang.org': RUST_PREFIX }).find(([from]) => url.origin === from);
            assert.ok(mirrored, `the archive is served under a known prefix: ${url.href}`);
            // Same length, one byte changed: the declared size holds, the digest does not.
            const servedAt = `${mirrored[1]}${url.pathname}`;
            const body = Buffer.from(await (await fetch(`${own.url}${servedAt}`)).arrayBuffer());
            body[body.length >> 1]! ^= 0xff;
            own.addFile(servedAt, body);
            await rejectsWith(ownCore.installer.install(toolchain), 'EINTEGRITY');
            assert.equal(await ownCore.installer.find(toolchain), undefined);
            assert.deepEqual(await listFiles(ownCore.layout.tmpDir), []);
          } finally {
            await ownCore.close();
          }
        } finally {
          await own.close();
        }
      });

      for (const bad of c.badIndexes) {
        it(`a bad ${path.posix.basename(new URL(bad.upstream).pathname)} is EINDEX naming its URL`, async () => {
          const own = await MirrorServer.start();
          try {
            const ownMirrors = await publishAllDists(own);
            own.addFile(bad.path, Buffer.from('<html>Service Unavailable</html>'), { contentType: 'text/html' });
            const fresh = (): CoreServices => createCore({ home: path.join(home, `bad-${Math.random()}`), env: ownMirrors });
            const first = fresh();
            const garbage = await rejectsWith(first.providers[c.tool].resolve(parseVersionSpec(bad.spec), LINUX), 'EINDEX');
            await first.close();
            assert.ok(garbage.message.startsWith(`The index at ${bad.upstream} `), garbage.message);
            assert.equal(garbage.details.url, bad.upstream);
            own.addFile(bad.path, Buffer.from(bad.wrongShape));
            const second = fresh();
            const shape = await rejectsWith(second.providers[c.tool].resolve(parseVersionSpec(bad.spec), LINUX), 'EINDEX');
            await second.close();
            assert.ok(shape.message.startsWith(`The index at ${bad.upstream} is malformed: ${bad.problem}`), shape.message);
          } finally {
            await own.close();
          }
        });
      }
    });
  }

  it('a checksum file cached before the mirror fixed it is fetched afresh once when the download does not match (Python, Bun)', async () => {
    const own = await MirrorServer.start();
    try {
      const ownMirrors = await publishAllDists(own);
      const cases = [
        { tool: 'python' as const, spec: '3.12', sums: `${GITHUB_PREFIX}/astral-sh/python-build-standalone/releases/download/20241219/SHA256SUMS` },
        { tool: 'bun' as const, spec: '1.1', sums: `${GITHUB_PREFIX}/oven-sh/bun/releases/download/bun-v1.1.38/SHASUMS256.txt` },
      ];
      for (const c of cases) {
        const good = Buffer.from(await (await fetch(`${own.url}${c.sums}`)).arrayBuffer());
        const ownCore = createCore({ home: path.join(home, `stale-${c.tool}`), env: ownMirrors });
        try {
          // A bad copy is served, resolved and cached; then the mirror is fixed.
          const wrong = good.toString().replace(/^[0-9a-f]{64}(?= {2}\S*(?:x86_64-unknown-linux-gnu-install_only\.tar\.gz|bun-linux-x64\.zip)$)/gm, 'e'.repeat(64));
          assert.notEqual(wrong, good.toString());
          own.addFile(c.sums, Buffer.from(wrong));
          const stale = await ownCore.providers[c.tool].resolve(parseVersionSpec(c.spec), LINUX);
          own.addFile(c.sums, good);
          own.resetStats();
          const installed = await ownCore.installer.install(stale);
          assert.equal(installed.installed, true, `${c.tool} installed from the fresh checksum`);
          assert.equal(own.stats(c.sums).gets, 1, `${c.tool}'s checksum file fetched once more`);
        } finally {
          await ownCore.close();
        }
      }
    } finally {
      await own.close();
    }
  });

  it('qm gc keeps the blobs of every component of a Rust toolchain a manifest uses, and removes them with it', async () => {
    const project = path.join(home, 'project');
    await fs.mkdir(project);
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nrust = "1.83"\n');
    await recordManifestUse(core.layout, path.join(project, 'qm.toml'));
    const installed = await core.installer.install(await core.providers.rust.resolve(parseVersionSpec('1.83'), LINUX));
    const digests = installed.receipt.components!.map((c) => c.sha256);
    assert.equal(digests.length, 5);
    const kept = await collectGarbage(core, { blobGraceMs: 0 });
    assert.equal(kept.keptToolchains, 1);
    for (const sha256 of digests) assert.ok(await core.manager.store.find(sha256), `component blob ${sha256.slice(0, 12)} kept`);
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\n');
    await collectGarbage(core, { blobGraceMs: 0 });
    assert.equal(await core.installer.find(installed), undefined);
    for (const sha256 of digests) assert.equal(await core.manager.store.find(sha256), undefined);
  });

  it('each platform gets its own build: macOS Java is unpacked under Contents/Home, with JAVA_HOME there', async () => {
    const mac = parsePlatform('darwin-arm64');
    const java = await core.providers.java.resolve(parseVersionSpec('21'), mac);
    assert.equal(java.platform, 'mac-aarch64');
    assert.deepEqual(java.binDirs, ['Contents/Home/bin']);
    assert.deepEqual(java.env, { JAVA_HOME: 'Contents/Home' });
    assert.match(java.url, /OpenJDK21U-jdk_aarch64_mac_hotspot_21\.0\.5_11\.tar\.gz$/);
    const python = await core.providers.python.resolve(parseVersionSpec('3.13'), mac);
    assert.match(python.url, /cpython-3\.13\.1\+20241219-aarch64-apple-darwin-install_only\.tar\.gz$/);
    const deno = await core.providers.deno.resolve(parseVersionSpec('2'), parsePlatform('win32-x64'));
    assert.match(deno.url, /deno-x86_64-pc-windows-msvc\.zip$/);
    assert.match(deno.sha256, /^[0-9a-f]{64}$/, "Deno's PowerShell-format .sha256sum is read");
    const rust = await core.providers.rust.resolve(parseVersionSpec('1.83'), mac);
    assert.deepEqual(rust.components?.map((part) => path.posix.basename(part.url)), [
      'rustc-1.83.0-aarch64-apple-darwin.tar.gz',
      'cargo-1.83.0-aarch64-apple-darwin.tar.gz',
      'rust-std-1.83.0-aarch64-apple-darwin.tar.gz',
      'rustfmt-1.83.0-aarch64-apple-darwin.tar.gz',
      'clippy-1.83.0-aarch64-apple-darwin.tar.gz',
    ]);
  });
});
