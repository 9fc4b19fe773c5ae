import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { runQm, spawnQm } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

describe('qm commands end to end', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let project: string;
  let dispose: () => Promise<void>;

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 512 * 1024 });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    project = path.join(home, 'project');
    await fs.mkdir(project);
    server.clearFaults();
    server.resetStats();
  });
  afterEach(() => dispose());

  const env = (): NodeJS.ProcessEnv => ({ QM_HOME: path.join(home, 'qm'), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64' });
  const qm = async (args: string[], cwd = project): Promise<{ code: number | null; stdout: string; stderr: string }> => runQm(args, { cwd, env: env() });
  const ok = async (args: string[], cwd = project): Promise<string> => {
    const result = await qm(args, cwd);
    assert.equal(result.code, 0, `qm ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const manifestText = (): Promise<string> => fs.readFile(path.join(project, 'qm.toml'), 'utf8');

  it('use pins a version in qm.toml keeping comments; which, env and exec follow the manifest, also from a subdirectory', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '# team toolchains\n[tools]\nnode = "20" # keep in step with CI\n');
    await ok(['use', 'node@22']);
    assert.equal(await manifestText(), '# team toolchains\n[tools]\nnode = "22" # keep in step with CI\n');
    const nested = path.join(project, 'packages', 'web');
    await fs.mkdir(nested, { recursive: true });
    const which = (await ok(['which', 'node'], nested)).trim();
    assert.equal(which, path.join(home, 'qm', 'toolchains', 'node', '22.12.0-linux-x64', 'bin', 'node'));
    assert.equal((await ok(['exec', '--', 'node', '--version'], nested)).trim(), 'v22.12.0');
    assert.match(await ok(['env']), /^export PATH=".*22\.12\.0-linux-x64\/bin":"\$PATH"$/);
    assert.match(await ok(['env', '--shell', 'fish']), /^set -gx PATH ".*22\.12\.0-linux-x64\/bin" \$PATH$/);
  });

  it('exec with tool@version overrides the manifest and installs what is missing', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\n');
    assert.equal((await ok(['exec', 'node@18', '--', 'node', '--version'])).trim(), 'v18.20.4');
    const exitCode = await qm(['exec', '--', 'sh', '-c', 'exit 7']);
    assert.equal(exitCode.code, 7, 'the command\'s exit code is passed through');
    const missing = await qm(['exec', '--', 'no-such-command-qm']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /command not found: no-such-command-qm/);
  });

  it('which says what to do when a declared toolchain is not installed', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "20"\n');
    const result = await qm(['which', 'node']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ENOTINSTALLED: node 20\.18\.1 is declared but not installed: run "qm install"/);
  });

  it('lock pins exact versions, install --locked follows it without reading the index, and fails once the manifest moves', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "20"\n');
    await ok(['lock']);
    const lock = await fs.readFile(path.join(project, 'qm.lock'), 'utf8');
    const archive = artifacts.find((a) => a.version === 'v20.18.1' && a.ext === 'tar.gz')!;
    assert.match(lock, /version = "20\.18\.1"/);
    assert.ok(lock.includes(`sha256 = "${archive.sha256}"`));
    server.resetStats();
    await ok(['install', '--locked']);
    assert.equal(server.stats('/dist/index.json').requests, 0, 'a locked install reads no index');
    assert.equal(server.stats(archive.path).gets, 1);

    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\n');
    const stale = await qm(['install', '--locked']);
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /ELOCKFILE: qm\.lock does not match qm\.toml: node is "22" in qm\.toml but was locked as "20"/);
    await ok(['install']);
    assert.match(await fs.readFile(path.join(project, 'qm.lock'), 'utf8'), /version = "22\.12\.0"/, 'a plain install updates an existing lock');
    await ok(['use', 'node@18']);
    assert.match(await fs.readFile(path.join(project, 'qm.lock'), 'utf8'), /version = "18\.20\.4"/, 'use updates an existing lock');
  });

  it('list shows installed toolchains and remote versions with LTS and installed marks', async () => {
    await ok(['install', 'node@20.18.0']);
    const installed = JSON.parse(await ok(['list', '--json'])) as Array<{ tool: string; version: string; bytes: number }>;
    assert.deepEqual(installed.map((t) => `${t.tool} ${t.version}`), ['node 20.18.0']);
    assert.ok(installed[0]!.bytes > 512 * 1024);
    const remote = await ok(['list', '--remote', 'node']);
    assert.match(remote, /^23\.3\.0 .*latest/m);
    assert.match(remote, /^20\.18\.0 .*LTS Iron, installed/m);
  });

  it('gc removes what no recent manifest uses, keeps what one does, and never undercuts a running install', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\n');
    await ok(['install']);
    await ok(['install', 'node@18.20.4']);
    const dry = await ok(['gc', '--dry-run']);
    assert.match(dry, /^Removes 1 item, [\d.]+ [KM]iB:\n {2}node 18\.20\.4 \(linux-x64\)/m);
    assert.match(dry, /^ {4}node 22\.12\.0 \(linux-x64\): used by .*qm\.toml$/m);

    // Both archives slow: on a slow link the installer may drop the .tar.gz for the .tar.xz.
    for (const slow of artifacts.filter((a) => a.version === 'v20.18.1')) server.fault(slow.path, { kind: 'throttle', bytesPerSecond: 256 * 1024, times: 1 });
    const installing = spawnQm(['install', 'node@20.18.1', '--json'], { cwd: project, env: env() });
    await installing.waitFor<{ progress?: { phase?: string } }>((m) => m.progress?.phase === 'downloading');
    const gc = JSON.parse(await ok(['gc', '--json'])) as { removed: Array<{ label: string }>; busy: Array<{ label: string }> };
    assert.deepEqual(gc.removed.map((r) => r.label), ['node 18.20.4 (linux-x64)']);
    const { code } = await installing.exited;
    assert.equal(code, 0, installing.stderr.join('\n'));
    assert.equal((await ok(['exec', 'node@20.18.1', '--', 'node', '--version'])).trim(), 'v20.18.1');
    assert.equal((await ok(['exec', '--', 'node', '--version'])).trim(), 'v22.12.0');
  });

  it('uninstall removes exactly the named toolchain and checks every argument before removing anything', async () => {
    await ok(['install', 'node@22.12.0']);
    await ok(['install', 'node@20.18.0']);
    const unknown = await qm(['uninstall', 'node@22.12.0', 'node@18']);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /ENOTINSTALLED: No installed node matches "node@18" \(installed: .*22\.12\.0.*\)/);
    const ambiguous = await qm(['uninstall', 'node']);
    assert.equal(ambiguous.code, 2, ambiguous.stderr);
    assert.match(ambiguous.stderr, /matches 2 installed versions/);
    assert.equal((await ok(['exec', 'node@22.12.0', '--', 'node', '--version'])).trim(), 'v22.12.0', 'nothing was removed by the failed runs');

    const removed = JSON.parse(await ok(['uninstall', 'node@22.12.0', '--json'])) as { removed: Array<{ tool: string; version: string; dir: string; bytes: number }> };
    assert.deepEqual(removed.removed.map((r) => `${r.tool} ${r.version}`), ['node 22.12.0']);
    assert.ok(removed.removed[0]!.bytes > 512 * 1024);
    await assert.rejects(fs.stat(removed.removed[0]!.dir), { code: 'ENOENT' });
    const listed = JSON.parse(await ok(['list', '--installed', '--json'])) as Array<{ version: string }>;
    assert.deepEqual(listed.map((t) => t.version), ['20.18.0']);
    assert.deepEqual(await fs.readdir(path.join(home, 'qm', 'tmp')), [], 'the moved-aside tree is gone');
  });

  it('doctor reports the cache and who holds which lock', async () => {
    await ok(['install', 'node@22.12.0']);
    const report = JSON.parse(await ok(['doctor', '--json', '--verify'])) as { toolchains: { count: number }; blobs: { count: number; corrupt: string[] }; findings: Array<{ severity: string }> };
    assert.equal(report.toolchains.count, 1);
    assert.equal(report.blobs.count, 1);
    assert.deepEqual(report.blobs.corrupt, []);
    assert.ok(report.findings.every((f) => f.severity === 'ok'));
  });
});
