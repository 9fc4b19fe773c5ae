import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { backoffDelay, parseRetryAfter } from '../../src/core/fetch/backoff';
import { chooseProxy } from '../../src/core/fetch/dispatcher';
import { Downloader } from '../../src/core/fetch/downloader';
import { ResumeState, parseContentRange } from '../../src/core/fetch/resume';
import { applyMirrors, isLoopbackHost } from '../../src/core/fetch/url-policy';
import { MiB, rejectsWith, useDownloaderFixture } from '../helpers/downloader-fixture';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { openDescriptors } from '../helpers/open-descriptors';


void describe('Downloader URL policy', () => {
  const downloader = new Downloader({ env: {} });
  after(() => downloader.close());

  void it('refuses plain http to another host before any network, and says how to allow it', async () => {
    const dest = path.join(os.tmpdir(), `qm-never-${process.pid}.bin`);
    const error = await rejectsWith(downloader.downloadToFile({ url: 'http://example.invalid/tool.tar.gz', dest }), 'EINSECURE');
    assert.match(error.message, /http:\/\/example\.invalid\/tool\.tar\.gz/);
    assert.match(error.message, /QM_ALLOW_HTTP_HOSTS=example\.invalid/);
    await assert.rejects(fs.stat(dest), { code: 'ENOENT' }, 'refused before the file was created');
    assert.throws(() => downloader.resolveUrl('http://example.invalid/a'), (e: unknown) => isQmError(e, 'EINSECURE'));
  });

  void it('allows plain http to loopback, and anywhere with allowInsecureHttp', () => {
    for (const url of ['http://127.0.0.1:4000/a', 'http://127.9.9.9/a', 'http://localhost:8080/a', 'http://[::1]:3000/a']) {
      assert.equal(downloader.resolveUrl(url), url);
    }
    const permissive = new Downloader({ env: {}, allowInsecureHttp: true });
    assert.equal(permissive.resolveUrl('http://example.invalid/a'), 'http://example.invalid/a');
    void permissive.close();
  });

  void it('rejects unparsable URLs and other schemes with EURL', () => {
    for (const url of ['not a url', 'ftp://example.invalid/a', 'file:///etc/passwd']) {
      assert.throws(() => downloader.resolveUrl(url), (e: unknown) => isQmError(e, 'EURL'), url);
    }
  });

  void it('rejects an unparsable proxy with EURL when constructed', () => {
    assert.throws(() => new Downloader({ proxy: 'not a url' }), (e: unknown) => isQmError(e, 'EURL'));
    assert.throws(() => new Downloader({ env: { HTTPS_PROXY: '::' } }), (e: unknown) => isQmError(e, 'EURL'));
  });

  void it('rewrites with the first matching mirror, then applies the policy to the result', () => {
    const mirrored = new Downloader({
      env: {},
      mirrors: [
        { from: 'https://nodejs.org/dist/', to: 'http://127.0.0.1:4000/dist/' },
        { from: 'https://nodejs.org/', to: 'https://wrong.example.invalid/' },
        { from: 'https://go.dev/dl/', to: 'http://goproxy.example.invalid/dl/' },
      ],
    });
    assert.equal(mirrored.resolveUrl('https://nodejs.org/dist/v22.11.0/node.tar.gz'), 'http://127.0.0.1:4000/dist/v22.11.0/node.tar.gz');
    assert.equal(mirrored.resolveUrl('https://ziglang.org/x'), 'https://ziglang.org/x');
    assert.throws(() => mirrored.resolveUrl('https://go.dev/dl/go.tgz'), (e: unknown) => isQmError(e, 'EINSECURE'));
    void mirrored.close();
  });
});

void describe('fetch helpers', () => {
  void it('draws full-jitter backoff below an exponentially growing cap', () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    assert.equal(backoffDelay(1, { ...policy, random: () => 0.999 }), 99);
    assert.equal(backoffDelay(3, { ...policy, random: () => 0.5 }), 200);
    assert.equal(backoffDelay(10, { ...policy, random: () => 0.5 }), 500);
    assert.equal(backoffDelay(4, { ...policy, random: () => 0 }), 0);
  });

  void it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3_000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  void it('knows loopback hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:7f00:1]']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['example.com', '128.0.0.1', '[::2]', 'localhost.example.com', '10.0.0.1']) assert.ok(!isLoopbackHost(host), host);
  });

  void it('applies only the first matching mirror', () => {
    const rules = [
      { from: 'https://a/', to: 'https://m1/' },
      { from: 'https://a/x', to: 'https://m2/' },
    ];
    assert.equal(applyMirrors('https://a/x/y', rules), 'https://m1/x/y');
    assert.equal(applyMirrors('https://b/x', rules), 'https://b/x');
  });

  void it('plans resumes only for a consistent 206 and restarts otherwise', () => {
    const state = new ResumeState();
    assert.deepEqual(state.requestHeaders(100), {}, 'nothing known yet');
    state.plan(200, { 'accept-ranges': 'bytes', etag: '"e1"', 'content-length': '1000' }, 0);
    assert.deepEqual(state.requestHeaders(100), { range: 'bytes=100-', 'if-range': '"e1"' });
    assert.equal(state.plan(206, { 'content-range': 'bytes 100-999/1000' }, 100).kind, 'append');
    assert.equal(state.plan(206, { 'content-range': 'bytes 50-999/1000' }, 100).kind, 'unusable');
    assert.equal(state.plan(206, { 'content-range': 'bytes 100-499/1000' }, 100).kind, 'unusable');
    assert.equal(state.plan(416, {}, 100).kind, 'unusable');

    const weak = new ResumeState();
    weak.plan(200, { 'accept-ranges': 'bytes', etag: 'W/"e1"' }, 0);
    assert.deepEqual(weak.requestHeaders(100), {}, 'a weak ETag cannot be used in If-Range');
    assert.deepEqual(parseContentRange('bytes 0-9/*'), { start: 0, end: 9, total: undefined });
  });

  void it('chooses proxies from the options first, then from env in either case, keeping NO_PROXY', () => {
    assert.equal(chooseProxy(undefined, {}), undefined);
    assert.deepEqual(chooseProxy('http://p:1', { NO_PROXY: 'corp' }), { httpProxy: 'http://p:1', httpsProxy: 'http://p:1', noProxy: 'corp' });
    assert.deepEqual(chooseProxy(undefined, { https_proxy: 'http://s:1', HTTP_PROXY: 'http://h:1' }), {
      httpProxy: 'http://h:1',
      httpsProxy: 'http://s:1',
      noProxy: '',
    });
  });
});

