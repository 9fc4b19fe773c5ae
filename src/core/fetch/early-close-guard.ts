import type { Socket } from 'node:net';
import { buildConnector, Client, errors, Pool, type Dispatcher } from 'undici';

type Connector = buildConnector.connector;
type PoolFactory = (origin: string | URL, options: Pool.Options & { connections?: number | null }) => Dispatcher;

/**
 * undici 7 asserts `!this.paused` when a server that said `Connection: close` ends the
 * connection (nodejs/undici#5360): `Parser.finish` runs from the socket's 'end', 'error' or
 * 'close' handler, and its parser is paused whenever our consumer (disk, extractor) is one
 * high-water mark behind. The AssertionError escapes every promise and the process dies with a
 * stack. undici 8 fixes it but needs Node 22; VS Code's extension host and our engines are
 * Node 20. So every socket undici opens for us goes through this guard: that one assertion
 * becomes what it means, a connection that closed before its response was consumed. The request
 * fails with a socket error, and the transfer resumes or retries it like any early close.
 */
export function guardedFactory(): PoolFactory {
  return (origin, options) => {
    const connect = guardConnector(typeof options.connect === 'function' ? options.connect : buildConnector({ ...options.connect }));
    const guarded = { ...options, connect };
    return options.connections === 1 ? new Client(origin, guarded) : new Pool(origin, guarded);
  };
}

/** A connector whose sockets are guarded before undici attaches its parser to them. */
export function guardConnector(connect: Connector): Connector {
  return (options, callback) =>
    connect(options, (error, socket) => {
      if (socket) guardSocket(socket);
      // undici's callback is overloaded on which argument is null; pass them as they came.
      (callback as (error: Error | null, socket: Socket | null) => void)(error, socket);
    });
}

function guardSocket(socket: Socket): void {
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    try {
      return emit(event, ...args);
    } catch (error) {
      if (!isPausedParserAssertion(error)) throw error;
      const early = new errors.SocketError('the server closed the connection before the response was read to the end');
      // undici records a socket error and never finishes that socket's parser again; its
      // 'close' handler then fails the request with it and tidies the client up.
      if (event === 'end') {
        socket.destroy(early);
        return true;
      }
      emit('error', early);
      // The 'close' handler stopped at the assertion, before its clean-up: run it again.
      return event === 'close' ? emit('close', ...args) : true;
    }
  }) as Socket['emit'];
}

function isPausedParserAssertion(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_ASSERTION' && String((error as Error).message).includes('!this.paused');
}
