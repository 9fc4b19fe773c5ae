import { connect, createServer, type Server, type Socket } from 'node:net';

interface Cut {
  /** Request paths, e.g. '/dist/v22.12.0/node-v22.12.0-linux-x64.tar.gz': the first one asked for is cut. */
  paths: string[];
  /** Response bytes (headers included) let through before both sockets are destroyed. */
  afterBytes: number;
  resolve: (path: string) => void;
}

interface Waiter {
  paths: string[];
  count: number;
  resolve: () => void;
}

/**
 * A TCP relay on 127.0.0.1 in front of an HTTP server that sees each request line, which is all
 * a keep-alive HTTP/1.1 client without pipelining needs, so a test can: count the GETs of a path
 * as they arrive (not when they end, as a server's log would), cut one response mid-body as when
 * a client's network drops, and hold responses to some paths until released. Everything else is
 * relayed untouched.
 */
export class TcpRelay {
  readonly url: string;
  private readonly sockets = new Set<Socket>();
  private readonly gets = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private armedCut: Cut | undefined;
  private held: { paths: string[]; paused: Socket[] } | undefined;

  private constructor(private readonly server: Server) {
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  static async start(target: { host: string; port: number }): Promise<TcpRelay> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const relay = new TcpRelay(server);
    server.on('connection', (client) => relay.relay(client, target));
    return relay;
  }

  /** Relays to the HTTP server at `url` (scheme ignored). */
  static toUrl(url: string): Promise<TcpRelay> {
    const { hostname, port } = new URL(url);
    return TcpRelay.start({ host: hostname, port: Number(port) });
  }

  /** Cuts the next response to a GET of one of `paths` after `afterBytes`; resolves with the path once it has. */
  cutOnce(paths: string[], afterBytes: number): Promise<string> {
    return new Promise((resolve) => (this.armedCut = { paths, afterBytes, resolve }));
  }

  /** Holds every response to a GET of one of `paths` from now until `release()`. */
  hold(paths: string[]): void {
    this.held = { paths, paused: [] };
  }

  release(): void {
    const held = this.held;
    this.held = undefined;
    for (const socket of held?.paused ?? []) socket.resume();
  }

  /** Resolves once `count` GETs of `paths` (in all) have arrived. */
  requestsArrived(paths: string[], count: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { paths, count, resolve };
      this.waiters.add(waiter);
      this.check(waiter);
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private check(waiter: Waiter): void {
    const seen = waiter.paths.reduce((sum, path) => sum + (this.gets.get(path) ?? 0), 0);
    if (seen < waiter.count) return;
    this.waiters.delete(waiter);
    waiter.resolve();
  }

  private relay(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    let cutting: (Cut & { path: string; sent: number }) | undefined;
    client.on('data', (chunk: Buffer) => {
      const path = /^GET (\S+) HTTP\//.exec(chunk.toString('latin1'))?.[1];
      if (path !== undefined) {
        this.gets.set(path, (this.gets.get(path) ?? 0) + 1);
        const cut = this.armedCut;
        if (cut?.paths.includes(path)) {
          this.armedCut = undefined;
          cutting = { ...cut, path, sent: 0 };
        }
        if (this.held?.paths.includes(path)) {
          upstream.pause();
          this.held.paused.push(upstream);
        }
      }
      upstream.write(chunk);
      for (const waiter of [...this.waiters]) this.check(waiter);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      const room = cutting.afterBytes - cutting.sent;
      if (chunk.length < room) {
        cutting.sent += chunk.length;
        client.write(chunk);
        return;
      }
      const cut = cutting;
      client.write(chunk.subarray(0, room), () => {
        client.destroy();
        upstream.destroy();
        cut.resolve(cut.path);
      });
      cutting = undefined;
      upstream.pause();
    });
  }
}
