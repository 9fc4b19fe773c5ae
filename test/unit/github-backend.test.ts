import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { isQmError, type QmError, type QmErrorCode } from '../../src/core/errors';
import { parseQmToml } from '../../src/core/manifest/qm-toml';
import { parsePlatform } from '../../src/core/platform';
import { pickAsset } from '../../src/core/providers/github';
import { providerFor } from '../../src/core/providers/registry';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { createCore, type CoreServices } from '../../src/core/services';
import { GITHUB_PREFIX, type PublishedAsset } from '../fixtures/github-release';
import { publishGitHubTools } from '../fixtures/github-tools';
import { MirrorServer } from '../fixtures/mirror-server';
import { runQm } from '../helpers/child';
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

describe('guessing the asset for a platform, as ubi and aqua do', () => {
  const release = (...names: string[]) => ({ tool: 'x', version: '1.0.0', upstreamVersion: 'v1.0.0', lts: false as const, prerelease: false, assets: names.map((name) => ({ name, url: `https://github.com/o/r/releases/download/v1.0.0/${name}`, size: 1 })) });
  const pick = (names: string[], platform: string, options = {}): string | undefined => pickAsset(release(...names), parsePlatform(platform), options)?.name;

  it('reads os and arch words in their usual spellings, and never takes a checksum or another platform', () => {
    const gh = ['gh_1.0.0_checksums.txt', 'gh_1.0.0_linux_386.tar.gz', 'gh_1.0.0_linux_amd64.tar.gz', 'gh_1.0.0_linux_amd64.deb', 'gh_1.0.0_linux_arm64.tar.gz', 'gh_1.0.0_macOS_amd64.zip', 'gh_1.0.0_macOS_arm64.zip', 'gh_1.0.0_windows_amd64.zip', 'gh_1.0.0_windows_arm64.zip'];
    assert.equal(pick(gh, 'linux-x64'), 'gh_1.0.0_linux_amd64.tar.gz');
    assert.equal(pick(gh, 'linux-arm64'), 'gh_1.0.0_linux_arm64.tar.gz');
    assert.equal(pick(gh, 'darwin-arm64'), 'gh_1.0.0_macOS_arm64.zip');
    assert.equal(pick(gh, 'win32-x64'), 'gh_1.0.0_windows_amd64.zip');
    const rg = ['ripgrep-1.0.0-x86_64-unknown-linux-musl.tar.gz', 'ripgrep-1.0.0-x86_64-unknown-linux-musl.tar.gz.sha256', 'ripgrep-1.0.0-aarch64-unknown-linux-gnu.tar.gz', 'ripgrep-1.0.0-x86_64-apple-darwin.tar.gz', 'ripgrep-1.0.0-x86_64-pc-windows-msvc.zip'];
    assert.equal(pick(rg, 'linux-x64'), 'ripgrep-1.0.0-x86_64-unknown-linux-musl.tar.gz');
    assert.equal(pick(rg, 'linux-arm64'), 'ripgrep-1.0.0-aarch64-unknown-linux-gnu.tar.gz');
    assert.equal(pick(rg, 'darwin-arm64'), undefined, 'no arm64 build and no universal one');
    const bat = ['bat-v1.0.0-x86_64-unknown-linux-gnu.tar.gz', 'bat-v1.0.0-x86_64-unknown-linux-musl.tar.gz'];
    assert.equal(pick(bat, 'linux-x64'), 'bat-v1.0.0-x86_64-unknown-linux-musl.tar.gz', 'musl (static) is preferred');
    assert.equal(pick(['fzf-1.0.0-darwin_universal.tar.gz', 'fzf-1.0.0-linux_amd64.tar.gz'], 'darwin-arm64'), 'fzf-1.0.0-darwin_universal.tar.gz');
  });

  it('the asset option names it: one pattern, or one per platform, with {version} and {tag}', () => {
    const names = ['tool-1.0.0-linux-x64.tar.gz', 'tool-v1.0.0-special.tar.gz'];
    assert.equal(pick(names, 'linux-x64', { asset: 'tool-{tag}-special.tar.gz' }), 'tool-v1.0.0-special.tar.gz');
    assert.equal(pick(names, 'linux-x64', { asset: { 'linux-x64': 'tool-{version}-linux-x64.tar.gz' } }), 'tool-1.0.0-linux-x64.tar.gz');
    assert.equal(pick(names, 'darwin-arm64', { asset: { 'linux-x64': 'tool-{version}-linux-x64.tar.gz' } }), undefined);
  });
});

