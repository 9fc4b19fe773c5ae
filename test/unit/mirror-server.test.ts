import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { test, type TestContext } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** False when the connection ended before the body did. */
  complete: boolean;
  elapsedMs: number;
}

/** A bare node:http request that reports a cut body instead of throwing, so faults can be inspected. */
function send(url: string, options: { method?: string; headers?: OutgoingHttpHeaders } = {}): Promise<Reply> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => undefined); // a dropped socket surfaces as complete === false
      res.once('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete,
          elapsedMs: performance.now() - began,
        }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

async function startMirror(t: TestContext): Promise<MirrorServer> {
  const mirror = await MirrorServer.start();
  t.after(() => mirror.close());
  return mirror;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

void test('a full GET returns the body with validators and is counted once it is flushed', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(200 * 1024);
  const hosted = mirror.addFile('/a.bin', body);
  assert.deepEqual(hosted, { url: `${mirror.url}/a.bin`, sha256: sha256(body), size: body.length });
  assert.match(mirror.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const reply = await send(hosted.url);
  assert.equal(reply.status, 200);
  assert.ok(reply.body.equals(body));
  assert.equal(reply.headers['content-length'], String(body.length));
  assert.equal(reply.headers.etag, `"${hosted.sha256}"`);
  assert.equal(reply.headers['accept-ranges'], 'bytes');
  assert.ok(reply.headers['last-modified']);
  const stats = await mirror.waitFor('/a.bin', (s) => s.fullBodies === 1);
  assert.deepEqual(stats, { requests: 1, gets: 1, rangeRequests: 0, fullBodies: 1, bytesSent: body.length, statuses: [200] });
});

void test('a 16 MiB body streams intact and every byte is counted', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(16 * 1024 * 1024);
  mirror.addFile('/big.bin', body);
  const reply = await send(`${mirror.url}/big.bin`);
  assert.equal(sha256(reply.body), sha256(body));
  const stats = await mirror.waitFor('/big.bin', (s) => s.fullBodies === 1);
  assert.equal(stats.bytesSent, body.length);
});

void test('HEAD, 404, 405, chunked bodies and files without validators', async (t) => {
  const mirror = await startMirror(t);
  const body = Buffer.from('hello mirror');
  mirror.addFile('/h.txt', body);
  mirror.addFile('/chunked.bin', body, { contentLength: false, etag: false, lastModified: false });

  const head = await send(`${mirror.url}/h.txt`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(body.length));
  assert.equal(head.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(head.body.length, 0);
  assert.deepEqual(mirror.stats('/h.txt'), { requests: 1, gets: 0, rangeRequests: 0, fullBodies: 0, bytesSent: 0, statuses: [200] });

  assert.deepEqual(mirror.stats('/nope').statuses, []);
  assert.equal((await send(`${mirror.url}/nope?x=1`)).status, 404);
  assert.deepEqual(mirror.stats('/nope').statuses, [404]);
  assert.equal((await send(`${mirror.url}/h.txt`, { method: 'POST' })).status, 405);

  const chunked = await send(`${mirror.url}/chunked.bin`);
  assert.equal(chunked.headers['transfer-encoding'], 'chunked');
  assert.equal(chunked.headers['content-length'], undefined);
  assert.equal(chunked.headers.etag, undefined);
  assert.equal(chunked.headers['last-modified'], undefined);
  assert.ok(chunked.body.equals(body));
});

void test('byte ranges: open, closed, suffix, unsatisfiable and ignored forms', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(1000);
  const { url } = mirror.addFile('/r.bin', body);
  const range = (value: string): Promise<Reply> => send(url, { headers: { range: value } });

  const open = await range('bytes=400-');
  assert.equal(open.status, 206);
  assert.equal(open.headers['content-range'], 'bytes 400-999/1000');
  assert.equal(open.headers['content-length'], '600');
  assert.ok(open.body.equals(body.subarray(400)));

  const closed = await range('bytes=10-19');
  assert.equal(closed.headers['content-range'], 'bytes 10-19/1000');
  assert.ok(closed.body.equals(body.subarray(10, 20)));

  const suffix = await range('bytes=-100');
  assert.ok(suffix.body.equals(body.subarray(900)));

  const beyond = await range('bytes=1000-');
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], 'bytes */1000');

  const several = await range('bytes=0-1,5-6');
  assert.equal(several.status, 200);
  assert.ok(several.body.equals(body));

  const whole = await range('bytes=0-');
  assert.equal(whole.status, 206);
  const stats = await mirror.waitFor('/r.bin', (s) => s.fullBodies === 2);
  assert.equal(stats.rangeRequests, 6);
  assert.equal(stats.gets, 0);
  assert.deepEqual(stats.statuses, [206, 206, 206, 416, 200, 206]);
});

