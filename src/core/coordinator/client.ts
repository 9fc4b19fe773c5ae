import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { CancellationTokenSource, createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { QmError, cancelledError } from '../errors';
import {
  HelloRequest,
  InstallRequest,
  ListInstalledRequest,
  ListRemoteRequest,
  PROTOCOL_VERSION,
  ProgressNotification,
  ResolveRequest,
  StatusRequest,
  type HelloResult,
  type InstalledTool,
  type InstallParams,
  type InstallResult,
  type JobProgress,
  type RemoteVersion,
  type ResolvedTool,
  type StatusResult,
  type ToolSpec,
} from '../../shared/protocol';
import { checkSocketFile } from './endpoint';
import type { CoordinatorApi } from './service';
import { fromResponseError } from './wire-errors';

export type Probe =
  /** Nothing listens: no socket file, or a stale one nobody answers on. */
  | { state: 'absent'; stale: boolean }
  /** Our coordinator answered hello. */
  | { state: 'serving'; client: CoordinatorClient }
  /** Something listens but is not a coordinator for this QM_HOME, or the file is not safe. */
  | { state: 'refused'; error: QmError };

const HELLO_TIMEOUT_MS = 2_000;

/** A connection to the coordinator, speaking src/shared/protocol.ts. */
export class CoordinatorClient implements CoordinatorApi {
  private readonly events = new EventEmitter();
  private isClosed = false;

  private constructor(private readonly connection: MessageConnection, private readonly socket: net.Socket, readonly hello: HelloResult) {
    connection.onNotification(ProgressNotification, (progress) => {
      this.events.emit('progress', progress);
    });
    const onClose = (): void => {
      if (this.isClosed) return;
      this.isClosed = true;
      this.events.emit('close');
    };
    connection.onClose(onClose);
    socket.on('close', onClose);
  }

  /** Connects and says hello, telling apart "nobody there", "ours" and "something else". */
  static async probe(endpoint: string, home: string): Promise<Probe> {
    try {
      if ((await checkSocketFile(endpoint)) === undefined) return { state: 'absent', stale: false };
    } catch (error) {
      return { state: 'refused', error: error as QmError };
    }
    let socket: net.Socket;
    try {
      socket = await connectSocket(endpoint);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED' || code === 'ENOENT') return { state: 'absent', stale: code === 'ECONNREFUSED' };
      return { state: 'refused', error: new QmError('EENDPOINT', `Cannot connect to ${endpoint}: ${(error as Error).message}`, { path: endpoint, cause: error }) };
    }
    socket.on('error', () => undefined);
    const reader = new SocketMessageReader(socket);
    // vscode-jsonrpc re-arms this timer forever once a message arrives cut short, even after dispose,
    // which would keep the process alive when the peer dies mid-message. We never use the event.
    reader.partialMessageTimeout = 0;
    const connection = createMessageConnection(reader, new SocketMessageWriter(socket));
    connection.onError(() => socket.destroy());
    connection.listen();
    try {
      const hello = await withTimeout(connection.sendRequest(HelloRequest, { protocol: PROTOCOL_VERSION, pid: process.pid, home }), HELLO_TIMEOUT_MS, endpoint);
      if (hello?.protocol !== PROTOCOL_VERSION || hello.home !== home) throw new QmError('EENDPOINT', `${endpoint} did not answer as a coordinator for ${home}`);
      return { state: 'serving', client: new CoordinatorClient(connection, socket, hello) };
    } catch (error) {
      connection.dispose();
      socket.destroy();
      const qmError = error instanceof QmError ? error : fromResponseError(error);
      return { state: 'refused', error: new QmError('EENDPOINT', `Something listens at ${endpoint} but is not a usable coordinator: ${qmError.message}`, { path: endpoint }) };
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(listener: () => void): { dispose(): void } {
    this.events.on('close', listener);
    return { dispose: () => this.events.off('close', listener) };
  }

  onProgress(listener: (progress: JobProgress) => void): { dispose(): void } {
    this.events.on('progress', listener);
    return { dispose: () => this.events.off('progress', listener) };
  }

  resolve(tools: ToolSpec[], signal?: AbortSignal): Promise<ResolvedTool[]> {
    return this.request((token) => this.connection.sendRequest(ResolveRequest, { tools }, token), signal, 'Resolving');
  }

  install(params: InstallParams, signal?: AbortSignal): Promise<InstallResult> {
    return this.request((token) => this.connection.sendRequest(InstallRequest, params, token), signal, 'The install');
  }

  listInstalled(): Promise<InstalledTool[]> {
    return this.request((token) => this.connection.sendRequest(ListInstalledRequest, token), undefined, 'Listing');
  }

  listRemote(tool: string, signal?: AbortSignal): Promise<RemoteVersion[]> {
    return this.request((token) => this.connection.sendRequest(ListRemoteRequest, { tool }, token), signal, 'Listing versions');
  }

  status(): Promise<StatusResult> {
    return this.request((token) => this.connection.sendRequest(StatusRequest, token), undefined, 'Status');
  }

  dispose(): void {
    this.connection.dispose();
    this.socket.destroy();
  }

  /** Sends a request that a signal can cancel; a lost connection becomes ECOORDINATOR. */
  private async request<R>(send: (token: CancellationTokenSource['token']) => Promise<R>, signal: AbortSignal | undefined, what: string): Promise<R> {
    if (this.isClosed) throw new QmError('ECOORDINATOR', 'The coordinator connection is closed');
    if (signal?.aborted) throw cancelledError(signal, what);
    const source = new CancellationTokenSource();
    const onAbort = (): void => source.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    let subscription: { dispose(): void } | undefined;
    const lost = new Promise<never>((_, reject) => {
      subscription = this.onClose(() => reject(new QmError('ECOORDINATOR', 'The coordinator went away while working for us')));
    });
    try {
      return await Promise.race([send(source.token), lost]);
    } catch (error) {
      if (signal?.aborted) throw cancelledError(signal, what);
      throw error instanceof QmError ? error : fromResponseError(error);
    } finally {
      subscription?.dispose();
      signal?.removeEventListener('abort', onAbort);
      source.dispose();
    }
  }
}

function connectSocket(endpoint: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(endpoint);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, endpoint: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QmError('EENDPOINT', `${endpoint} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
