/**
 * Lets tests in another process (VS Code's extension host) ask the fixture mirror what it served,
 * on a second loopback port so the mirror's own paths and counters stay untouched:
 *
 *   GET  /stats?path=/dist/index.json                       -> PathStats as JSON
 *   GET  /stats/wait?path=P&field=fullBodies&atLeast=1      -> PathStats once stats[field] >= atLeast
 *        (answered when it holds, never polled; abandoned when the client goes away)
 *   POST /stats/reset                                       -> 204, every counter back to zero
 *
 * test/vscode/mirror-stats.ts is the client; its URL reaches the extension host as QM_TEST_MIRROR_STATS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MirrorServer, PathStats } from '../fixtures/mirror-server';

export type CountField = 'requests' | 'gets' | 'rangeRequests' | 'fullBodies' | 'bytesSent';
const COUNT_FIELDS: readonly string[] = ['requests', 'gets', 'rangeRequests', 'fullBodies', 'bytesSent'];

export function isCountField(name: string): name is CountField {
  return COUNT_FIELDS.includes(name);
}

export class MirrorStatsServer {
  readonly url: string;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(mirror: MirrorServer): Promise<MirrorStatsServer> {
    const server = createServer((req, res) => {
      answer(mirror, req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MirrorStatsServer(server);
  }

  /** Stops listening and drops open connections, waiting ones too. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}

async function answer(mirror: MirrorServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://stats');
  if (req.method === 'POST' && url.pathname === '/stats/reset') {
    mirror.resetStats();
    res.writeHead(204).end();
    return;
  }
  if (req.method !== 'GET' || (url.pathname !== '/stats' && url.pathname !== '/stats/wait')) {
    send(res, 404, { error: `no ${req.method} ${url.pathname}; try GET /stats?path=/dist/index.json` });
    return;
  }
  const path = url.searchParams.get('path');
  if (path === null || !path.startsWith('/')) {
    send(res, 400, { error: "'path' must be a mirror URL path such as /dist/index.json" });
    return;
  }
  if (url.pathname === '/stats') {
    send(res, 200, mirror.stats(path));
    return;
  }

  const field = url.searchParams.get('field') ?? 'requests';
  const atLeast = Number(url.searchParams.get('atLeast') ?? '1');
  if (!isCountField(field) || !Number.isSafeInteger(atLeast) || atLeast < 0) {
    send(res, 400, { error: `'field' is one of ${COUNT_FIELDS.join(', ')}; 'atLeast' a non-negative integer` });
    return;
  }
  const gone = new AbortController();
  res.once('close', () => gone.abort(new Error('client went away')));
  let stats: PathStats;
  try {
    stats = await mirror.waitFor(path, (s) => s[field] >= atLeast, gone.signal);
  } catch (error) {
    if (gone.signal.aborted) return;
    throw error;
  }
  send(res, 200, stats);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