void test('If-Range keeps the range only while the validator matches; acceptRanges false always sends 200', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(500);
  const lastModified = new Date('2024-05-06T07:08:09Z');
  const { url } = mirror.addFile('/ir.bin', body, { etag: '"v1"', lastModified });
  const partial = (ifRange: string): Promise<Reply> => send(url, { headers: { range: 'bytes=100-', 'if-range': ifRange } });

  assert.equal((await partial('"v1"')).status, 206);
  const changed = await partial('"v0"');
  assert.equal(changed.status, 200);
  assert.ok(changed.body.equals(body));
  assert.equal((await partial('W/"v1"')).status, 200);
  assert.equal((await partial(lastModified.toUTCString())).status, 206);
  assert.equal((await partial(new Date('2024-05-06T07:08:08Z').toUTCString())).status, 200);

  assert.equal((await send(url, { headers: { 'if-none-match': '"v1"' } })).status, 304);
  assert.equal((await send(url, { headers: { 'if-none-match': '"v0"' } })).status, 200);

  const fixed = mirror.addFile('/fixed.bin', body, { acceptRanges: false });
  const ignored = await send(fixed.url, { headers: { range: 'bytes=100-' } });
  assert.equal(ignored.status, 200);
  assert.equal(ignored.headers['accept-ranges'], 'none');
  assert.ok(ignored.body.equals(body));
});

void test('drop sends exactly afterBytes, cuts the connection, and is used up after times', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(300 * 1024);
  const { url } = mirror.addFile('/d.bin', body);
  mirror.fault('/d.bin', { kind: 'drop', afterBytes: 100_000, times: 1 });
  mirror.fault('/d.bin', { kind: 'drop', afterBytes: 0, times: 1 });

  const first = await send(url);
  assert.equal(first.status, 200);
  assert.equal(first.complete, false);
  assert.ok(first.body.equals(body.subarray(0, 100_000)));

  const second = await send(url);
  assert.equal(second.status, 200);
  assert.equal(second.complete, false);
  assert.equal(second.body.length, 0);

  const third = await send(url);
  assert.equal(third.complete, true);
  assert.ok(third.body.equals(body));
  const stats = await mirror.waitFor('/d.bin', (s) => s.fullBodies === 1);
  assert.equal(stats.bytesSent, 100_000 + body.length);
  assert.deepEqual(stats.statuses, [200, 200, 200]);
});

void test('corrupt flips one byte at its file offset, only in responses that carry that byte', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(200 * 1024);
  const { url } = mirror.addFile('/c.bin', body);
  const atByte = 70_000;
  mirror.fault('/c.bin', { kind: 'corrupt', atByte, times: 1 });

  const after = await send(url, { headers: { range: `bytes=${atByte + 1}-` } });
  assert.ok(after.body.equals(body.subarray(atByte + 1)), 'a range past the byte is not touched');

  const hit = await send(url, { headers: { range: `bytes=${atByte - 10}-` } });
  assert.equal(hit.body[10], body[atByte]! ^ 0xff);
  assert.ok(hit.body.subarray(11).equals(body.subarray(atByte + 1)));
  assert.ok(hit.body.subarray(0, 10).equals(body.subarray(atByte - 10, atByte)));

  assert.ok((await send(url)).body.equals(body), 'used up after one response');
});

