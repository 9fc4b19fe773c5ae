import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardProxy {
  url: string;
  /** The absolute-form request targets it was asked for, in order. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * A forward proxy on 127.0.0.1 serving absolute-form GETs for http targets and recording them.
 * `route` picks where each goes (default: where it names), e.g. every host to one local
 * server, as an org network's proxy reaches hosts this machine cannot resolve.
 */
export async function startForwardProxy(route: (target: URL) => URL = (target) => target): Promise<ForwardProxy> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    if (!req.url?.startsWith('http://')) {
      res.writeHead(400).end('absolute-form only');
      return;
    }
    const { 'proxy-connection': _dropped, host: _host, ...headers } = req.headers;
    const upstream = http.request(route(new URL(req.url)), { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