describe('qm.toml: "github:owner/repo"', () => {
  it('takes a version string, or an inline table with version, asset, bin and checksums', () => {
    const manifest = parseQmToml(
      '[tools]\n"github:cli/cli" = { version = "2.63", bin = "gh", asset = { "linux-x64" = "gh_{version}_linux_amd64.tar.gz" } }\n"github:BurntSushi/ripgrep" = "14"\n',
      '/p/qm.toml',
    );
    assert.deepEqual(manifest.problems, []);
    assert.deepEqual(manifest.tools.map((t) => [t.name, t.spec, t.options]), [
      ['github:cli/cli', '2.63', { bin: 'gh', asset: { 'linux-x64': 'gh_{version}_linux_amd64.tar.gz' } }],
      ['github:BurntSushi/ripgrep', '14', undefined],
    ]);
  });

  it('reports a table without a version, a wrong type, an unknown key, and a malformed name', () => {
    const manifest = parseQmToml('[tools]\n"github:a/b" = { bin = "x" }\n"github:c/d" = { version = "1", bin = 3, color = "red" }\n"github:../x" = "1"\n', '/p/qm.toml');
    assert.deepEqual(manifest.problems.map((p) => `${p.severity} ${p.range.start.line}:${p.range.start.column} ${p.message}`), [
      'error 2:16 "github:a/b" needs a version: { version = "1.2.3", ... }',
      'error 3:39 bin for "github:c/d" must be a string (got an integer)',
      'warning 3:42 Unknown key "color" for "github:c/d": a GitHub release takes version, asset, bin and checksums; this is ignored',
      'warning 4:1 Unknown tool "github:../x": Quartermaster installs node, go, zig, python, java, rust, deno, bun and "github:<owner>/<repo>"; this entry is ignored',
    ]);
  });
});