void test('status answers with Retry-After for its count, then the file comes back', async (t) => {
  const mirror = await startMirror(t);
  const { url } = mirror.addFile('/s.txt', Buffer.from('ok'));
  mirror.fault('/s.txt', { kind: 'status', status: 503, retryAfterSeconds: 2, times: 2 });

  for (let i = 0; i < 2; i += 1) {
    const reply = await send(url);
    assert.equal(reply.status, 503);
    assert.equal(reply.headers['retry-after'], '2');
    assert.ok(reply.body.length > 0);
  }
  assert.equal((await send(url)).body.toString(), 'ok');
  assert.deepEqual(mirror.stats('/s.txt').statuses, [503, 503, 200]);

  mirror.fault('/s.txt', { kind: 'status', status: 500 });
  assert.equal((await send(url)).status, 500);
  assert.equal((await send(url)).status, 500, 'without times it applies to every request');
  mirror.clearFaults('/s.txt');
  assert.equal((await send(url)).status, 200);
  mirror.fault('/s.txt', { kind: 'status', status: 429 });
  mirror.clearFaults();
  assert.equal((await send(url)).status, 200);
});

void test('throttle paces the body, and waitFor sees the bytes as they go', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(64 * 1024);
  const { url } = mirror.addFile('/t.bin', body);
  mirror.fault('/t.bin', { kind: 'throttle', bytesPerSecond: 64 * 1024, times: 1 });

  const halfway = mirror.waitFor('/t.bin', (s) => s.bytesSent >= body.length / 2);
  const slow = send(url);
  const atHalf = await halfway;
  assert.ok(atHalf.bytesSent < body.length, 'waitFor resolved mid-transfer');
  const reply = await slow;
  assert.ok(reply.body.equals(body));
  // Ten slices at 100 ms intervals: the last leaves 900 ms after the first.
  assert.ok(reply.elapsedMs >= 850, `throttled body took ${reply.elapsedMs} ms`);

  const fast = await send(url);
  assert.ok(fast.elapsedMs < 500, `unthrottled body took ${fast.elapsedMs} ms`);
});

void test('ignoreRange answers a Range request with 200 and the full body for its count', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(4096);
  const { url } = mirror.addFile('/i.bin', body);
  mirror.fault('/i.bin', { kind: 'ignoreRange', times: 1 });

  const ignored = await send(url, { headers: { range: 'bytes=1000-' } });
  assert.equal(ignored.status, 200);
  assert.ok(ignored.body.equals(body));
  const honoured = await send(url, { headers: { range: 'bytes=1000-' } });
  assert.equal(honoured.status, 206);
  assert.deepEqual(mirror.stats('/i.bin').statuses, [200, 206]);
});

void test('stall sends afterBytes then holds the socket open until close() destroys it', async (t) => {
  const mirror = await MirrorServer.start();
  t.after(() => mirror.close());
  const body = randomBytes(100_000);
  const { url } = mirror.addFile('/st.bin', body);
  mirror.fault('/st.bin', { kind: 'stall', afterBytes: 5000 });

  const pending = send(url);
  await mirror.waitFor('/st.bin', (s) => s.bytesSent === 5000);
  await mirror.close();
  const reply = await pending;
  assert.equal(reply.complete, false);
  assert.ok(reply.body.equals(body.subarray(0, 5000)));
  assert.equal(mirror.stats('/st.bin').fullBodies, 0);
});

void test('redirect points elsewhere for its count; fetch follows it', async (t) => {
  const mirror = await startMirror(t);
  mirror.addFile('/old.txt', Buffer.from('old'));
  mirror.addFile('/new.txt', Buffer.from('new'));
  mirror.fault('/old.txt', { kind: 'redirect', to: '/new.txt', status: 307, times: 1 });
  mirror.fault('/old.txt', { kind: 'redirect', to: `${mirror.url}/new.txt`, times: 1 });

  const first = await send(`${mirror.url}/old.txt`);
  assert.equal(first.status, 307);
  assert.equal(first.headers.location, '/new.txt');
  const followed = await fetch(`${mirror.url}/old.txt`);
  assert.equal(await followed.text(), 'new');
  assert.equal(followed.url, `${mirror.url}/new.txt`);
  assert.equal((await send(`${mirror.url}/old.txt`)).body.toString(), 'old');
  assert.deepEqual(mirror.stats('/old.txt').statuses, [307, 302, 200]);
});

