import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isQmError, type QmError, type QmErrorCode } from '../../src/core/errors';
import { Downloader } from '../../src/core/fetch/downloader';
import type { Logger } from '../../src/core/log';
import { parsePlatform } from '../../src/core/platform';
import { IndexCache, type IndexCacheOptions } from '../../src/core/providers/index-cache';
import { indexError, isRecord, parseJsonIndex } from '../../src/core/providers/index-parsing';
import { createProviders, mirrorRules, type ProviderSet } from '../../src/core/providers/registry';
import type { ToolName, ToolRelease } from '../../src/core/providers/types';
import { parseVersionSpec } from '../../src/core/resolve/version-spec';
import { LockManager } from '../../src/core/store/locks';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../fixtures/go-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist } from '../fixtures/zig-dist';

const TTL_MS = 60_000;
const START = Date.UTC(2025, 0, 1);

interface Doc {
  generation: number;
  items: string[];
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

/** A document shaped like a small index: EINDEX when it is not JSON or not that shape. */
function parseDoc(url: string): (body: string) => Doc {
  return (body) => {
    const data = parseJsonIndex(body, url);
    if (!isRecord(data) || typeof data.generation !== 'number' || !Array.isArray(data.items)) throw indexError(url, 'expected {generation, items}');
    return { generation: data.generation, items: data.items.map(String) };
  };
}

function docBody(generation: number, items = 3): Buffer {
  return Buffer.from(JSON.stringify({ generation, items: Array.from({ length: items }, (_, i) => `item-${generation}-${i}`) }));
}

function recordingLogger(warnings: string[]): Logger {
  return { debug: () => undefined, info: () => undefined, warn: (line) => void warnings.push(line), error: () => undefined };
}

void describe('IndexCache', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let server: MirrorServer;
  let downloader: Downloader;
  let docs = 0;

  async function tempDir(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-index-cache-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A document at a path no other test uses, so per-path request counts start at zero. */
  function publishDoc(generation = 1, items = 3): { path: string; url: string; parse: (body: string) => Doc } {
    const urlPath = `/docs/${++docs}/index.json`;
    server.addFile(urlPath, docBody(generation, items));
    const url = `${server.url}${urlPath}`;
    return { path: urlPath, url, parse: parseDoc(url) };
  }

  function cache(dir: string, options: Partial<IndexCacheOptions> = {}): IndexCache {
    return new IndexCache({ dir, fetcher: downloader, ttlMs: TTL_MS, ...options });
  }

  before(async () => {
    server = await MirrorServer.start();
    // No retries: a failing refetch fails at once.
    downloader = new Downloader({ env: {}, retries: 0 });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await downloader.close();
    await server.close();
  });

  it('50 concurrent resolves across tools, specs and provider sets fetch each index URL exactly once', async () => {
    const mirror = await MirrorServer.start();
    cleanups.push(() => mirror.close());
    await Promise.all([
      publishNodeDist(mirror, DEFAULT_RELEASES),
      publishGoDist(mirror, DEFAULT_GO_RELEASES),
      publishZigDist(mirror, DEFAULT_ZIG_RELEASES),
    ]);
    const mirrored = new Downloader({ env: {}, retries: 0, mirrors: mirrorRules({ node: `${mirror.url}/dist`, go: `${mirror.url}/dl`, zig: `${mirror.url}/download` }) });
    cleanups.push(() => mirrored.close());
    const indexes = new IndexCache({ dir: await tempDir(), fetcher: mirrored });

    const jobs: [ToolName, string, string][] = [
      ['node', 'lts', 'linux-x64'],
      ['node', '20', 'darwin-arm64'],
      ['node', 'latest', 'linux-arm64'],
      ['node', 'lts/hydrogen', 'linux-x64'],
      ['go', '1.23', 'linux-x64'],
      ['go', '1.24rc1', 'win32-x64'],
      ['go', 'latest', 'darwin-arm64'],
      ['zig', '0.13', 'linux-arm64'],
      ['zig', '^0.11', 'win32-x64'],
      ['zig', 'latest', 'darwin-arm64'],
    ];
    const wave = (): Promise<unknown[]> =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const [tool, spec, platform] = jobs[i % jobs.length]!;
          // A fresh provider set every few calls: providers are cheap views over one shared cache.
          const providers: ProviderSet = createProviders(indexes, i % 3 === 0 ? { nodeArchive: 'tar.xz' } : {});
          return i % 7 === 0 ? providers[tool].releases() : providers[tool].resolve(parseVersionSpec(spec), parsePlatform(platform));
        }),
      );
    await wave();
    await wave();

    const fetched = ['/dist/index.json', '/dl/', '/download/index.json', '/dist/v22.12.0/SHASUMS256.txt', '/dist/v20.18.1/SHASUMS256.txt', '/dist/v23.3.0/SHASUMS256.txt', '/dist/v18.20.4/SHASUMS256.txt'];
    for (const urlPath of fetched) assert.equal(mirror.stats(urlPath).requests, 1, urlPath);
    // Resolving reads indexes only: no archive, and no SHASUMS of a release nobody asked for.
    assert.equal(mirror.stats('/dist/v22.11.0/SHASUMS256.txt').requests, 0);
    assert.equal(mirror.stats('/dl/go1.23.4.linux-amd64.tar.gz').requests, 0);
  });

  it('caches in six processes sharing a home fetch a missing index once: the rest wait on its lock and read the copy it left', async () => {
    const dir = await tempDir();
    const locksDir = await tempDir();
    const doc = publishDoc(1);
    // One cache and one LockManager per process, as six `qm install`s started together have.
    const caches = Array.from({ length: 6 }, () => cache(dir, { locks: new LockManager(locksDir) }));
    const docs = await Promise.all(caches.map((each) => each.get(doc.url, doc.parse)));
    assert.ok(docs.every((got) => got.generation === 1));
    assert.equal(server.stats(doc.path).requests, 1);
    assert.deepEqual(await fs.readdir(locksDir), [], 'every lock released');
  });

  it('with keepNotFound a 404 is remembered for the TTL, in memory and on disk; without it, asked again each time', async () => {
    const dir = await tempDir();
    const urlPath = `/docs/${++docs}/SHASUMS256.txt.asc`;
    const url = `${server.url}${urlPath}`;
    let clock = START;
    const now = (): number => clock;
    const is404 = (error: unknown): boolean => isQmError(error, 'EHTTP') && error.details.status === 404;
    const first = cache(dir, { now });
    await assert.rejects(first.get(url, (body) => body, { keepNotFound: true }), is404);
    await assert.rejects(first.get(url, (body) => body, { keepNotFound: true }), is404);
    await assert.rejects(cache(dir, { now }).get(url, (body) => body, { keepNotFound: true }), is404, 'another process reads the 404 from disk');
    assert.equal(server.stats(urlPath).requests, 1);
    assert.equal(first.peek(url), undefined);

    clock = START + TTL_MS;
    server.addFile(urlPath, Buffer.from('signed now\n'));
    assert.equal(await cache(dir, { now }).get(url, (body) => body, { keepNotFound: true }), 'signed now\n');
    assert.equal(server.stats(urlPath).requests, 2);

    const other = `/docs/${++docs}/missing.json`;
    const plain = cache(await tempDir(), { now });
    await assert.rejects(plain.get(`${server.url}${other}`, (body) => body), is404);
    await assert.rejects(plain.get(`${server.url}${other}`, (body) => body), is404);
    assert.equal(server.stats(other).requests, 2);
  });

  it('a fresh disk copy serves a brand-new cache without a request; a stale one is fetched again', async () => {
    const dir = await tempDir();
    const doc = publishDoc(1);
    let clock = START;
    const now = (): number => clock;

    const first = cache(dir, { now });
    assert.equal((await first.get(doc.url, doc.parse)).generation, 1);
    assert.equal(server.stats(doc.path).requests, 1);

    clock = START + TTL_MS - 1;
    server.addFile(doc.path, docBody(2));
    assert.equal((await cache(dir, { now }).get(doc.url, doc.parse)).generation, 1);
    assert.equal((await first.get(doc.url, doc.parse)).generation, 1);
    assert.equal(server.stats(doc.path).requests, 1);

    clock = START + TTL_MS;
    assert.equal((await cache(dir, { now }).get(doc.url, doc.parse)).generation, 2);
    assert.equal(server.stats(doc.path).requests, 2);
    // The first cache's memory copy is stale now too; the disk copy the other wrote is fresh.
    assert.equal((await first.get(doc.url, doc.parse)).generation, 2);
    assert.equal(server.stats(doc.path).requests, 2);

    // refresh fetches even when fresh.
    server.addFile(doc.path, docBody(3));
    assert.equal((await first.get(doc.url, doc.parse, { refresh: true })).generation, 3);
    assert.equal(server.stats(doc.path).requests, 3);
  });

  it('serves the stale copy when fetching again fails, and fails when there is no copy', async () => {
    const dir = await tempDir();
    const doc = publishDoc(1);
    let clock = START;
    const now = (): number => clock;
    await cache(dir, { now }).get(doc.url, doc.parse);

    clock = START + 10 * TTL_MS;
    server.addFile(doc.path, docBody(2));
    server.fault(doc.path, { kind: 'status', status: 500, times: 1000 });
    const warnings: string[] = [];
    const stale = cache(dir, { now, logger: recordingLogger(warnings) });
    assert.equal((await stale.get(doc.url, doc.parse)).generation, 1);
    assert.equal((await stale.get(doc.url, doc.parse, { refresh: true })).generation, 1);
    assert.deepEqual(server.stats(doc.path).statuses, [200, 500, 500]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, new RegExp(`^Could not refresh ${doc.url} \\(GET .* failed: HTTP 500.*\\); using the copy from 2025-01-01T00:00:00.000Z\\.$`));

    await rejectsWith(cache(await tempDir(), { now }).get(doc.url, doc.parse), 'EHTTP');

    server.clearFaults(doc.path);
    assert.equal((await stale.get(doc.url, doc.parse)).generation, 2);
  });

  it('offline, serves disk copies however old and fails with ENETWORK without one, never fetching', async () => {
    const dir = await tempDir();
    const doc = publishDoc(1);
    await cache(dir, { now: () => START }).get(doc.url, doc.parse);
    server.addFile(doc.path, docBody(2));

    const offline = cache(dir, { offline: true, now: () => START + 1000 * TTL_MS });
    assert.equal((await offline.get(doc.url, doc.parse)).generation, 1);
    assert.equal((await offline.get(doc.url, doc.parse, { refresh: true })).generation, 1);

    const other = publishDoc(1);
    const error = await rejectsWith(cache(dir, { offline: true }).get(other.url, other.parse), 'ENETWORK');
    assert.equal(error.details.url, other.url);
    assert.match(error.message, /Offline, and no copy of .* is cached/);
    assert.equal(server.stats(doc.path).requests, 1);
    assert.equal(server.stats(other.path).requests, 0);
  });

  it('an index that does not parse never replaces a good copy, on disk or in memory', async () => {
    const dir = await tempDir();
    const doc = publishDoc(1);
    const good = cache(dir);
    await good.get(doc.url, doc.parse);

    for (const body of ['<html>Bad Gateway</html>', '{"generation": "two"}', '']) {
      server.addFile(doc.path, Buffer.from(body));
      const error = await rejectsWith(cache(dir).get(doc.url, doc.parse, { refresh: true }), 'EINDEX');
      assert.equal(error.details.url, doc.url);
      assert.equal((await cache(dir, { offline: true }).get(doc.url, doc.parse)).generation, 1, `after ${JSON.stringify(body)}`);
      await rejectsWith(good.get(doc.url, doc.parse, { refresh: true }), 'EINDEX');
      assert.equal(good.peek<Doc>(doc.url)?.generation, 1);
    }
  });

  it('a disk copy that no longer parses is fetched again rather than failing', async () => {
    const dir = await tempDir();
    const doc = publishDoc(1);
    await cache(dir).get(doc.url, doc.parse);
    const [file, ...others] = (await fs.readdir(dir)).filter((name) => name.endsWith('.json'));
    assert.ok(file !== undefined && others.length === 0);
    const envelope = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    await fs.writeFile(path.join(dir, file), JSON.stringify({ ...envelope, body: '{"written by": "another version"}' }));

    assert.equal((await cache(dir).get(doc.url, doc.parse)).generation, 1);
    assert.equal(server.stats(doc.path).requests, 2);
  });

  it('readers never see a half-written cache file while many caches rewrite it', async () => {
    const dir = await tempDir();
    // Big enough (about 700 KB) that writing it takes many write calls.
    const doc = publishDoc(1, 30_000);
    let running = true;
    let reads = 0;
    const readRaw = async (): Promise<void> => {
      while (running) {
        for (const name of await fs.readdir(dir).catch(() => [])) {
          if (!name.endsWith('.json')) continue;
          const text = await fs.readFile(path.join(dir, name), 'utf8');
          const envelope = JSON.parse(text) as { url: string; body: string };
          assert.equal(envelope.url, doc.url);
          assert.equal(doc.parse(envelope.body).items.length, 30_000);
          reads += 1;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const rewrite = async (): Promise<void> => {
      for (let round = 0; round < 2 && running; round++) {
        // Half refetch and rewrite the file; the other half read it as brand-new caches do.
        const results = await Promise.all(Array.from({ length: 16 }, (_, i) => cache(dir).get(doc.url, doc.parse, { refresh: i % 2 === 0 })));
        for (const result of results) assert.equal(result.items.length, 30_000);
      }
    };
    // The first failure stops everyone, so nothing is left running after the test.
    const settled = await Promise.allSettled(
      [rewrite(), readRaw(), readRaw()].map((task) => task.finally(() => (running = false))),
    );
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;

    assert.ok(reads > 0, 'the readers never saw the file');
    const left = await fs.readdir(dir);
    assert.equal(left.length, 1, `temp files left behind: ${left.join(', ')}`);
  });

  it('peek returns the frozen value a get produced; mutating it throws', async () => {
    const mirror = await MirrorServer.start();
    cleanups.push(() => mirror.close());
    await Promise.all([
      publishNodeDist(mirror, DEFAULT_RELEASES.slice(-2)),
      publishGoDist(mirror, DEFAULT_GO_RELEASES.slice(0, 2)),
      publishZigDist(mirror, DEFAULT_ZIG_RELEASES.slice(-2)),
    ]);
    const mirrored = new Downloader({ env: {}, retries: 0, mirrors: mirrorRules({ node: `${mirror.url}/dist`, go: `${mirror.url}/dl`, zig: `${mirror.url}/download` }) });
    cleanups.push(() => mirrored.close());
    const indexes = new IndexCache({ dir: await tempDir(), fetcher: mirrored });
    const providers = createProviders(indexes);
    const indexUrls: Record<'node' | 'go' | 'zig', string> = {
      node: 'https://nodejs.org/dist/index.json',
      go: 'https://go.dev/dl/?mode=json&include=all',
      zig: 'https://ziglang.org/download/index.json',
    };

    for (const tool of ['node', 'go', 'zig'] as const) {
      assert.equal(indexes.peek(indexUrls[tool]), undefined);
      const releases = await providers[tool].releases();
      assert.equal(indexes.peek(indexUrls[tool]), releases);
      assert.ok(Object.isFrozen(releases) && Object.isFrozen(releases[0]));
      const release = releases[0] as ToolRelease & Record<string, unknown>;
      assert.throws(() => releases.push(release), TypeError);
      assert.throws(() => {
        release.version = '0.0.0';
      }, TypeError);
      // Nested parts too: node's files, go's files, zig's targets.
      const nested = Object.values(release).find((value): value is object => typeof value === 'object' && value !== null);
      assert.ok(nested !== undefined && Object.isFrozen(nested), `${tool} release has an unfrozen part`);
      assert.throws(() => Object.assign(nested, { extra: 1 }), TypeError);
    }

    await providers.node.resolve(parseVersionSpec('23'), parsePlatform('linux-x64'));
    const sums = indexes.peek<Record<string, string>>('https://nodejs.org/dist/v23.3.0/SHASUMS256.txt');
    assert.ok(sums !== undefined);
    assert.match(sums['node-v23.3.0-linux-x64.tar.gz'] ?? '', /^[0-9a-f]{64}$/);
    assert.throws(() => {
      sums['node-v23.3.0-linux-x64.tar.gz'] = '0'.repeat(64);
    }, TypeError);
  });

  it('one caller cancelling does not fail the others sharing the fetch; when all cancel, the next get starts afresh', async () => {
    const dir = await tempDir();
    const doc = publishDoc(1, 400);
    // About half a second for the whole body, so the cancel lands mid-transfer.
    server.fault(doc.path, { kind: 'throttle', bytesPerSecond: 16 * 1024, times: 1 });
    const indexes = cache(dir);
    const leaving = new AbortController();
    const cancelled = indexes.get(doc.url, doc.parse, { signal: leaving.signal });
    const staying = indexes.get(doc.url, doc.parse);
    await server.waitFor(doc.path, (s) => s.bytesSent > 0);
    leaving.abort();
    await rejectsWith(cancelled, 'ECANCELLED');
    assert.equal((await staying).items.length, 400);
    assert.deepEqual(server.stats(doc.path).statuses, [200]);
    assert.equal(server.stats(doc.path).fullBodies, 1);

    const lone = publishDoc(1, 400);
    server.fault(lone.path, { kind: 'stall', afterBytes: 100, times: 1 });
    const alone = new AbortController();
    const abandoned = indexes.get(lone.url, lone.parse, { signal: alone.signal });
    await server.waitFor(lone.path, (s) => s.bytesSent > 0);
    alone.abort();
    await rejectsWith(abandoned, 'ECANCELLED');
    assert.equal((await indexes.get(lone.url, lone.parse)).generation, 1);
    assert.equal(server.stats(lone.path).requests, 2);
  });
});