describe('the generic GitHub backend end to end', () => {
  let server: MirrorServer;
  let assets: PublishedAsset[];
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;

  before(async () => {
    server = await MirrorServer.start();
    assets = await publishGitHubTools(server);
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home: path.join(home, 'qm'), env: { QM_MIRROR_GITHUB: `${server.url}${GITHUB_PREFIX}` } });
    server.resetStats();
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  const assetPath = (repo: string, name: string): string => assets.find((a) => a.repo === repo && a.name === name)!.path;
  const resolve = (tool: string, spec: string, options = {}) => providerFor(core.providers, tool).resolve(parseVersionSpec(spec), LINUX, {}, options);

  it('a checksums asset: versions from "v" tags (prereleases only when named), a top directory lifted, bin/gh on PATH', async () => {
    const toolchain = await resolve('github:cli/cli', 'latest', { bin: 'gh' });
    assert.equal(toolchain.version, '2.63.0');
    assert.match(toolchain.url, /gh_2\.63\.0_linux_amd64\.tar\.gz$/);
    assert.equal((await resolve('github:cli/cli', '2.62', { bin: 'gh' })).version, '2.62.0');
    const installed = await core.installer.install(toolchain);
    assert.deepEqual((await listFiles(installed.dir)).filter((f) => !f.startsWith('.qm')), ['LICENSE', 'bin/gh']);
    assert.equal((await run(path.join(installed.dir, 'bin', 'gh'), ['--version'])).stdout.trim(), 'gh version 2.63.0 (2024-11-27)');
    assert.equal(path.basename(path.dirname(installed.dir)), 'github+cli+cli', 'one path segment per tool');
    assert.equal(installed.tool, 'github:cli/cli');
    assert.ok((await core.installer.list()).some((t) => t.tool === 'github:cli/cli'));
  });

  it('a .sha256 beside the archive; tags without "v"; no bin named, the program is still on PATH', async () => {
    const toolchain = await resolve('github:BurntSushi/ripgrep', '14');
    assert.equal(toolchain.version, '14.1.1');
    assert.match(toolchain.url, /x86_64-unknown-linux-musl\.tar\.gz$/);
    const installed = await core.installer.install(toolchain);
    assert.equal((await run(path.join(installed.binPaths[0]!, 'rg'), [])).stdout.trim(), 'ripgrep 14.1.1');
    assert.equal(server.stats(assetPath('BurntSushi/ripgrep', 'ripgrep-14.1.1-x86_64-unknown-linux-musl.tar.gz.sha256')).gets, 1);
  });

  it("the API's own digest, when nothing else is published", async () => {
    const toolchain = await resolve('github:example/digested', '3');
    assert.equal(toolchain.sha256, assets.find((a) => a.repo === 'example/digested')!.sha256);
    assert.equal(toolchain.trustedOnFirstUse, undefined);
    await core.installer.install(toolchain);
  });

  it('a changed byte against a published checksum is EINTEGRITY', async () => {
    const own = await MirrorServer.start();
    try {
      const ownAssets = await publishGitHubTools(own);
      const ownCore = createCore({ home: path.join(home, 'own'), env: { QM_MIRROR_GITHUB: `${own.url}${GITHUB_PREFIX}` } });
      const target = ownAssets.find((a) => a.name === 'gh_2.63.0_linux_amd64.tar.gz')!;
      const body = Buffer.from(await (await fetch(target.url)).arrayBuffer());
      body[100]! ^= 1;
      own.addFile(target.path, body);
      const toolchain = await providerFor(ownCore.providers, 'github:cli/cli').resolve(parseVersionSpec('2.63.0'), LINUX, {}, { bin: 'gh' });
      await rejectsWith(ownCore.installer.install(toolchain), 'EINTEGRITY');
      await ownCore.close();
    } finally {
      await own.close();
    }
  });

  it('no checksum anywhere: trust on first use, one GET for the digest and the install; qm lock pins it and says so', async () => {
    const plain = assetPath('example/plain', 'plain-linux-amd64.tar.gz');
    const project = path.join(home, 'project');
    await fs.mkdir(project);
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\n"github:example/plain" = { version = "1", bin = "plain" }\n');
    const env = { QM_HOME: path.join(home, 'qm'), QM_MIRROR_GITHUB: `${server.url}${GITHUB_PREFIX}`, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' };
    const locked = await runQm(['lock'], { cwd: project, env });
    assert.equal(locked.code, 0, locked.stderr);
    const digest = assets.find((a) => a.path === plain)!.sha256;
    assert.match(locked.stderr, new RegExp(`github:example/plain 1\\.0\\.0 \\(linux-x64\\) publishes no checksum: qm\\.lock pins the digest of its first download, ${digest} \\(trust on first use\\)`));
    assert.match(await fs.readFile(path.join(project, 'qm.lock'), 'utf8'), new RegExp(`name = "github:example/plain"[\\s\\S]*sha256 = "${digest}"`));
    const installed = await runQm(['install', '--locked'], { cwd: project, env });
    assert.equal(installed.code, 0, installed.stderr);
    const exec = await runQm(['exec', '--', 'plain'], { cwd: project, env });
    assert.equal(exec.stdout.trim(), 'plain 1.0.0');
    const which = await runQm(['which', 'plain'], { cwd: project, env });
    assert.match(which.stdout.trim(), /toolchains\/github\+example\+plain\/1\.0\.0-linux-x64\/plain$/);
    assert.equal(server.stats(plain).gets, 1, 'the first download is the one installed');
  });
});
