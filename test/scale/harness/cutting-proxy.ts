import { connect, createServer, type Server, type Socket } from 'node:net';

interface Cut {
  /** Request paths, e.g. '/dist/v22.12.0/node-v22.12.0-linux-x64.tar.gz': the first one asked for is cut. */
  paths: string[];
  /** Response bytes (headers included) let through before both sockets are destroyed. */
  afterBytes: number;
  resolve: (path: string) => void;
}

/**
 * A TCP relay on 127.0.0.1 in front of an HTTP server that cuts one response mid-body: the
 * connection that sends `GET <path>` first gets `afterBytes` of the answer and then loses its socket,
 * as when a client's network drops. Everything else is relayed untouched. It reads just enough
 * HTTP to see request lines, which is all a keep-alive HTTP/1.1 client without pipelining needs.
 */
export class CuttingProxy {
  private readonly sockets = new Set<Socket>();
  private armed: Cut | undefined;

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(target: { host: string; port: number }): Promise<CuttingProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new CuttingProxy(server, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
    server.on('connection', (client) => proxy.relay(client, target));
    return proxy;
  }

  /** Cuts the next response to a GET of one of `paths` after `afterBytes`; resolves with the path once it has. */
  cutOnce(paths: string[], afterBytes: number): Promise<string> {
    return new Promise((resolve) => (this.armed = { paths, afterBytes, resolve }));
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
      const armed = this.armed;
      const head = chunk.toString('latin1');
      const path = armed?.paths.find((p) => head.startsWith(`GET ${p} `));
      if (armed && path !== undefined) {
        this.armed = undefined;
        cutting = { ...armed, path, sent: 0 };
      }
      upstream.write(chunk);
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

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
