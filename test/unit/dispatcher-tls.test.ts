import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createCore } from '../../src/core/services';
import { rejectsWith, useDownloaderFixture } from '../helpers/downloader-fixture';
import { tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const BODY = Buffer.from('served over TLS with a certificate nobody vouches for\n');

/** An HTTPS server on 127.0.0.1 with a fresh self-signed certificate, or why there is none. */
async function startSelfSignedServer(dir: string): Promise<{ url: string; requests: () => number; close: () => Promise<void> } | string> {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'openssl is not installed: no self-signed certificate to test with';
    throw error;
  }
  let requests = 0;
  const server = https.createServer({ key: await fs.readFile(key), cert: await fs.readFile(cert) }, (_req, res) => {
    requests++;
    res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/file.txt`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A CONNECT proxy that tunnels bytes as they are: TLS runs end to end through it. */
async function startTunnelProxy(): Promise<{ url: string; tunnels: string[]; close: () => Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => [client, upstream].forEach((s) => s.destroy()));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    tunnels,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('Downloader strictSsl: a self-signed HTTPS server on 127.0.0.1', () => {
  const fx = useDownloaderFixture();
  let certDir: { home: string; dispose: () => Promise<void> };
  let tls: Awaited<ReturnType<typeof startSelfSignedServer>>;

  before(async () => {
    certDir = await tempHome('qm-tls-');
    tls = await startSelfSignedServer(certDir.home);
  });
  after(async () => {
    if (typeof tls !== 'string') await tls.close();
    await certDir.dispose();
  });

  /** The server, or undefined after marking the test skipped. */
  function server(t: TestContext): Exclude<typeof tls, string> | undefined {
    if (typeof tls !== 'string') return tls;
    t.skip(tls);
    return undefined;
  }

  it('refuses the certificate by default, at once and without a request reaching the server', async (t) => {
    const target = server(t);
    if (!target) return;
    const error = await rejectsWith(fx.downloader().downloadBuffer({ url: target.url }), 'ENETWORK');
    assert.match(error.message, /self[- ]signed|certificate/i);
    assert.doesNotMatch(error.message, /gave up after/, 'a certificate failure is not retried');
    assert.equal(target.requests(), 0);
  });

  it('accepts it with strictSsl: false, into a buffer and into a file', async (t) => {
    const target = server(t);
    if (!target) return;
    const downloader = fx.downloader({ strictSsl: false });
    const { body } = await downloader.downloadBuffer({ url: target.url });
    assert.deepEqual(body, BODY);
    const dest = path.join(fx.dir, 'file.txt');
    const result = await downloader.downloadToFile({ url: target.url, dest });
    assert.equal(result.size, BODY.length);
    assert.deepEqual(await fs.readFile(dest), BODY);
    await rejectsWith(fx.downloader({ strictSsl: true }).downloadBuffer({ url: target.url }), 'ENETWORK');
  });

  it('applies to the tunnel through a proxy too (a proxy that re-signs traffic)', async (t) => {
    const target = server(t);
    if (!target) return;
    const proxy = await startTunnelProxy();
    t.after(() => proxy.close());
    const options = { proxy: proxy.url, proxyLoopback: true };
    const refused = await rejectsWith(fx.downloader(options).downloadBuffer({ url: target.url }), 'ENETWORK');
    assert.match(refused.message, /self[- ]signed|certificate/i);
    const { body } = await fx.downloader({ ...options, strictSsl: false }).downloadBuffer({ url: target.url });
    assert.deepEqual(body, BODY);
    assert.ok(proxy.tunnels.length >= 2, `tunnels: ${proxy.tunnels.join(', ')}`);
    assert.ok(proxy.tunnels.every((hostPort) => target.url.includes(hostPort)));
  });

  it('createCore passes strictSsl: false through to its downloader', async (t) => {
    const target = server(t);
    if (!target) return;
    const strict = createCore({ home: path.join(fx.dir, 'strict'), env: {} });
    const lax = createCore({ home: path.join(fx.dir, 'lax'), env: {}, strictSsl: false });
    t.after(() => Promise.all([strict.close(), lax.close()]));
    await rejectsWith(strict.downloader.downloadBuffer({ url: target.url }), 'ENETWORK');
    assert.deepEqual((await lax.downloader.downloadBuffer({ url: target.url })).body, BODY);
  });
});
