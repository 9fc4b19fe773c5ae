import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DownloadManager, type DownloadProgress } from '../../src/core/download-manager';
import { isQmError } from '../../src/core/errors';
import { Downloader } from '../../src/core/fetch/downloader';
import { MirrorServer } from '../fixtures/mirror-server';
import { listFiles, tempHome } from '../helpers/temp-home';

function artifact(server: MirrorServer, name: string, size: number): { url: string; sha256: string; size: number; path: string } {
  const path = `/blobs/${name}`;
  return { ...server.addFile(path, randomBytes(size)), path };
}

describe('DownloadManager in one process', () => {
  let server: MirrorServer;
  let home: string;
  let dispose: () => Promise<void>;
  let downloader: Downloader;
  let manager: DownloadManager;

  before(async () => {
    server = await MirrorServer.start();
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    downloader = new Downloader({ retries: 3, baseBackoffMs: 10, idleTimeoutMs: 2_000 });
    manager = new DownloadManager({ home, fetcher: downloader, maxConcurrent: 2 });
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    await downloader.close();
    await dispose();
  });

  it('shares one download among 16 concurrent requests (the Spin case) and publishes a verified blob', async () => {
    const blob = artifact(server, 'spin.wasm', 2 * 1024 * 1024);
    server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 8 * 1024 * 1024 });
    const results = await Promise.all(Array.from({ length: 16 }, () => manager.fetchBlob(blob)));
    assert.equal(server.stats(blob.path).gets, 1);
    assert.equal(server.stats(blob.path).fullBodies, 1);
    assert.equal(new Set(results.map((r) => r.path)).size, 1);
    assert.equal(results.filter((r) => r.downloaded).length, 16, 'all shared the one download');
    const bytes = await fs.readFile(results[0]!.path);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), blob.sha256);
    assert.deepEqual(await listFiles(manager.layout.tmpDir), []);

    const again = await manager.fetchBlob(blob);
    assert.equal(again.downloaded, false);
    assert.equal(server.stats(blob.path).requests, 1, 'a stored blob costs no request');
  });

  it('reports progress with bytes, total and rate to every requester', async () => {
    const blob = artifact(server, 'progress.bin', 1024 * 1024);
    server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    const seen: DownloadProgress[][] = [[], []];
    await Promise.all(seen.map((log) => manager.fetchBlob({ ...blob, onProgress: (p) => log.push(p) })));
    for (const log of seen) {
      const downloading = log.filter((p) => p.state === 'downloading');
      assert.ok(downloading.length >= 2, 'several progress events while bytes arrive');
      assert.ok(downloading.some((p) => p.bytesPerSecond > 0), 'a rate is reported');
      assert.equal(downloading.at(-1)?.total, blob.size);
      assert.equal(log.at(-1)?.state, 'done');
      assert.equal(log.at(-1)?.received, blob.size);
    }
  });

  it('keeps the shared download going when one waiter cancels', async () => {
    const blob = artifact(server, 'one-cancels.bin', 1024 * 1024);
    server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    const quitter = new AbortController();
    const cancelled = manager.fetchBlob({ ...blob, signal: quitter.signal, onProgress: (p) => p.received > 0 && quitter.abort() });
    const stays = manager.fetchBlob(blob);
    await assert.rejects(cancelled, (error) => isQmError(error, 'ECANCELLED'));
    const result = await stays;
    assert.equal(result.sha256, blob.sha256);
    assert.equal(server.stats(blob.path).gets, 1);
  });

  it('stops the transfer, removes the temp file and frees the lock when every waiter cancels', async () => {
    const blob = artifact(server, 'all-cancel.bin', 4 * 1024 * 1024);
    server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 1024 * 1024, times: 1 });
    const controllers = [new AbortController(), new AbortController()];
    const runs = controllers.map((controller) =>
      manager.fetchBlob({ ...blob, signal: controller.signal, onProgress: (p) => p.received > 0 && controller.abort() }),
    );
    for (const run of runs) await assert.rejects(run, (error) => isQmError(error, 'ECANCELLED'));
    // The abort reaches the transfer asynchronously: a fresh request proves the lock was freed
    // and the temp file removed, and must download again from scratch.
    const result = await manager.fetchBlob(blob);
    assert.equal(result.downloaded, true);
    assert.equal(server.stats(blob.path).fullBodies, 1);
    assert.ok(server.stats(blob.path).bytesSent < 2 * blob.size);
    assert.deepEqual(await listFiles(manager.layout.tmpDir), []);
  });

  it('never runs more transfers at once than the limit', async () => {
    const blobs = Array.from({ length: 5 }, (_, i) => artifact(server, `limit-${i}.bin`, 256 * 1024));
    for (const blob of blobs) server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 2 * 1024 * 1024 });
    const downloading = new Set<string>();
    let peak = 0;
    await Promise.all(
      blobs.map((blob) =>
        manager.fetchBlob({
          ...blob,
          onProgress: (p) => {
            if (p.state === 'downloading') downloading.add(p.sha256);
            else downloading.delete(p.sha256);
            peak = Math.max(peak, downloading.size);
          },
        }),
      ),
    );
    assert.equal(peak, 2);
  });

  it('retries a corrupt body once and publishes only verified bytes', async () => {
    const blob = artifact(server, 'corrupt-once.bin', 300 * 1024);
    server.fault(blob.path, { kind: 'corrupt', atByte: 1000, times: 1 });
    const result = await manager.fetchBlob(blob);
    assert.equal(server.stats(blob.path).gets, 2);
    assert.equal(createHash('sha256').update(await fs.readFile(result.path)).digest('hex'), blob.sha256);
  });

  it('fails with EINTEGRITY carrying expected and found when the mirror keeps serving wrong bytes, leaving nothing behind', async () => {
    const blob = artifact(server, 'corrupt-always.bin', 300 * 1024);
    server.fault(blob.path, { kind: 'corrupt', atByte: 5, times: 10 });
    await assert.rejects(manager.fetchBlob(blob), (error) => {
      assert.ok(isQmError(error, 'EINTEGRITY'));
      assert.equal(error.details.expected, blob.sha256);
      assert.match(String(error.details.found), /^[0-9a-f]{64}$/);
      assert.notEqual(error.details.found, blob.sha256);
      return true;
    });
    await assert.rejects(fs.access(manager.store.pathFor(blob.sha256)));
    assert.deepEqual(await listFiles(manager.layout.tmpDir), []);
    assert.deepEqual(await manager.locks.list(), []);
  });

  it('resumes through drops and retries through 500s and stalls, publishing the right bytes', async () => {
    const blob = artifact(server, 'faults.bin', 512 * 1024);
    server.fault(blob.path, { kind: 'status', status: 500, times: 2 });
    server.fault(blob.path, { kind: 'drop', afterBytes: 100_000, times: 1 });
    server.fault(blob.path, { kind: 'stall', afterBytes: 200_000, times: 1 });
    const stalling = new Downloader({ retries: 5, baseBackoffMs: 10, idleTimeoutMs: 300 });
    const faultTolerant = new DownloadManager({ home, fetcher: stalling });
    try {
      const result = await faultTolerant.fetchBlob(blob);
      assert.equal(createHash('sha256').update(await fs.readFile(result.path)).digest('hex'), blob.sha256);
      assert.ok(server.stats(blob.path).rangeRequests >= 1, 'a broken body is resumed with Range');
    } finally {
      await stalling.close();
    }
  });

  it('rejects a malformed digest as bad input before any request', async () => {
    const blob = artifact(server, 'bad-digest.bin', 10);
    await assert.rejects(manager.fetchBlob({ ...blob, sha256: 'abc' }), (error) => isQmError(error, 'EUSAGE'));
    assert.equal(server.stats(blob.path).requests, 0);
  });
});
