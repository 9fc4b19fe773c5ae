import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { parseHttpHost } from '../../src/core/fetch/http-hosts';
import { createCore, type CoreOptions, type CoreServices } from '../../src/core/services';
import { MirrorServer } from '../fixtures/mirror-server';
import { rejectsWith } from '../helpers/downloader-fixture';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { createTestCa, opensslMissing, type TestCa } from '../helpers/test-ca';
import { tempHome } from '../helpers/temp-home';

const BODY = Buffer.from('an archive from the org mirror\n');

describe('an org mirror over HTTPS signed by an internal CA (QM_CA_CERTS, quartermaster.caCertificates)', () => {
  let scratch: { home: string; dispose: () => Promise<void> };
  let ca: TestCa | undefined;
  let mirror: MirrorServer | undefined;
  const cores: CoreServices[] = [];
  const missing = opensslMissing();

  before(async () => {
    scratch = await tempHome('qm-org-ca-');
    if (await missing) return;
    ca = await createTestCa(scratch.home, 'org');
    mirror = await MirrorServer.start({ tls: await ca.issue('mirror') });
    mirror.addFile('/dist/tool.tgz', BODY);
  });
  after(async () => {
    await Promise.all(cores.map((core) => core.close()));
    await mirror?.close();
    await scratch.dispose();
  });

  async function ready(t: TestContext): Promise<{ ca: TestCa; mirror: MirrorServer } | undefined> {
    const why = await missing;
    if (why) t.skip(why);
    return ca && mirror ? { ca, mirror } : undefined;
  }
  function core(options: CoreOptions): CoreServices {
    const created = createCore({ home: path.join(scratch.home, `home-${cores.length}`), ...options });
    cores.push(created);
    return created;
  }

  it('is refused without the CA, and not retried', async (t) => {
    const world = await ready(t);
    if (!world) return;
    const error = await rejectsWith(core({ env: {} }).downloader.downloadBuffer({ url: `${world.mirror.url}/dist/tool.tgz` }), 'ENETWORK');
    assert.match(error.message, /certificate/i);
    assert.equal(world.mirror.stats('/dist/tool.tgz').requests, 0);
  });

  it('is trusted with QM_CA_CERTS, and with the setting, which wins over the variable', async (t) => {
    const world = await ready(t);
    if (!world) return;
    const url = `${world.mirror.url}/dist/tool.tgz`;
    assert.deepEqual((await core({ env: { QM_CA_CERTS: world.ca.certFile } }).downloader.downloadBuffer({ url })).body, BODY);
    const fromSetting = core({ env: { QM_CA_CERTS: path.join(scratch.home, 'nothing-here.pem') }, caCertificates: world.ca.certFile });
    assert.deepEqual((await fromSetting.downloader.downloadBuffer({ url })).body, BODY);
  });

  it('an unreadable bundle or one without a certificate is EUSAGE naming the file, at the first request', async (t) => {
    const world = await ready(t);
    if (!world) return;
    const url = `${world.mirror.url}/dist/tool.tgz`;
    const absent = path.join(scratch.home, 'absent.pem');
    const unreadable = await rejectsWith(core({ env: { QM_CA_CERTS: absent } }).downloader.downloadBuffer({ url }), 'EUSAGE');
    assert.match(unreadable.message, new RegExp(`Cannot read the extra CA certificates at ${absent}`));
    const empty = path.join(scratch.home, 'empty.pem');
    await fs.writeFile(empty, 'not a certificate\n');
    const noCertificate = await rejectsWith(core({ env: { QM_CA_CERTS: empty } }).downloader.downloadBuffer({ url }), 'EUSAGE');
    assert.match(noCertificate.message, /holds no PEM certificate/);
  });
});

