import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import { CancellationToken, createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { QmError } from '../errors';
import { silentLogger, type Logger } from '../log';
import {
  HelloRequest,
  InstallRequest,
  ListInstalledRequest,
  ListRemoteRequest,
  PingRequest,
  PROTOCOL_VERSION,
  ProgressNotification,
  ResolveRequest,
  StatusRequest,
} from '../../shared/protocol';
import { isPipe } from './endpoint';
import type { CoordinatorService } from './service';
import { toResponseError } from './wire-errors';

/**
 * A connection must complete qm/hello this soon: bytes that never form a message (no header end,
 * a Content-Length never satisfied) raise no parse error, and would hold the connection forever.
 */
const HELLO_DEADLINE_MS = 5_000;

/** An AbortSignal that follows a JSON-RPC cancellation token. */
function signalFor(token: CancellationToken, connectionClosed: AbortSignal): AbortSignal {
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort(new QmError('ECANCELLED', 'Cancelled by the requester')));
  return AbortSignal.any([controller.signal, connectionClosed]);
}

/**
 * Serves a CoordinatorService on a Unix socket (or named pipe). Each connection must say hello
 * first, for the same QM_HOME and protocol; anything malformed closes that connection only.
 * When a connection closes, the jobs it asked for are cancelled (work others share goes on).
 */
export class CoordinatorServer {
  private readonly connections = new Set<MessageConnection>();

  private constructor(private readonly server: net.Server, readonly endpoint: string, private readonly service: CoordinatorService, private readonly logger: Logger) {}

  /** Listens on `endpoint`, which must not exist (the caller removed a stale one under the election lock). */
  static async listen(endpoint: string, service: CoordinatorService, logger: Logger = silentLogger): Promise<CoordinatorServer> {
    const server = net.createServer();
    const coordinator = new CoordinatorServer(server, endpoint, service, logger);
    server.on('connection', (socket) => coordinator.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: endpoint, readableAll: false, writableAll: false }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => logger.error(`Coordinator socket error: ${error.message}`));
    if (!isPipe(endpoint)) await fs.chmod(endpoint, 0o600);
    return coordinator;
  }

  get clientCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, closes every connection (clients fall back or re-elect), removes the socket file. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.dispose();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined); // A client that vanishes mid-write is not our failure.
    const reader = new SocketMessageReader(socket);
    // vscode-jsonrpc re-arms this timer forever once a message arrives cut short, even after dispose,
    // which would keep the process alive when the peer dies mid-message. We never use the event.
    reader.partialMessageTimeout = 0;
    const connection = createMessageConnection(reader, new SocketMessageWriter(socket));
    const closed = new AbortController();
    let greeted = false;
    const requireHello = (): void => {
      if (!greeted) throw new QmError('EUSAGE', 'Say qm/hello first');
    };
    const close = (): void => {
      if (closed.signal.aborted) return;
      clearTimeout(deadline);
      closed.abort(new QmError('ECANCELLED', 'The requester disconnected'));
      this.connections.delete(connection);
      this.service.clients = this.connections.size;
      subscription.dispose();
      connection.dispose();
      socket.destroy();
    };
    const deadline = setTimeout(() => {
      this.logger.warn(`Closing a coordinator connection that did not say hello within ${HELLO_DEADLINE_MS} ms`);
      close();
    }, HELLO_DEADLINE_MS);
    deadline.unref();
    const subscription = this.service.onProgress((progress) => {
      if (greeted) void connection.sendNotification(ProgressNotification, progress).catch(() => undefined);
    });

    connection.onRequest(HelloRequest, (params) => {
      const hello = this.service.hello();
      if (params?.protocol !== PROTOCOL_VERSION) throw toResponseError(new QmError('ECOORDINATOR', `Protocol ${String(params?.protocol)} is not ${PROTOCOL_VERSION}: update qm or the extension`));
      if (params.home !== hello.home) throw toResponseError(new QmError('EENDPOINT', `This coordinator serves ${hello.home}, not ${params.home}`));
      greeted = true;
      clearTimeout(deadline);
      return hello;
    });
    const handle = <P, R>(work: (params: P, signal: AbortSignal) => Promise<R>) => async (params: P, token: CancellationToken): Promise<R> => {
      try {
        requireHello();
        return await work(params, signalFor(token, closed.signal));
      } catch (error) {
        throw toResponseError(error);
      }
    };
    connection.onRequest(ResolveRequest, handle((params, signal) => this.service.resolve(params.tools, signal)));
    connection.onRequest(InstallRequest, handle((params, signal) => this.service.install(params, signal)));
    const handle0 = <R>(work: () => Promise<R>) => async (): Promise<R> => {
      try {
        requireHello();
        return await work();
      } catch (error) {
        throw toResponseError(error);
      }
    };
    connection.onRequest(ListInstalledRequest, handle0(() => this.service.listInstalled()));
    connection.onRequest(ListRemoteRequest, handle((params, signal) => this.service.listRemote(params.tool, signal)));
    connection.onRequest(StatusRequest, handle0(() => this.service.status()));
    connection.onRequest(PingRequest, handle0(() => Promise.resolve(null)));
    connection.onError(([error]) => {
      this.logger.warn(`Closing a coordinator connection that sent something unreadable: ${error.message}`);
      close();
    });
    connection.onClose(close);
    socket.on('close', close);
    this.connections.add(connection);
    this.service.clients = this.connections.size;
    connection.listen();
  }
}
