import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { publishAllDists } from '../fixtures/all-dists';
import { publishBunDist } from '../fixtures/bun-dist';
import { publishDenoDist } from '../fixtures/deno-dist';
import { publishGitHubTools } from '../fixtures/github-tools';
import { publishJavaDist } from '../fixtures/java-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { publishPythonDist } from '../fixtures/python-dist';
import { publishRustDist } from '../fixtures/rust-dist';
import { runQm } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const PAYLOAD = 1024 * 1024;

interface Case {
  tool: string;
  spec: string;
  /** Mirror paths of every file the install downloads (Rust: one per component). */
  files: () => string[];
  dir: string;
  program: string;
  args: string[];
  prints: RegExp;
}

/**
 * The founding story, per provider: 8 `qm install` processes of one toolchain at once, every
 * archive throttled so they overlap. Each file is fetched once, one process installs, the
 * others wait and find it done, and the tree is intact with nothing left in tmp/ or locks/.
 */
describe('8 processes installing one toolchain of each new provider', () => {
  let server: MirrorServer;
  let env: Record<string, string>;
  let home: string;
  let dispose: () => Promise<void>;
  let files: Record<string, string[]>;

  before(async () => {
    server = await MirrorServer.start();
    env = await publishAllDists(server);
    // The archives these tests install, rebuilt with a payload so that downloads overlap.
    const github = await publishGitHubTools(server);
    const [python, java, rust, deno, bun] = await Promise.all([
      publishPythonDist(server, undefined, { payloadBytes: PAYLOAD }),
      publishJavaDist(server, undefined, { payloadBytes: PAYLOAD }),
      publishRustDist(server, undefined, { payloadBytes: PAYLOAD }),
      publishDenoDist(server, undefined, { payloadBytes: PAYLOAD }),
      publishBunDist(server, undefined, { payloadBytes: PAYLOAD }),
    ]);
    files = {
      python: python.filter((a) => a.python === '3.12.8' && a.triple === 'x86_64-unknown-linux-gnu').map((a) => a.path),
      java: java.filter((a) => a.version === '21.0.5+11' && a.os === 'linux' && a.architecture === 'x64').map((a) => a.path),
      rust: rust.filter((a) => a.version === '1.83.0' && a.target === 'x86_64-unknown-linux-gnu').map((a) => a.path),
      'rust-1.82': rust.filter((a) => a.version === '1.82.0' && a.target === 'x86_64-unknown-linux-gnu').map((a) => a.path),
      deno: deno.filter((a) => a.tag === 'v2.1.4' && a.name === 'deno-x86_64-unknown-linux-gnu.zip').map((a) => a.path),
      bun: bun.filter((a) => a.tag === 'bun-v1.1.38' && a.name === 'bun-linux-x64.zip').map((a) => a.path),
      ripgrep: github.filter((a) => a.name === 'ripgrep-14.1.1-x86_64-unknown-linux-musl.tar.gz').map((a) => a.path),
      plain: github.filter((a) => a.name === 'plain-linux-amd64.tar.gz').map((a) => a.path),
    };
    for (const [tool, paths] of Object.entries(files)) assert.ok(paths.length > 0, `fixture files for ${tool}`);
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    server.clearFaults();
    server.resetStats();
  });
  afterEach(() => dispose());

  const qmEnv = (): NodeJS.ProcessEnv => ({ ...env, QM_HOME: path.join(home, 'qm'), QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' });

  const CASES: Case[] = [
    { tool: 'python', spec: '3.12', files: () => files.python!, dir: 'python/3.12.8-x86_64-unknown-linux-gnu', program: 'bin/python3', args: ['--version'], prints: /Python 3\.12\.8/ },
    { tool: 'java', spec: '21', files: () => files.java!, dir: 'java/21.0.5-linux-x64', program: 'bin/java', args: ['-version'], prints: /openjdk version "21\.0\.5"/ },
    { tool: 'rust', spec: '1.83', files: () => files.rust!, dir: 'rust/1.83.0-x86_64-unknown-linux-gnu', program: 'bin/cargo', args: ['--version'], prints: /cargo 1\.83\.0/ },
    { tool: 'deno', spec: '2', files: () => files.deno!, dir: 'deno/2.1.4-x86_64-unknown-linux-gnu', program: 'deno', args: ['--version'], prints: /deno 2\.1\.4/ },
    { tool: 'bun', spec: '1.1', files: () => files.bun!, dir: 'bun/1.1.38-bun-linux-x64', program: 'bun', args: ['--version'], prints: /1\.1\.38/ },
    { tool: 'github:BurntSushi/ripgrep', spec: '14', files: () => files.ripgrep!, dir: 'github+BurntSushi+ripgrep/14.1.1-linux-x64', program: 'rg', args: [], prints: /ripgrep 14\.1\.1/ },
    // No checksum published: the first download's digest is recorded once, by one process, and that download is the one installed.
    { tool: 'github:example/plain', spec: '1', files: () => files.plain!, dir: 'github+example+plain/1.0.0-linux-x64', program: 'plain', args: [], prints: /plain 1\.0\.0/ },
  ];

  async function assertClean(): Promise<void> {
    const layout = new HomeLayout(path.join(home, 'qm'));
    assert.deepEqual(await listFiles(layout.tmpDir), [], 'no temp files or staging directories left');
    assert.deepEqual((await listFiles(layout.locksDir)).filter((f) => !f.endsWith('.json')), [], 'no locks left');
  }

  for (const c of CASES) {
    it(`${c.tool}: 8 processes, each file fetched once, one install, the tree intact`, async () => {
      for (const file of c.files()) server.fault(file, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
      const results = await Promise.all(Array.from({ length: 8 }, () => runQm(['install', `${c.tool}@${c.spec}`], { cwd: home, env: qmEnv() })));
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      for (const file of c.files()) assert.equal(server.stats(file).gets, 1, `${file} fetched once`);
      assert.equal(results.filter((r) => r.stdout.includes(': installed in')).length, 1, 'one process installed it, seven found it');
      const dir = path.join(home, 'qm', 'toolchains', c.dir);
      const { stdout, stderr } = await run(path.join(dir, c.program), c.args, { env: { ...process.env, JAVA_HOME: dir } });
      assert.match(`${stdout}${stderr}`, c.prints);
      await assertClean();
    });
  }

  it('rust: concurrent adds of the same and of different toolchains (rustup #988) keep 1 GET per component and both trees whole', async () => {
    for (const file of [...files.rust!, ...files['rust-1.82']!]) server.fault(file, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    const runs = [...Array.from({ length: 4 }, () => '1.83'), ...Array.from({ length: 4 }, () => '1.82.0')].map((spec) => runQm(['install', `rust@${spec}`], { cwd: home, env: qmEnv() }));
    for (const result of await Promise.all(runs)) assert.equal(result.code, 0, result.stderr);
    for (const file of [...files.rust!, ...files['rust-1.82']!]) assert.equal(server.stats(file).gets, 1, `${file} fetched once`);
    for (const [version, dir] of [['1.83.0', 'rust/1.83.0-x86_64-unknown-linux-gnu'], ['1.82.0', 'rust/1.82.0-x86_64-unknown-linux-gnu']] as const) {
      const tree = path.join(home, 'qm', 'toolchains', dir);
      assert.match((await run(path.join(tree, 'bin', 'rustc'), ['--version'])).stdout, new RegExp(`rustc ${version.replaceAll('.', '\\.')}`));
      const listed = await listFiles(tree);
      assert.ok(listed.includes('lib/rustlib/x86_64-unknown-linux-gnu/lib/payload.bin'), 'rust-std merged into the tree');
      assert.ok(listed.includes('lib/rustlib/manifest-rustc') && listed.includes('lib/rustlib/manifest-cargo'), 'each component manifest kept');
      await fs.access(path.join(tree, '.qm-receipt.json'));
    }
    await assertClean();
  });
});

describe('qm.lock with every new tool, for several platforms', () => {
  let server: MirrorServer;
  let env: Record<string, string>;
  let home: string;
  let dispose: () => Promise<void>;

  before(async () => {
    server = await MirrorServer.start();
    env = await publishAllDists(server);
  });
  after(() => server.close());
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('qm lock writes an entry per tool and platform; install --locked on a fresh QM_HOME reads no index but Rust\'s pinned manifest', async () => {
    const project = path.join(home, 'project');
    await fs.mkdir(project);
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\npython = "3.12"\njava = "lts"\nrust = "stable"\ndeno = "2"\nbun = "1.1"\n');
    const qmEnv = (qmHome: string): NodeJS.ProcessEnv => ({ ...env, QM_HOME: path.join(home, qmHome), QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' });
    const locked = await runQm(['lock', '--platform', 'linux-x64', '--platform', 'darwin-arm64'], { cwd: project, env: qmEnv('first') });
    assert.equal(locked.code, 0, locked.stderr);
    const lock = await fs.readFile(path.join(project, 'qm.lock'), 'utf8');
    for (const tool of ['python', 'java', 'rust', 'deno', 'bun']) {
      for (const platform of ['linux-x64', 'darwin-arm64']) {
        assert.match(lock, new RegExp(`name = "${tool}"\\nspec = "[^"]+"\\nplatform = "${platform}"`), `${tool} ${platform}`);
      }
    }
    assert.match(lock, /name = "rust"\nspec = "stable"\nplatform = "linux-x64"\nversion = "1\.83\.0"\nurl = "https:\/\/static\.rust-lang\.org\/dist\/channel-rust-stable\.toml"\nsha256 = "[0-9a-f]{64}"/);
    server.resetStats();
    const installed = await runQm(['install', '--locked'], { cwd: project, env: qmEnv('second') });
    assert.equal(installed.code, 0, installed.stderr);
    for (const index of ['/github/raw/astral-sh/python-build-standalone/latest-release/latest-release.json', '/adoptium/v3/info/available_releases', '/github/api/v3/repos/denoland/deno/releases', '/github/api/v3/repos/oven-sh/bun/releases']) {
      assert.equal(server.stats(index).requests, 0, `${index} not read`);
    }
    assert.equal(server.stats('/rust/dist/channel-rust-stable.toml').gets, 1, "Rust's pinned manifest is read, and its digest checked");
    const exec = await runQm(['exec', '--', 'cargo', '--version'], { cwd: project, env: qmEnv('second') });
    assert.match(exec.stdout, /cargo 1\.83\.0/);
  });
});
