import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../src/core/log';
import { rejectsWith, useDownloaderFixture } from '../helpers/downloader-fixture';

function recordingLogger(lines: string[]): Logger {
  const keep = (line: string): void => void lines.push(line);
  return { debug: keep, info: keep, warn: keep, error: keep };
}

/**
 * nginx's proxy_cache_lock sends requests queued behind a cache fill no headers until the fill
 * ends. A headers timeout on a connected request is patience, not a failure: it is asked again
 * with a doubled wait and costs no retry, up to `headersPatienceMs` in all. The timeouts here are
 * scaled down (100 ms instead of 30 s); the retry budget (1) is smaller than the waits needed.
 */
describe('waiting for response headers (a cache filling ahead of us)', () => {
  const fx = useDownloaderFixture();

  it('outlasts the retry budget while the server holds headers, with a doubling wait, then downloads', async () => {
    const blob = fx.file('filling.bin', 300_000);
    fx.server.fault(blob.path, { kind: 'holdHeaders' });
    const lines: string[] = [];
    const download = fx.downloader({ idleTimeoutMs: 100, retries: 1, headersPatienceMs: 60_000, logger: recordingLogger(lines) })
      .downloadToFile({ url: blob.url, dest: blob.dest });
    // Four requests means three waits ran out: more than one retry's worth, which used to be fatal.
    await Promise.race([
      fx.server.waitFor(blob.path, (s) => s.requests >= 4),
      download.then(() => assert.fail('finished while the headers were held'), (error: unknown) => assert.fail(`gave up: ${String(error)}`)),
    ]);
    fx.server.releaseHeaders(blob.path);
    const result = await download;
    assert.equal(result.sha256, blob.sha256);
    assert.deepEqual(fx.server.stats(blob.path).statuses, [200], 'only the last request was answered');
    const waits = lines.map((line) => /waiting up to (\d+) ms/.exec(line)?.[1]).filter((ms): ms is string => ms !== undefined).map(Number);
    assert.deepEqual(waits.slice(0, 3), [200, 400, 800], lines.join('\n'));
  });

  it('gives up with ETIMEOUT once the patience is spent, saying how long it waited', async () => {
    const blob = fx.file('never.bin', 1000);
    fx.server.fault(blob.path, { kind: 'holdHeaders' });
    const error = await rejectsWith(
      fx.downloader({ idleTimeoutMs: 100, retries: 5, headersPatienceMs: 700 }).downloadToFile({ url: blob.url, dest: blob.dest }),
      'ETIMEOUT',
    );
    assert.match(error.message, /timed out waiting for response headers \(waited 700 ms in all; gave up after 3 attempts\)/);
    assert.equal(fx.server.stats(blob.path).requests, 3, 'waits of 100, 200, then the 400 ms left');
    fx.server.releaseHeaders(blob.path);
  });
});
