import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { DownloaderOptions, TransferProgress } from '../../src/core/fetch/types';
import { MiB, rejectsWith, useDownloaderFixture } from '../helpers/downloader-fixture';

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Debug lines a Downloader logs, e.g. "... retrying in 1000 ms". */
function recordingLogger(lines: string[]): NonNullable<DownloaderOptions['logger']> {
  const keep = (line: string): void => void lines.push(line);
  return { debug: keep, info: keep, warn: keep, error: keep };
}

void describe('Downloader against the local mirror', () => {
  const fx = useDownloaderFixture();
  const { downloader, file } = fx;

  async function onDisk(dest: string): Promise<Buffer> {
    return fs.readFile(dest);
  }

  void it('streams a file to disk and returns the SHA-256 of exactly its bytes', async () => {
    const blob = file('plain.bin', 3 * MiB + 17);
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.deepEqual(result, { sha256: blob.sha256, size: blob.size, url: blob.url, resumes: 0, restarts: 0 });
    assert.equal(sha256(await onDisk(blob.dest)), blob.sha256);
    assert.equal(fx.server.stats(blob.path).requests, 1);
  });

  void it('reports throttled progress with the total and a final event at the end', async () => {
    const blob = file('progress.bin', MiB);
    fx.server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 4 * MiB });
    const events: (TransferProgress & { at: number })[] = [];
    const started = performance.now();
    await downloader().downloadToFile({ url: blob.url, dest: blob.dest, onProgress: (p) => events.push({ ...p, at: performance.now() }) });
    const elapsed = performance.now() - started;
    assert.ok(events.length >= 2, `expected several events, got ${events.length}`);
    assert.deepEqual({ ...events.at(-1), at: 0 }, { received: blob.size, total: blob.size, at: 0 });
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.received >= events[i - 1]!.received, 'received never goes back');
    assert.ok(events.every((e) => e.total === blob.size));
    // At most one event per 100 ms while bytes flow, plus the first and the final one.
    assert.ok(events.length <= Math.ceil(elapsed / 100) + 2, `${events.length} events in ${Math.round(elapsed)} ms`);
  });

  void it('resumes a dropped body with Range and keeps hashing the same stream', async () => {
    const blob = file('drop.bin', 2 * MiB, { etag: '"v1"' });
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 700_000, times: 1 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.equal(result.resumes, 1);
    assert.equal(result.restarts, 0);
    const stats = fx.server.stats(blob.path);
    assert.equal(stats.rangeRequests, 1);
    assert.equal(stats.fullBodies, 0, 'the first body broke and the second was a range');
    assert.ok(stats.bytesSent >= blob.size && stats.bytesSent <= blob.size + 700_000, `bytes sent: ${stats.bytesSent}`);
    assert.equal(sha256(await onDisk(blob.dest)), blob.sha256);
  });

  void it('resumes with Last-Modified when there is no strong ETag', async () => {
    const blob = file('lastmod.bin', MiB, { etag: false, lastModified: new Date('2024-05-01T00:00:00Z') });
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 300_000, times: 1 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.equal(result.resumes, 1);
    assert.equal(fx.server.stats(blob.path).rangeRequests, 1);
  });

  void it('restarts cleanly from zero when the server does not offer ranges', async () => {
    const blob = file('noranges.bin', MiB, { acceptRanges: false });
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 400_000, times: 1 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.deepEqual([result.resumes, result.restarts], [0, 1]);
    assert.equal(fx.server.stats(blob.path).rangeRequests, 0);
    assert.equal(sha256(await onDisk(blob.dest)), blob.sha256);
  });

  void it('restarts cleanly from zero after megabytes were written and more were still gathered', async () => {
    // The file sink writes a megabyte at a time: the restart must drop both what is on disk and what was not written yet.
    const blob = file('noranges-big.bin', 3 * MiB + 5, { acceptRanges: false });
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 2 * MiB + 300_000, times: 1 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.deepEqual([result.resumes, result.restarts], [0, 1]);
    assert.equal(sha256(await onDisk(blob.dest)), blob.sha256);
  });

  void it('restarts cleanly when the server answers a Range request with the full body', async () => {
    const blob = file('ignorerange.bin', MiB, { etag: '"v1"' });
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 400_000, times: 1 });
    fx.server.fault(blob.path, { kind: 'ignoreRange', times: 1 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.deepEqual([result.resumes, result.restarts], [0, 1]);
    assert.equal(fx.server.stats(blob.path).rangeRequests, 1, 'it asked for a range, and got the whole body');
    assert.equal((await fs.stat(blob.dest)).size, blob.size);
  });

  void it('finishes a connection that keeps dropping but keeps making progress', async () => {
    const blob = file('flaky.bin', MiB, { etag: '"v1"' });
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 150_000, times: 5 });
    const result = await downloader({ retries: 2 }).downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.equal(result.resumes, 5, 'five failures, more than the retries, but each got further');
  });

  void it('gives up when attempts fail without getting further into the file', async () => {
    const blob = file('stuck.bin', MiB);
    fx.server.fault(blob.path, { kind: 'drop', afterBytes: 0, times: 10 });
    const error = await rejectsWith(downloader({ retries: 2 }).downloadToFile({ url: blob.url, dest: blob.dest }), 'ENETWORK');
    assert.match(error.message, /gave up after 3 attempts/);
    assert.equal(fx.server.stats(blob.path).requests, 3);
  });

  void it('returns the digest of what it received when a byte is corrupted (checking is the caller’s job)', async () => {
    const blob = file('corrupt.bin', 512 * 1024);
    fx.server.fault(blob.path, { kind: 'corrupt', atByte: 1000, times: 1 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.notEqual(result.sha256, blob.sha256);
    assert.equal(result.sha256, sha256(await onDisk(blob.dest)));
  });

  void it('retries 500 twice and then succeeds', async () => {
    const blob = file('flaky500.bin', 64 * 1024);
    fx.server.fault(blob.path, { kind: 'status', status: 500, times: 2 });
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.deepEqual(fx.server.stats(blob.path).statuses, [500, 500, 200]);
  });

  void it('waits as long as Retry-After says on 429, capped at maxBackoffMs', async () => {
    const blob = file('busy.bin', 64 * 1024);
    fx.server.fault(blob.path, { kind: 'status', status: 429, retryAfterSeconds: 1, times: 1 });
    const lines: string[] = [];
    const started = performance.now();
    const result = await downloader({ maxBackoffMs: 5_000, logger: recordingLogger(lines) }).downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.ok(performance.now() - started >= 950, 'it waited about a second');
    assert.ok(lines.some((line) => /HTTP 429.*retrying in 1000 ms/.test(line)), lines.join('\n'));

    fx.server.fault(blob.path, { kind: 'status', status: 429, retryAfterSeconds: 30, times: 1 });
    lines.length = 0;
    await downloader({ maxBackoffMs: 40, logger: recordingLogger(lines) }).downloadToFile({ url: blob.url, dest: blob.dest });
    assert.ok(lines.some((line) => /retrying in 40 ms/.test(line)), lines.join('\n'));
  });

  void it('fails at once with EHTTP on 404, naming the URL and the status', async () => {
    const url = `${fx.server.url}/files/missing.bin`;
    const error = await rejectsWith(downloader().downloadToFile({ url, dest: path.join(fx.dir, 'missing.bin') }), 'EHTTP');
    assert.equal(error.details.status, 404);
    assert.equal(error.details.url, url);
    assert.equal(error.message, `GET ${url} failed: HTTP 404 Not Found`);
    assert.equal(fx.server.stats('/files/missing.bin').requests, 1);
  });

  void it('gives up with the last status after the retries', async () => {
    const blob = file('down.bin', 1024);
    fx.server.fault(blob.path, { kind: 'status', status: 503, times: 10 });
    const error = await rejectsWith(downloader({ retries: 2 }).downloadToFile({ url: blob.url, dest: blob.dest }), 'EHTTP');
    assert.equal(error.details.status, 503);
    assert.match(error.message, /HTTP 503 .*gave up after 3 attempts/);
    assert.equal(fx.server.stats(blob.path).requests, 3);
  });

  void it('times out a stalled body with ETIMEOUT and resumes on the next attempt', async () => {
    const blob = file('stall.bin', MiB, { etag: '"v1"' });
    fx.server.fault(blob.path, { kind: 'stall', afterBytes: 200_000, times: 1 });
    const lines: string[] = [];
    const result = await downloader({ idleTimeoutMs: 300, logger: recordingLogger(lines) }).downloadToFile({ url: blob.url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.equal(result.resumes, 1);
    assert.ok(lines.some((line) => line.includes('timed out waiting for body data')), lines.join('\n'));
  });

  void it('reports ETIMEOUT when a stall outlasts the retries', async () => {
    const blob = file('stall-forever.bin', MiB);
    fx.server.fault(blob.path, { kind: 'stall', afterBytes: 100_000, times: 5 });
    await rejectsWith(downloader({ idleTimeoutMs: 300, retries: 0 }).downloadToFile({ url: blob.url, dest: blob.dest }), 'ETIMEOUT');
  });

  void it('follows redirects, and reports the URL it was asked for', async () => {
    const blob = file('target.bin', 100_000);
    fx.server.fault('/files/old.bin', { kind: 'redirect', to: blob.url, status: 301 });
    const url = `${fx.server.url}/files/old.bin`;
    const result = await downloader().downloadToFile({ url, dest: blob.dest });
    assert.equal(result.sha256, blob.sha256);
    assert.equal(result.url, url);
    assert.equal(fx.server.stats(blob.path).gets, 1);

    fx.server.fault('/files/moved.bin', { kind: 'redirect', to: '/files/gone.bin', status: 302 });
    const moved = `${fx.server.url}/files/moved.bin`;
    const error = await rejectsWith(downloader().downloadToFile({ url: moved, dest: blob.dest }), 'EHTTP');
    assert.equal(error.message, `GET ${moved} (redirected to ${fx.server.url}/files/gone.bin) failed: HTTP 404 Not Found`);
  });

  void it('stops following redirects after maxRedirects', async () => {
    const blob = file('far.bin', 1000);
    fx.server.fault('/files/hop.bin', { kind: 'redirect', to: blob.url, status: 302 });
    const error = await rejectsWith(downloader({ maxRedirects: 0 }).downloadToFile({ url: `${fx.server.url}/files/hop.bin`, dest: blob.dest }), 'EHTTP');
    assert.equal(error.details.status, 302);
    assert.match(error.message, /HTTP 302 Found \(redirect to .*far\.bin not followed: at most 0 allowed\)/);
    assert.equal(fx.server.stats(blob.path).requests, 0);
  });

  void it('refuses a redirect to plain http on another host before connecting to it', async () => {
    fx.server.fault('/files/evil.bin', { kind: 'redirect', to: 'http://example.invalid/evil.bin', status: 302 });
    const error = await rejectsWith(
      downloader().downloadToFile({ url: `${fx.server.url}/files/evil.bin`, dest: path.join(fx.dir, 'evil.bin') }),
      'EINSECURE',
    );
    assert.match(error.message, /redirect refused.*http:\/\/example\.invalid\/evil\.bin/);
    assert.equal(fx.server.stats('/files/evil.bin').requests, 1, 'not retried');
  });

  void it('refuses a redirect to file:, ftp: or an unparsable Location as EURL naming the hop, without retrying', async () => {
    for (const to of ['file:///etc/passwd', 'ftp://example.invalid/tool.tgz', 'http://[bad']) {
      fx.server.resetStats();
      fx.server.fault('/files/elsewhere.bin', { kind: 'redirect', to, status: 302, times: 1 });
      const first = `${fx.server.url}/files/elsewhere.bin`;
      const error = await rejectsWith(downloader().downloadToFile({ url: first, dest: path.join(fx.dir, 'elsewhere.bin') }), 'EURL');
      assert.equal(error.details.url, to, 'the hop, not the first URL');
      assert.ok(error.message.startsWith(`GET ${first} failed: redirect refused.`), error.message);
      assert.ok(error.message.includes(to), error.message);
      assert.equal(fx.server.stats('/files/elsewhere.bin').requests, 1, 'not retried');
    }
  });

  void it('fails with ESIZE when the server announces another size than expectedSize', async () => {
    const blob = file('size.bin', 10_000);
    const error = await rejectsWith(downloader().downloadToFile({ url: blob.url, dest: blob.dest, expectedSize: 9_999 }), 'ESIZE');
    assert.deepEqual([error.details.expected, error.details.found], [9_999, 10_000]);
    assert.equal(fx.server.stats(blob.path).requests, 1, 'a size mismatch is not retried');
  });

  void it('cuts off a chunked body as soon as it exceeds expectedSize', async () => {
    const blob = file('toolong.bin', 2 * MiB, { contentLength: false });
    const error = await rejectsWith(downloader().downloadToFile({ url: blob.url, dest: blob.dest, expectedSize: 100_000 }), 'ESIZE');
    assert.equal(error.details.expected, 100_000);
    assert.ok((await fs.stat(blob.dest)).size <= 100_000, 'never wrote past the declared size');
  });

  void it('fails with ESIZE when a chunked body ends short of expectedSize', async () => {
    const blob = file('short.bin', 50_000, { contentLength: false });
    const error = await rejectsWith(downloader().downloadToFile({ url: blob.url, dest: blob.dest, expectedSize: 50_001 }), 'ESIZE');
    assert.deepEqual([error.details.expected, error.details.found], [50_001, 50_000]);
  });

  void it('downloads a chunked body without Content-Length', async () => {
    const blob = file('chunked.bin', MiB + 3, { contentLength: false });
    const events: TransferProgress[] = [];
    const result = await downloader().downloadToFile({ url: blob.url, dest: blob.dest, expectedSize: blob.size, onProgress: (p) => events.push(p) });
    assert.equal(result.sha256, blob.sha256);
    assert.deepEqual(events.at(-1), { received: blob.size, total: undefined });
  });

  void it('downloads small documents into memory with the same retries and a size limit', async () => {
    const doc = file('index.json', 2_000);
    fx.server.fault(doc.path, { kind: 'status', status: 502, times: 1 });
    const { body, url } = await downloader().downloadBuffer({ url: doc.url });
    assert.equal(sha256(body), doc.sha256);
    assert.equal(url, doc.url);
    const error = await rejectsWith(downloader().downloadBuffer({ url: doc.url, maxBytes: 1_000 }), 'ESIZE');
    assert.equal(error.details.expected, 1_000);
  });
});