describe('a plain-http org mirror, allowed per host (QM_ALLOW_HTTP_HOSTS, quartermaster.allowHttpHosts)', () => {
  let mirror: MirrorServer;
  let proxy: ForwardProxy;
  let scratch: { home: string; dispose: () => Promise<void> };
  const cores: CoreServices[] = [];

  before(async () => {
    scratch = await tempHome('qm-http-hosts-');
    mirror = await MirrorServer.start();
    mirror.addFile('/dist/tool.tgz', BODY);
    mirror.fault('/dist/to-elsewhere.tgz', { kind: 'redirect', to: 'http://elsewhere.corp/dist/tool.tgz' });
    // Every host the tests name ("mirror.corp", ...) is the local mirror, as an org proxy would reach it.
    proxy = await startForwardProxy((target) => new URL(target.pathname + target.search, mirror.url));
  });
  after(async () => {
    await Promise.all(cores.map((core) => core.close()));
    await proxy.close();
    await mirror.close();
    await scratch.dispose();
  });

  /** A core whose requests reach "mirror.corp" through the proxy, as they would on an org network. */
  function core(env: NodeJS.ProcessEnv, options: CoreOptions = {}): CoreServices {
    const created = createCore({ home: path.join(scratch.home, `home-${cores.length}`), env, proxy: proxy.url, ...options });
    cores.push(created);
    return created;
  }
  const fetchFrom = (c: CoreServices, url: string): Promise<{ body: Buffer }> => c.downloader.downloadBuffer({ url });

  it('is refused by default, before any request, naming the variable that would allow it', async () => {
    const error = await rejectsWith(fetchFrom(core({}), 'http://mirror.corp:8080/dist/tool.tgz'), 'EINSECURE');
    assert.match(error.message, /QM_ALLOW_HTTP_HOSTS=mirror\.corp:8080/);
    assert.deepEqual(proxy.seen, []);
  });

  it('is allowed for exactly the hosts named: host:port for that port, host alone for any port', async () => {
    const allowed = core({ QM_ALLOW_HTTP_HOSTS: 'mirror.corp:8080, other.corp' });
    assert.deepEqual((await fetchFrom(allowed, 'http://mirror.corp:8080/dist/tool.tgz')).body, BODY);
    assert.deepEqual((await fetchFrom(allowed, 'http://OTHER.corp:9999/dist/tool.tgz')).body, BODY);
    await rejectsWith(fetchFrom(allowed, 'http://mirror.corp:9090/dist/tool.tgz'), 'EINSECURE');
    await rejectsWith(fetchFrom(allowed, 'http://mirror.corp/dist/tool.tgz'), 'EINSECURE');
    await rejectsWith(fetchFrom(allowed, 'http://third.corp:8080/dist/tool.tgz'), 'EINSECURE');
    const fromSetting = core({ QM_ALLOW_HTTP_HOSTS: 'other.corp' }, { allowHttpHosts: ['mirror.corp:8080'] });
    assert.deepEqual((await fetchFrom(fromSetting, 'http://mirror.corp:8080/dist/tool.tgz')).body, BODY);
    await rejectsWith(fetchFrom(fromSetting, 'http://other.corp/dist/tool.tgz'), 'EINSECURE');
  });

  it('does not extend to a redirect from an allowed host to another plain-http host', async () => {
    const error = await rejectsWith(fetchFrom(core({ QM_ALLOW_HTTP_HOSTS: 'mirror.corp' }), 'http://mirror.corp/dist/to-elsewhere.tgz'), 'EINSECURE');
    assert.equal(error.details.url, 'http://elsewhere.corp/dist/tool.tgz');
  });

  it('names each bad entry: a scheme, a path, a wildcard or a bad port is EUSAGE, never a wider opt-in', async () => {
    for (const entry of ['http://mirror.corp', 'mirror.corp/dist', '*', '*.corp', 'mirror.corp:99999', 'mirror.corp:']) {
      assert.throws(() => parseHttpHost(entry), (error: unknown) => isQmError(error, 'EUSAGE') && error.message.includes(`"${entry}"`), entry);
    }
    assert.deepEqual(parseHttpHost('MIRROR.corp.:80'), { hostname: 'mirror.corp', port: '80' });
    assert.deepEqual(parseHttpHost('[FD00::1]:8080'), { hostname: '[fd00::1]', port: '8080' });
    const error = await rejectsWith(fetchFrom(core({ QM_ALLOW_HTTP_HOSTS: 'mirror.corp *' }), 'https://example.invalid/x'), 'EUSAGE');
    assert.match(error.message, /"\*" in QM_ALLOW_HTTP_HOSTS/);
  });
});
