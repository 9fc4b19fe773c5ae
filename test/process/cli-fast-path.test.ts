import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { QM_CLI } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether the full CLI (out/cli-main.js) was loaded, or the small entry answered alone. */
  full: boolean;
  /** The Node built-in modules it loaded beyond what an empty script loads. */
  builtins: string[];
}

/** What start-up may not load (each costs `qm which` milliseconds; see src/cli/entry.ts). */
const HEAVY = ['crypto', 'child_process', 'net', 'stream', 'http', 'worker_threads', 'zlib', 'perf_hooks'];

describe('qm which/env/exec fast path: the small entry answers from the recorded plan while it holds', () => {
  let server: MirrorServer;
  let home: string;
  let project: string;
  let hook: string;
  let dispose: () => Promise<void>;

  before(async () => {
    server = await MirrorServer.start();
    await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    project = path.join(home, 'project');
    await fs.mkdir(project);
    // Preloaded into each qm: writes the modules it loaded to $QM_TEST_LOADED at exit.
    hook = path.join(home, 'loaded-hook.js');
    await fs.writeFile(
      hook,
      "process.on('exit', () => require('fs').writeFileSync(process.env.QM_TEST_LOADED, JSON.stringify({ files: Object.keys(require.cache), builtins: process.moduleLoadList })));\n",
    );
  });
  afterEach(() => dispose());

  let runs = 0;
  async function qm(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
    const loaded = path.join(home, `loaded-${++runs}.json`);
    const env = { ...process.env, QM_HOME: path.join(home, 'qm'), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off', QM_TEST_LOADED: loaded, ...extraEnv };
    const child = spawn(process.execPath, ['--require', hook, QM_CLI, ...args], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const modules = JSON.parse(await fs.readFile(loaded, 'utf8')) as { files: string[]; builtins: string[] };
    const builtins = modules.builtins.filter((name) => name.startsWith('NativeModule ') && !bare.has(name)).map((name) => name.slice('NativeModule '.length));
    return { code, stdout, stderr, full: modules.files.some((file) => file.endsWith(`${path.sep}cli-main.js`)), builtins };
  }

  /** The built-ins an empty script loads, with the same hook, stdio and environment. */
  let bare = new Set<string>();
  before(async () => {
    const { home: scratch, dispose: drop } = await tempHome();
    try {
      const empty = path.join(scratch, 'empty.js');
      const loaded = path.join(scratch, 'loaded.json');
      await fs.writeFile(empty, '');
      await fs.writeFile(path.join(scratch, 'hook.js'), "process.on('exit', () => require('fs').writeFileSync(process.env.QM_TEST_LOADED, JSON.stringify(process.moduleLoadList)));\n");
      const child = spawn(process.execPath, ['--require', path.join(scratch, 'hook.js'), empty], { env: { ...process.env, QM_TEST_LOADED: loaded }, stdio: ['ignore', 'pipe', 'pipe'] });
      await new Promise((resolve) => child.on('close', resolve));
      bare = new Set(JSON.parse(await fs.readFile(loaded, 'utf8')) as string[]);
    } finally {
      await drop();
    }
  });

  function assertLean(run: Run, allowed: string[], what: string): void {
    const heavy = HEAVY.filter((name) => !allowed.includes(name) && run.builtins.includes(name));
    assert.deepEqual(heavy, [], `${what} loaded ${heavy.join(', ')} (all it loaded: ${run.builtins.join(' ')})`);
  }

  async function same(args: string[], expectFast: boolean, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    const result = await qm(args, extraEnv);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.full, !expectFast, `qm ${args.join(' ')} ${expectFast ? 'should answer without' : 'should load'} the full CLI`);
    return result.stdout;
  }

  it('answers which, env and exec exactly as the full CLI did, and stops as soon as anything it rests on changes', async () => {
    const manifest = path.join(project, 'qm.toml');
    await fs.writeFile(manifest, '[tools]\nnode = "22"\n');
    assert.equal((await qm(['install'])).code, 0);

    const which = await same(['which', 'node'], false);
    assert.equal(await same(['which', 'node'], true), which);

    // Start-up: the fast answers load only what they use (timed in bench/real-node.ts, not here).
    const version = await qm(['--version']);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    assert.deepEqual([version.full, version.builtins], [false, []], '--version loads no built-in module at all');
    for (const args of [['which', 'node'], ['env']]) {
      const run = await qm(args);
      assert.equal(run.full, false);
      assertLean(run, [], `qm ${args.join(' ')}`);
    }
    const execRun = await qm(['exec', '--', 'node', '--version']);
    assert.equal(execRun.full, false);
    assertLean(execRun, ['child_process', 'net', 'stream'], 'qm exec');
    const env = await same(['env', '--shell', 'fish'], true);
    assert.match(env, /^set -gx PATH ".*22\.12\.0-linux-x64\/bin" \$PATH\n$/);
    assert.equal(await same(['env', '--shell=fish'], true), env);
    assert.equal((await same(['exec', '--', 'node', '--version'], true)).trim(), 'v22.12.0');
    // Node 20 has no module.enableCompileCache: the fast path's bundle keeps its own V8 code cache,
    // named by the bundle's hash, its data checked by the hash on its first line (release V8
    // checks nothing: a flipped byte it accepts can crash it). Corrupt data is compiled afresh.
    if (typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache !== 'function') {
      const cacheDir = path.join(home, 'qm', 'cache', 'v8-compile');
      const names = (await fs.readdir(cacheDir)).filter((name) => name.startsWith('cli-fast.'));
      assert.equal(names.length, 1, names.join(', '));
      assert.match(names[0]!, new RegExp(`^cli-fast\\.[0-9a-f]{16}\\.${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8$`));
      const cacheFile = path.join(cacheDir, names[0]!);
      const stored = await fs.readFile(cacheFile);
      const dataAt = stored.indexOf(10) + 1;
      assert.match(stored.subarray(0, dataAt).toString(), /^[0-9a-f]{16}\n$/);
      const corrupt = Buffer.from(stored);
      for (let at = dataAt + 64; at < corrupt.length; at += 997) corrupt[at] = corrupt[at]! ^ 0x10;
      await fs.writeFile(cacheFile, corrupt);
      assert.equal(await same(['which', 'node'], true), which, 'a corrupt cache costs only its time');
      const rewritten = await fs.readFile(cacheFile);
      assert.notDeepEqual(rewritten, corrupt, 'and is replaced');
      assert.equal(await same(['which', 'node'], true), which);
    }

    // The command runs under a lease on the tree, as from the full CLI (gc and uninstall leave it alone).
    const leases = path.join(home, 'qm', 'state', 'leases', 'node', '22.12.0-linux-x64');
    const leased = await qm(['exec', '--', 'sh', '-c', 'ls "$1"', 'sh', leases]);
    assert.deepEqual([leased.code, leased.full], [0, false], leased.stderr);
    assert.match(leased.stdout, /^reader\..*\.lease$/m, 'a lease while the command runs');
    assert.deepEqual(await fs.readdir(leases).catch(() => []), [], 'and none after it exits');
    const exit = await qm(['exec', '--', 'sh', '-c', 'exit 7']);
    assert.deepEqual([exit.code, exit.full], [7, false], "the command's exit code, from the fast path");

    // Edited manifest: the full CLI again (and it records anew).
    await fs.writeFile(manifest, '[tools]\nnode = "20"\n');
    const missing = await qm(['which', 'node']);
    assert.equal(missing.full, true);
    assert.equal(missing.code, 1, 'node 20 is not installed');
    await fs.writeFile(manifest, '[tools]\nnode = "22"\n');
    await same(['which', 'node'], false);
    await same(['which', 'node'], true);

    // A qm.lock appearing beside it, another platform or mirror, flags the fast path does not take.
    await fs.writeFile(path.join(project, 'qm.lock'), '# not yet\n');
    assert.equal((await qm(['which', 'node'])).full, true);
    await fs.rm(path.join(project, 'qm.lock'));
    await same(['which', 'node'], true); // as it was when recorded
    await same(['env', '--json'], false);
    await same(['which', 'node'], false, { QM_MIRROR_NODE: `${server.url}/dist/` });

    // One record per manifest: the other mirror's replaced it, so the full CLI once more.
    await same(['which', 'node'], false);
    await same(['which', 'node'], true);
    // The toolchain uninstalled: its receipt is gone, so the record no longer holds.

    assert.equal((await qm(['uninstall', 'node@22.12.0'])).code, 0);
    const gone = await qm(['which', 'node']);
    assert.deepEqual([gone.code, gone.full], [1, true]);
    assert.match(gone.stderr, /ENOTINSTALLED/);
  });

  it('a manifest with warnings is always read by the full CLI, which prints them', async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\n\n[unknown-table]\nx = 1\n');
    assert.equal((await qm(['install'])).code, 0);
    for (let i = 0; i < 2; i++) {
      const result = await qm(['which', 'node']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.full, true);
      assert.match(result.stderr, /warning/);
    }
  });
});
