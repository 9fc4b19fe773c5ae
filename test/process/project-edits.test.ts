import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { lockMismatch, parseLockfile } from '../../src/core/lockfile/qm-lock';
import { parseQmToml } from '../../src/core/manifest/qm-toml';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist } from '../fixtures/zig-dist';
import { runQm } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const RUNS = 10;

/**
 * Edits of a project's qm.toml and qm.lock by concurrent processes merge: each read-modify-write
 * holds the file's lock and re-reads inside it (issue 10, item 9). Real `qm` processes, started
 * together, ten times over: before the lock, one pin was lost in 3 to 4 runs of 10.
 */
describe('concurrent qm use and qm lock never lose an edit', () => {
  let server: MirrorServer;
  let root: string;
  let project: string;
  let dispose: () => Promise<void>;

  before(async () => {
    server = await MirrorServer.start();
    await Promise.all([
      publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64', 'darwin-arm64'] }),
      publishZigDist(server, DEFAULT_ZIG_RELEASES, { platforms: ['x86_64-linux', 'aarch64-macos'] }),
    ]);
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home: root, dispose } = await tempHome());
    project = path.join(root, 'project');
    await fs.mkdir(project);
  });
  afterEach(() => dispose());

  const env = (): NodeJS.ProcessEnv => ({
    QM_HOME: path.join(root, 'qm'),
    QM_MIRROR_NODE: `${server.url}/dist`,
    QM_MIRROR_ZIG: `${server.url}/download`,
    QM_PLATFORM: 'linux-x64',
  });
  const ok = async (args: string[]): Promise<void> => {
    const result = await runQm(args, { cwd: project, env: env() });
    assert.equal(result.code, 0, `qm ${args.join(' ')}: ${result.stderr}`);
  };
  const read = (name: string): Promise<string> => fs.readFile(path.join(project, name), 'utf8');

  it(`qm use node@… and qm use zig@… at once keep both pins, and qm.lock follows both (${RUNS} runs)`, async () => {
    const manifest = '# team toolchains\n[tools]\nnode = "20" # LTS\nzig = "0.12.1"\n';
    await fs.writeFile(path.join(project, 'qm.toml'), manifest);
    await ok(['lock']);
    const lock = await read('qm.lock');
    // Installed beforehand, so both runs reach their edit at about the same moment.
    await ok(['install', 'node@22', 'zig@0.13.0']);
    for (let run = 1; run <= RUNS; run++) {
      await fs.writeFile(path.join(project, 'qm.toml'), manifest);
      await fs.writeFile(path.join(project, 'qm.lock'), lock);
      await Promise.all([ok(['use', 'node@22']), ok(['use', 'zig@0.13.0'])]);
      assert.equal(await read('qm.toml'), '# team toolchains\n[tools]\nnode = "22" # LTS\nzig = "0.13.0"\n', `run ${run}: both pins kept`);
      const parsed = parseQmToml(await read('qm.toml'), path.join(project, 'qm.toml'));
      assert.equal(lockMismatch(parsed, parseLockfile(await read('qm.lock'), 'qm.lock'), 'linux-x64'), undefined, `run ${run}: qm.lock matches qm.toml`);
    }
    assert.deepEqual((await listFiles(project)).sort(), ['qm.lock', 'qm.toml'], 'no temp file left in the project');
  });

  it(`qm lock for two platforms at once keeps both platforms' entries (${RUNS} runs)`, async () => {
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "22"\nzig = "0.13.0"\n');
    for (let run = 1; run <= RUNS; run++) {
      await fs.rm(path.join(project, 'qm.lock'), { force: true });
      await Promise.all([ok(['lock', '--platform', 'linux-x64']), ok(['lock', '--platform', 'darwin-arm64'])]);
      const entries = parseLockfile(await read('qm.lock'), 'qm.lock').tools.map((t) => `${t.name} ${t.platform}`).sort();
      assert.deepEqual(entries, ['node darwin-arm64', 'node linux-x64', 'zig darwin-arm64', 'zig linux-x64'], `run ${run}`);
    }
  });
});
