import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { CancellationTokenSource, createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { QmError, cancelledError } from '../errors';
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

export interface ClientOptions {
  /** While a request waits, a silence this long sends a ping. Default 2 s. */
  heartbeatMs?: number;
  /**
   * While a request waits, a silence this long (no progress, no answer, no pong) gives up on the
   * coordinator: a stopped or hung one would otherwise hold its clients forever. Default 10 s,
   * the locks' stale time: by then a client working alone can take over what it held.
   */
  silenceLimitMs?: number;
}

/** A connection to the coordinator, speaking src/shared/protocol.ts. */
export class CoordinatorClient implements CoordinatorApi {
  private readonly events = new EventEmitter();
  private isClosed = false;
  private closeReason: QmError | undefined;
  private lastHeard = performance.now();
  private waiting = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;
  private readonly silenceLimitMs: number;

  private constructor(
    private readonly connection: MessageConnection,
    private readonly socket: net.Socket,
    readonly hello: HelloResult,
    options: ClientOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.silenceLimitMs = options.silenceLimitMs ?? 10_000;
    connection.onNotification(ProgressNotification, (progress) => {
      this.events.emit('progress', progress);
    });
    // Any byte from the coordinator (an answer, progress, a pong) shows that it is alive.
    socket.on('data', () => {
      this.lastHeard = performance.now();
    });
    const onClose = (): void => {
      if (this.isClosed) return;
      this.isClosed = true;
      this.stopWatchdog();
      this.events.emit('close');
    };
    connection.onClose(onClose);
    socket.on('close', onClose);
  }

  /** Connects and says hello, telling apart "nobody there", "ours" and "something else". */
  static async probe(endpoint: string, home: string, options: ClientOptions = {}): Promise<Probe> {
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
      return { state: 'serving', client: new CoordinatorClient(connection, socket, hello, options) };
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
    this.stopWatchdog();
    this.connection.dispose();
    this.socket.destroy();
  }

  /** Sends a request that a signal can cancel; a lost or silent coordinator becomes ECOORDINATOR. */
  private async request<R>(send: (token: CancellationTokenSource['token']) => Promise<R>, signal: AbortSignal | undefined, what: string): Promise<R> {
    if (this.isClosed) throw this.closeReason ?? new QmError('ECOORDINATOR', 'The coordinator connection is closed');
    if (signal?.aborted) throw cancelledError(signal, what);
    const source = new CancellationTokenSource();
    const onAbort = (): void => source.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    let subscription: { dispose(): void } | undefined;
    const lost = new Promise<never>((_, reject) => {
      subscription = this.onClose(() => reject(this.closeReason ?? new QmError('ECOORDINATOR', 'The coordinator went away while working for us')));
    });
    this.startWaiting();
    try {
      return await Promise.race([send(source.token), lost]);
    } catch (error) {
      if (signal?.aborted) throw cancelledError(signal, what);
      // Closing the connection rejects what was pending with its own words: ours say why.
      if (this.closeReason) throw this.closeReason;
      throw error instanceof QmError ? error : fromResponseError(error);
    } finally {
      this.stopWaiting();
      subscription?.dispose();
      signal?.removeEventListener('abort', onAbort);
      source.dispose();
    }
  }

  /** Watches for silence while at least one request waits: ping after a heartbeat, give up after the limit. */
  private startWaiting(): void {
    if (this.waiting++ > 0) return;
    this.lastHeard = performance.now();
    this.watchdog = setInterval(() => this.checkSilence(), Math.max(10, Math.min(this.heartbeatMs, this.silenceLimitMs) / 2));
    this.watchdog.unref();
  }

  private stopWaiting(): void {
    if (--this.waiting === 0) this.stopWatchdog();
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private checkSilence(): void {
    const silent = performance.now() - this.lastHeard;
    if (silent >= this.silenceLimitMs) {
      this.closeReason = new QmError(
        'ECOORDINATOR',
        `The coordinator (pid ${this.hello.pid}) has not answered for ${Math.round(silent / 1000)} s (stopped or hung?)`,
      );
      this.dispose();
      return;
    }
    // An error answer (an older coordinator without qm/ping) is an answer too: it reaches 'data'.
    if (silent >= this.heartbeatMs) void this.connection.sendRequest(PingRequest).catch(() => undefined);
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