void describe('Downloader cancellation and proxies', () => {
  const fx = useDownloaderFixture();
  const { downloader, file } = fx;

  void it('cancels mid-body quickly with ECANCELLED and leaves no descriptor open', async (t) => {
    const blob = file('slow.bin', 4 * MiB);
    fx.server.fault(blob.path, { kind: 'throttle', bytesPerSecond: 256 * 1024 });
    const controller = new AbortController();
    let abortedAt = 0;
    const download = downloader().downloadToFile({
      url: blob.url,
      dest: blob.dest,
      signal: controller.signal,
      onProgress: ({ received }) => {
        if (received > 0 && !abortedAt) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await rejectsWith(download, 'ECANCELLED');
    assert.ok(performance.now() - abortedAt < 1_000, 'rejected promptly');
    assert.deepEqual(openDescriptors(t, (target) => target === blob.dest), []);
    assert.ok((await fs.stat(blob.dest)).size < blob.size);
  });

  void it('cancels during a backoff wait without another request', async (t) => {
    const blob = file('backoff.bin', 1000);
    fx.server.fault(blob.path, { kind: 'status', status: 503, retryAfterSeconds: 60, times: 5 });
    const controller = new AbortController();
    const started = performance.now();
    const logger = {
      debug: (line: string) => {
        if (line.includes('retrying in 60000 ms')) controller.abort();
      },
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const download = downloader({ maxBackoffMs: 60_000, logger }).downloadToFile({ url: blob.url, dest: blob.dest, signal: controller.signal });
    await rejectsWith(download, 'ECANCELLED');
    assert.ok(performance.now() - started < 5_000, 'did not sit out the minute');
    assert.equal(fx.server.stats(blob.path).requests, 1);
    assert.deepEqual(openDescriptors(t, (target) => target === blob.dest), []);
  });

  void it('rejects at once when the signal is already aborted', async () => {
    const blob = file('never.bin', 1000);
    const error = await rejectsWith(
      downloader().downloadToFile({ url: blob.url, dest: blob.dest, signal: AbortSignal.abort() }),
      'ECANCELLED',
    );
    assert.match(error.message, /GET http:\/\/127\.0\.0\.1.*never\.bin/);
    assert.equal(fx.server.stats(blob.path).requests, 0);
  });

  void describe('through a forward proxy', () => {
    let proxy: ForwardProxy;
    beforeEach(async () => {
      proxy = await startForwardProxy();
    });
    afterEach(() => proxy.close());

    void it('sends requests through an explicit proxy when loopback is not exempted', async () => {
      const blob = file('proxied.bin', 300_000);
      const result = await downloader({ proxy: proxy.url, proxyLoopback: true }).downloadToFile({ url: blob.url, dest: blob.dest });
      assert.equal(result.sha256, blob.sha256);
      assert.deepEqual(proxy.seen, [blob.url], 'absolute-form GET through the proxy');
    });

    void it('takes HTTP_PROXY from the env option, not from process.env', async () => {
      const blob = file('env-proxied.bin', 1000);
      const { body } = await downloader({ env: { http_proxy: proxy.url }, proxyLoopback: true }).downloadBuffer({ url: blob.url });
      assert.equal(body.length, 1000);
      assert.deepEqual(proxy.seen, [blob.url]);
    });

    void it('sends loopback URLs direct by default', async () => {
      const blob = file('direct.bin', 1000);
      await downloader({ env: { HTTP_PROXY: proxy.url } }).downloadToFile({ url: blob.url, dest: blob.dest });
      await downloader({ proxy: proxy.url }).downloadToFile({ url: blob.url, dest: blob.dest });
      assert.deepEqual(proxy.seen, []);
      assert.equal(fx.server.stats(blob.path).requests, 2);
    });

    void it('honours NO_PROXY from env, also for an explicit proxy', async () => {
      const blob = file('noproxy.bin', 1000);
      await downloader({ proxy: proxy.url, proxyLoopback: true, env: { NO_PROXY: '127.0.0.1' } }).downloadToFile({ url: blob.url, dest: blob.dest });
      assert.deepEqual(proxy.seen, []);
      assert.equal(fx.server.stats(blob.path).requests, 1);
    });
  });
});