void test('closeConnection sends Connection: close and ends the connection after the body, or after a drop', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(50_000);
  const { url } = mirror.addFile('/cc.bin', body);
  mirror.fault('/cc.bin', { kind: 'closeConnection', times: 2 });
  mirror.fault('/cc.bin', { kind: 'drop', afterBytes: 1000, times: 1 });

  const cut = await send(url);
  assert.equal(cut.headers.connection, 'close');
  assert.equal(cut.headers['content-length'], String(body.length), 'announces more than it sends');
  assert.equal(cut.complete, false);
  assert.equal(cut.body.length, 1000);
  const whole = await send(url);
  assert.equal(whole.headers.connection, 'close');
  assert.ok(whole.complete && whole.body.equals(body));
  const after = await fetch(url);
  assert.equal(after.headers.get('connection'), 'keep-alive', 'used up after times');
  assert.ok(Buffer.from(await after.arrayBuffer()).equals(body));
});

void test('holdHeaders sends nothing until releaseHeaders, then answers the requests still waiting', async (t) => {
  const mirror = await startMirror(t);
  const body = Buffer.from('after the cache fill');
  const { url } = mirror.addFile('/held.txt', body);
  mirror.fault('/held.txt', { kind: 'holdHeaders' });

  const gaveUp = new AbortController();
  const abandoned = fetch(url, { signal: gaveUp.signal }).then(() => 'answered', () => 'aborted');
  const waiting = send(url);
  await mirror.waitFor('/held.txt', () => mirror.heldRequests('/held.txt') === 2);
  gaveUp.abort();
  assert.equal(await abandoned, 'aborted');
  await mirror.waitFor('/held.txt', () => mirror.heldRequests('/held.txt') === 1);
  assert.deepEqual(mirror.stats('/held.txt').statuses, [], 'no headers while held');
  assert.equal(mirror.releaseHeaders('/held.txt'), 1);
  const reply = await waiting;
  assert.equal(reply.status, 200);
  assert.ok(reply.body.equals(body));
  assert.equal((await send(url)).status, 200, 'later requests are answered at once');
  assert.deepEqual(mirror.stats('/held.txt').statuses, [200, 200]);
});

void test('faults apply in the order added: one request per slot use', async (t) => {
  const mirror = await startMirror(t);
  const body = randomBytes(10_000);
  const { url } = mirror.addFile('/o.bin', body);
  mirror.fault('/o.bin', { kind: 'status', status: 503, times: 1 });
  mirror.fault('/o.bin', { kind: 'drop', afterBytes: 10, times: 1 });

  assert.equal((await send(url)).status, 503);
  const dropped = await send(url);
  assert.equal(dropped.complete, false);
  assert.equal(dropped.body.length, 10);
  assert.ok((await send(url)).body.equals(body));
  assert.throws(() => mirror.fault('/o.bin', { kind: 'throttle', bytesPerSecond: 0 }), RangeError);
});

void test('waitFor rejects on abort and on close; resetStats zeroes every path', async (t) => {
  const mirror = await MirrorServer.start();
  t.after(() => mirror.close());
  mirror.addFile('/w.txt', Buffer.from('w'));
  await send(`${mirror.url}/w.txt`);
  assert.equal((await mirror.waitFor('/w.txt', (s) => s.requests === 1)).requests, 1, 'already true resolves at once');

  const controller = new AbortController();
  const aborted = mirror.waitFor('/w.txt', (s) => s.requests === 99, controller.signal);
  controller.abort(new Error('gave up'));
  await assert.rejects(aborted, /gave up/);

  mirror.resetStats();
  assert.equal(mirror.stats('/w.txt').requests, 0);

  const orphan = mirror.waitFor('/w.txt', (s) => s.requests === 99);
  await mirror.close();
  await assert.rejects(orphan, /closed/);
});

void test('start({ port }) listens on the port asked for', async (t) => {
  const probe = await MirrorServer.start();
  const port = Number(new URL(probe.url).port);
  await probe.close();
  const mirror = await MirrorServer.start({ port });
  t.after(() => mirror.close());
  assert.equal(mirror.url, `http://127.0.0.1:${port}`);
});
