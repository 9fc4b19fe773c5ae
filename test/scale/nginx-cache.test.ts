// The fixture mirror behind a real nginx proxy_cache on 127.0.0.1 (issue 13): separate homes
// installing at once cost one upstream GET per file, a cut download resumes from nginx's cache,
// and an nginx that answers 502/504 gives a clear error after a bounded number of attempts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { listFiles, tempHome } from '../helpers/temp-home';
import { ROOT, runQm } from '../helpers/child';
import { HomeLayout } from '../../src/core/home';
import { TcpRelay } from './harness/tcp-relay';
import { NginxCache, nginxUnavailable } from './harness/nginx';
import { freePort, SilentServer } from './harness/ports';
import { assertInstalledTree, qmEnv, ToolchainWorld, VERSION } from './harness/toolchain-world';

/** A safety net only: a wedged nginx or qm fails its test instead of hanging CI. */
const TIMEOUT = { timeout: 180_000 };

const MiB = 1024 * 1024;
const HOMES = 8;
const skip = nginxUnavailable();

describe('an org caching mirror: qm through a real nginx proxy_cache', { skip }, () => {
  let world: ToolchainWorld;
  let nginx: NginxCache;
  let silent: SilentServer;
  let scratch: { home: string; dispose: () => Promise<void> };

  before(async () => {
    world = await ToolchainWorld.start(4 * MiB);
    silent = await SilentServer.start();
  });
  after(async () => {
    await silent?.close();
    await world?.close();
  });
  // A fresh nginx, so an empty cache, for every test.
  beforeEach(async () => {
    scratch = await tempHome('qm-scale-nginx-');
    world.mirror.clearFaults();
    world.mirror.resetStats();
    const closed = await freePort();
    nginx = await NginxCache.start([
      { match: '/dist/', upstream: `${world.mirror.url}/dist/`, cache: true },
      // Indexes pass through; the archives meet a dead upstream (502) or a silent one (504).
      { match: '/gw502/dist/', upstream: `${world.mirror.url}/dist/` },
      { match: '^/gw502/.*\\.tar\\.(gz|xz)$', regex: true, upstream: `http://127.0.0.1:${closed}` },
      { match: '/gw504/dist/', upstream: `${world.mirror.url}/dist/` },
      { match: '^/gw504/.*\\.tar\\.(gz|xz)$', regex: true, upstream: `http://127.0.0.1:${silent.port}`, readTimeout: '1s' },
    ]);
  });
  afterEach(async () => {
    await nginx?.stop();
    await scratch.dispose();
  });

  const home = (i: number): string => path.join(scratch.home, `home-${i}`);

  it(`${HOMES} separate homes install at once: one upstream GET per file, every tree the archive's`, TIMEOUT, async (t) => {
    // qm -> front relay -> nginx -> back relay -> mirror: the archive's upstream response is held
    // until every home's request for it has reached nginx, so they all meet the cache lock.
    const back = await TcpRelay.toUrl(world.mirror.url);
    const cache = await NginxCache.start([{ match: '/dist/', upstream: `${back.url}/dist/`, cache: true }]);
    const front = await TcpRelay.toUrl(cache.url);
    try {
      const archivePaths = world.archives.map((a) => a.path);
      back.hold(archivePaths);
      const runs = Array.from({ length: HOMES }, (_, i) => runQm(['install', `node@${VERSION}`], { cwd: scratch.home, env: qmEnv(home(i), `${front.url}/dist`) }));
      await front.requestsArrived(archivePaths, HOMES);
      back.release();
      const results = await Promise.all(runs);
      for (const [i, result] of results.entries()) assert.equal(result.code, 0, `home ${i}: ${result.stderr}`);

      const { archive } = world.fetchedArchive();
      const log = await cache.log();
      const asked = log.map((entry) => entry.uri);
      const upstream = world.upstreamRequests([...new Set(asked)]);
      t.diagnostic(`nginx saw ${asked.length} requests; upstream: ${JSON.stringify(upstream)}`);
      assert.equal(log.filter((entry) => entry.uri === archive.path && entry.cache === 'MISS').length, 1, 'one request filled the cache, the others waited for it');
      for (const [file, count] of Object.entries(upstream)) assert.equal(count, 1, `${file} went upstream once`);
      assert.equal(world.mirror.stats(archive.path).bytesSent, archive.size, 'the archive crossed the upstream link once');
      for (let i = 0; i < HOMES; i++) await assertInstalledTree(home(i), world.reference, `home ${i}`);
    } finally {
      back.release();
      await front.close();
      await cache.stop();
      await back.close();
    }
  });

  it('the nginx recipe in docs/scale-out.md, as written: each byte goes upstream once, every tree the archive\'s', TIMEOUT, async (t) => {
    const docs = await fs.readFile(path.join(ROOT, 'docs', 'scale-out.md'), 'utf8');
    const recipe = /```nginx\n([\s\S]*?)```/.exec(docs)?.[1];
    assert.ok(recipe, 'docs/scale-out.md has an nginx recipe');
    const recipeNginx = await NginxCache.start({
      http: (prefix, port) => substitute(recipe, [
        ['listen 443 ssl;', `listen 127.0.0.1:${port};`],
        ['/var/cache/nginx/qm', path.join(prefix, 'cache')],
        ['https://nodejs.org', world.mirror.url],
        ['https://ziglang.org', world.mirror.url],
      ]),
    });
    try {
      world.faultArchives({ kind: 'throttle', bytesPerSecond: 8 * MiB });
      const results = await Promise.all(
        Array.from({ length: HOMES }, (_, i) => runQm(['install', `node@${VERSION}`], { cwd: scratch.home, env: qmEnv(home(i), `${recipeNginx.url}/nodejs/dist`) })),
      );
      for (const [i, result] of results.entries()) assert.equal(result.code, 0, `home ${i}: ${result.stderr}`);
      const { archive, stats } = world.fetchedArchive();
      t.diagnostic(`upstream archive requests: ${stats.requests} (${stats.rangeRequests} slices), ${stats.bytesSent} bytes of ${archive.size}`);
      assert.equal(stats.gets, 0, 'only 1 MiB slices went upstream');
      assert.equal(stats.rangeRequests, Math.ceil(archive.size / MiB), 'each slice once');
      assert.equal(stats.bytesSent, archive.size, 'each byte crossed the upstream link once');
      for (const file of ['/dist/index.json', `/dist/v${VERSION}/SHASUMS256.txt`]) assert.equal(world.mirror.stats(file).requests, 1, `${file} went upstream once`);
      for (let i = 0; i < HOMES; i++) await assertInstalledTree(home(i), world.reference, `home ${i}`);
    } finally {
      await recipeNginx.stop();
    }
  });

  it('a download cut mid-body resumes with a Range that nginx answers 206 from its cache', TIMEOUT, async (t) => {
    const proxy = await TcpRelay.toUrl(nginx.url);
    try {
      world.faultArchives({ kind: 'throttle', bytesPerSecond: 16 * MiB });
      // Whichever archive qm picks, its first response is cut a megabyte in.
      const cut = proxy.cutOnce(world.archives.map((a) => a.path), MiB);
      const result = await runQm(['install', `node@${VERSION}`], { cwd: scratch.home, env: qmEnv(home(0), `${proxy.url}/dist`) });
      assert.equal(result.code, 0, result.stderr);
      const cutPath = await Promise.race([cut, Promise.resolve('not cut')]);

      const { archive, stats } = world.fetchedArchive();
      assert.equal(cutPath, archive.path, 'the archive download was cut');
      const served = (await nginx.log()).filter((entry) => entry.uri === archive.path);
      t.diagnostic(`nginx served the archive as ${JSON.stringify(served)}`);
      assert.equal(stats.requests, 1, 'the upstream sent the archive once: nginx kept filling its cache after the client was cut');
      const resumed = served.find((entry) => entry.range !== '');
      assert.ok(resumed, 'qm resumed with a Range request');
      assert.equal(resumed.status, 206);
      assert.equal(resumed.cache, 'HIT', 'the resumed bytes came from the cache');
      assert.ok(resumed.bytes < archive.size, 'only the rest of the file was sent again');
      await assertInstalledTree(home(0), world.reference);
    } finally {
      await proxy.close();
    }
  });

  for (const [status, words, prefix] of [[502, 'Bad Gateway', 'gw502'], [504, 'Gateway Time-out', 'gw504']] as const) {
    it(`nginx answering ${status} gives a clear ${status} error after a bounded number of attempts`, TIMEOUT, async () => {
      const result = await runQm(['install', `node@${VERSION}`], { cwd: scratch.home, env: qmEnv(home(0), `${nginx.url}/${prefix}/dist`) });
      assert.equal(result.code, 1, result.stderr);
      const message = new RegExp(`qm: error EHTTP: GET http://127\\.0\\.0\\.1:\\d+/${prefix}/dist/v${VERSION}/node-v${VERSION}-linux-x64\\.tar\\.(gz|xz) failed: HTTP ${status} ${words} \\(gave up after (\\d+) attempts\\)`);
      const match = message.exec(result.stderr);
      assert.ok(match, `the error names the URL, the status and the attempts: ${result.stderr}`);
      const attempts = Number(match[2]);
      const archiveRequests = (await nginx.log()).filter((entry) => entry.uri.startsWith(`/${prefix}/`) && /\.tar\.(gz|xz)$/.test(entry.uri));
      assert.ok(attempts >= 2 && attempts <= 10, `retried, but boundedly: ${attempts}`);
      assert.equal(archiveRequests.length, attempts, 'each attempt was one request to nginx');
      assert.ok(archiveRequests.every((entry) => entry.status === status));
      const layout = new HomeLayout(home(0));
      assert.deepEqual(await listFiles(layout.tmpDir), [], 'nothing half-written is left');
      assert.deepEqual(await listFiles(layout.toolchainsDir), []);
    });
  }
});

/** Replaces each `from` with `to`, insisting that each is there: a docs edit must not silently bypass the test. */
function substitute(text: string, pairs: Array<[string, string]>): string {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `the recipe contains ${from}`);
    text = text.split(from).join(to);
  }
  return text;
}
