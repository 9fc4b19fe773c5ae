import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Downloader } from '../../src/core/fetch/downloader';
import { redactCredentials, redactUrl } from '../../src/core/fetch/url-policy';
import type { Logger } from '../../src/core/log';
import { MirrorServer } from '../fixtures/mirror-server';
import { rejectsWith } from '../helpers/downloader-fixture';

const USER = 'ci-bot';
const PASSWORD = 's3cret@pass';
/** The password as it is spelled inside a URL, and the forms a careless message could show. */
const SECRETS = [USER, PASSWORD, encodeURIComponent(PASSWORD)];

function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows "${secret}": ${text}`);
}

describe('mirror credentials (user:pass@ in a mirror URL)', () => {
  let mirror: MirrorServer;
  let elsewhere: MirrorServer;
  let dir: string;
  const lines: string[] = [];
  const logger: Logger = { debug: (l) => void lines.push(l), info: (l) => void lines.push(l), warn: (l) => void lines.push(l), error: (l) => void lines.push(l) };
  let downloader: Downloader;
  const body = randomBytes(50_000);

  before(async () => {
    mirror = await MirrorServer.start({ basicAuth: { user: USER, password: PASSWORD } });
    elsewhere = await MirrorServer.start({ basicAuth: { user: USER, password: PASSWORD } });
    mirror.addFile('/dist/tool.tgz', body);
    elsewhere.addFile('/dist/tool.tgz', body);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-credentials-'));
    const withCredentials = mirror.url.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`);
    downloader = new Downloader({ env: {}, logger, retries: 1, baseBackoffMs: 1, maxBackoffMs: 5, mirrors: [{ from: 'https://upstream.example/', to: `${withCredentials}/` }] });
  });
  after(async () => {
    await downloader.close();
    await Promise.all([mirror.close(), elsewhere.close()]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('are sent as Basic auth, and the result names the mirror without them', async () => {
    const result = await downloader.downloadToFile({ url: 'https://upstream.example/dist/tool.tgz', dest: path.join(dir, 'ok.tgz') });
    assert.ok((await fs.readFile(path.join(dir, 'ok.tgz'))).equals(body));
    assert.equal(result.url, `${mirror.url.replace('http://', 'http://***@')}/dist/tool.tgz`);
    assert.deepEqual(mirror.stats('/dist/tool.tgz').statuses, [200]);
  });

  it('never appear in an error, its details or a log line; no "redirected to" without a redirect', async () => {
    lines.length = 0;
    mirror.fault('/dist/busy.tgz', { kind: 'status', status: 503, times: 2 });
    const failures = [
      await rejectsWith(downloader.downloadToFile({ url: 'https://upstream.example/dist/missing.tgz', dest: path.join(dir, 'a') }), 'EHTTP'),
      await rejectsWith(downloader.downloadToFile({ url: 'https://upstream.example/dist/busy.tgz', dest: path.join(dir, 'b') }), 'EHTTP'),
      await rejectsWith(downloader.downloadBuffer({ url: 'https://upstream.example/dist/missing.json' }), 'EHTTP'),
    ];
    for (const error of failures) {
      assertNoSecret(error.message, 'the message');
      assertNoSecret(JSON.stringify(error.details), 'the details');
      assert.ok(!error.message.includes('redirected to'), error.message);
      assert.match(error.message, /GET http:\/\/\*\*\*@127\.0\.0\.1:\d+\/dist\//);
    }
    assert.ok(lines.some((line) => line.includes('HTTP 503')), 'the retry was logged');
    for (const line of lines) assertNoSecret(line, 'a log line');
  });

  it('are not carried to another origin by a redirect, which is named as one', async () => {
    mirror.fault('/dist/moved.tgz', { kind: 'redirect', to: `${elsewhere.url}/dist/tool.tgz` });
    const error = await rejectsWith(downloader.downloadToFile({ url: 'https://upstream.example/dist/moved.tgz', dest: path.join(dir, 'c') }), 'EHTTP');
    assert.deepEqual(elsewhere.stats('/dist/tool.tgz').statuses, [401], 'the other origin saw no credentials');
    assert.match(error.message, new RegExp(`redirected to ${elsewhere.url}/dist/tool\\.tgz\\) failed: HTTP 401`));
    assertNoSecret(error.message, 'the message');
  });

  it('are redacted from any URL or text', () => {
    assert.equal(redactUrl('https://u:p@h.example/x?y=1'), 'https://***@h.example/x?y=1');
    assert.equal(redactUrl('https://token@h.example/x'), 'https://***@h.example/x');
    assert.equal(redactUrl('https://h.example/x'), 'https://h.example/x');
    assert.equal(redactCredentials('proxy http://a:b@p:3128 and https://c@d/e, not me@example.com'), 'proxy http://***@p:3128 and https://***@d/e, not me@example.com');
  });
});
