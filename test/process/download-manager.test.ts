import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DownloadManager } from '../../src/core/download-manager';
import { Downloader } from '../../src/core/fetch/downloader';
import { HomeLayout } from '../../src/core/home';
import { MirrorServer } from '../fixtures/mirror-server';
import { ChildScript } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

interface Done {
  event: 'done';
  pid: number;
  results: Array<{ path: string; downloaded: boolean }>;
}

const FETCH_CHILD = 'test/helpers/fetch-blob.ts';

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

describe('DownloadManager across processes sharing one QM_HOME', () => {
  let server: MirrorServer;
  let home: string;
  let dispose: () => Promise<void>;
  const children: ChildScript[] = [];

  before(async () => {
    server = await MirrorServer.start();
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  function spawnFetch(blob: { url: string; sha256: string; size: number }, count: number, env: NodeJS.ProcessEnv = {}): ChildScript {
    const child = new ChildScript(FETCH_CHILD, [home, blob.url, blob.sha256, String(blob.size), String(count)], env);
    children.push(child);
    return child;
  }

  /** Starts processes that wait for a go, so that they all begin at the same moment. */
  async function spawnReady(blob: { url: string; sha256: string; size: number }, count: number): Promise<ChildScript> {
    const child = spawnFetch(blob, count, { QM_TEST_WAIT_GO: '1' });
    await child.waitFor((m) => m.event === 'ready');
    return child;
  }

  async function allDone(processes: ChildScript[]): Promise<Done[]> {
    return Promise.all(processes.map((child) => child.waitFor<Done>((m) => m.event === 'done')));
  }

  it('the Spin case: 16 requests in one process and 4 processes x 4 requests make exactly one full GET', async () => {
    const path = '/spin/fileserver.wasm';
    const blob = server.addFile(path, randomBytes(3 * 1024 * 1024));
    // Slow enough that every process starts while the first transfer is still running.
    server.fault(path, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    const processes = await Promise.all(Array.from({ length: 4 }, () => spawnReady(blob, 4)));
    const downloader = new Downloader();
    const manager = new DownloadManager({ home, fetcher: downloader });
    try {
      for (const child of processes) child.send('go');
      const local = await Promise.all(Array.from({ length: 16 }, () => manager.fetchBlob(blob)));
      const remote = await allDone(processes);
      const paths = new Set([...local.map((r) => r.path), ...remote.flatMap((d) => d.results.map((r) => r.path))]);
      assert.equal(paths.size, 1, 'everyone got the same content-addressed path');
      assert.equal(remote.flatMap((d) => d.results).length, 16);
      assert.equal(server.stats(path).gets, 1);
      assert.equal(server.stats(path).fullBodies, 1);
      assert.equal(server.stats(path).bytesSent, blob.size);
      assert.equal(await sha256Of([...paths][0]!), blob.sha256);
      assert.deepEqual(await listFiles(new HomeLayout(home).tmpDir), []);
    } finally {
      await downloader.close();
    }
  });

  it('the rustup case: 8 processes on one blob and 3 on others at once, each blob fetched once, no temp file clobbered', async () => {
    const shared = server.addFile('/rustup/shared.tar.gz', randomBytes(2 * 1024 * 1024));
    const others = [1, 2, 3].map((i) => server.addFile(`/rustup/other-${i}.tar.gz`, randomBytes(1024 * 1024 + i)));
    for (const path of ['/rustup/shared.tar.gz', ...[1, 2, 3].map((i) => `/rustup/other-${i}.tar.gz`)]) {
      server.fault(path, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    }
    const processes = await Promise.all([...Array.from({ length: 8 }, () => spawnReady(shared, 1)), ...others.map((blob) => spawnReady(blob, 1))]);
    for (const child of processes) child.send('go');
    const done = await allDone(processes);
    assert.equal(server.stats('/rustup/shared.tar.gz').gets, 1);
    assert.equal(server.stats('/rustup/shared.tar.gz').fullBodies, 1);
    for (const i of [1, 2, 3]) assert.equal(server.stats(`/rustup/other-${i}.tar.gz`).gets, 1);
    for (const [index, blob] of [...Array<typeof shared>(8).fill(shared), ...others].entries()) {
      assert.equal(await sha256Of(done[index]!.results[0]!.path), blob.sha256);
    }
    assert.equal(done.slice(0, 8).flatMap((d) => d.results).filter((r) => r.downloaded).length, 1, 'one process downloaded, seven found it');
    assert.deepEqual(await listFiles(new HomeLayout(home).tmpDir), []);
    assert.deepEqual(await listFiles(new HomeLayout(home).locksDir), []);
  });

  it('a process SIGKILLed while downloading under the lock: the waiter takes over before the stale timeout, nothing corrupt is published', async () => {
    const path = '/killed/toolchain.tar.xz';
    const size = 4 * 1024 * 1024;
    const blob = server.addFile(path, randomBytes(size));
    server.fault(path, { kind: 'throttle', bytesPerSecond: 1024 * 1024, times: 1 });
    const staleMs = 10_000;
    const victim = spawnFetch(blob, 1, { QM_TEST_STALE_MS: String(staleMs) });
    await victim.waitFor((m) => m.event === 'downloading');
    const waiter = spawnFetch(blob, 1, { QM_TEST_STALE_MS: String(staleMs) });
    const waiting = await waiter.waitFor<{ event: string; holder?: number }>((m) => m.event === 'waiting');
    assert.equal(waiting.holder, victim.pid, 'the waiter names the process it waits for');
    await server.waitFor(path, (s) => s.bytesSent >= 256 * 1024);

    const layout = new HomeLayout(home);
    const partials = await listFiles(layout.tmpDir);
    assert.equal(partials.length, 1, 'the victim streams into one unique temp file');
    await assert.rejects(fs.access(layout.blobPath(blob.sha256)), 'nothing is visible at the final path mid-download');

    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const done = await waiter.waitFor<Done>((m) => m.event === 'done');
    const waited = Date.now() - killedAt;
    assert.ok(waited < staleMs, `the waiter finished ${waited} ms after the kill; the stale timeout is ${staleMs} ms`);
    assert.equal(done.results[0]!.downloaded, true);
    assert.equal(await sha256Of(done.results[0]!.path), blob.sha256);
    assert.equal(server.stats(path).fullBodies, 1);

    // The victim's partial file survives until a recovery sees its owner is dead.
    const manager = new DownloadManager({ home, fetcher: new Downloader() });
    const report = await manager.recover();
    assert.deepEqual(report.tempsRemoved, partials.map((name) => `tmp/${name}`));
    assert.deepEqual(await listFiles(layout.tmpDir), []);
  });
});
