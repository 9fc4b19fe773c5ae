import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createMessageConnection, ResponseError, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { CoordinatorHost } from '../../src/core/coordinator/host';
import { prepareEndpointDir } from '../../src/core/coordinator/endpoint';
import { isQmError } from '../../src/core/errors';
import { parsePlatform } from '../../src/core/platform';
import { createCore, type CoreServices } from '../../src/core/services';
import { HelloRequest, InstallRequest, PingRequest, PROTOCOL_VERSION, type InstallParams } from '../../src/shared/protocol';
import { tempHome } from '../helpers/temp-home';

type Answer = 'answer' | 'fail' | 'never';

/**
 * A coordinator that speaks the protocol but misbehaves on purpose: per connection, how it treats
 * hello, install and ping. It counts connections, open ones and install requests.
 */
class MisbehavingCoordinator {
  connections = 0;
  open = 0;
  mostOpen = 0;
  installs = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(endpoint: string, home: string, behaviour: (connection: number) => { hello: Answer; install: Answer; ping: Answer }): Promise<MisbehavingCoordinator> {
    await prepareEndpointDir(endpoint);
    const server = net.createServer();
    const fake = new MisbehavingCoordinator(server);
    server.on('connection', (socket) => {
      const rules = behaviour(++fake.connections);
      fake.open++;
      fake.mostOpen = Math.max(fake.mostOpen, fake.open);
      fake.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        fake.open--;
        fake.sockets.delete(socket);
      });
      const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
      const act = <R>(answer: Answer, value: R): Promise<R> => {
        if (answer === 'answer') return Promise.resolve(value);
        if (answer === 'fail') return Promise.reject(new ResponseError(-32000, 'something broke inside the coordinator'));
        return new Promise<R>(() => undefined);
      };
      connection.onRequest(HelloRequest, () => act(rules.hello, { protocol: PROTOCOL_VERSION, pid: 424242, home, version: 'test' }));
      connection.onRequest(InstallRequest, () => {
        fake.installs++;
        return act(rules.install, { jobId: 'never', tools: [] });
      });
      connection.onRequest(PingRequest, () => act(rules.ping, null));
      connection.listen();
    });
    await new Promise<void>((resolve) => server.listen(endpoint, resolve));
    await fs.chmod(endpoint, 0o600);
    return fake;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Rejects if `work` has not settled within `ms`: what used to hang fails the test instead. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

describe('a CoordinatorHost whose leader misbehaves', () => {
  let scratch: { home: string; dispose: () => Promise<void> };
  let core: CoreServices;
  let endpoint: string;
  const closers: Array<() => Promise<unknown>> = [];
  const job = (jobId: string): InstallParams => ({ jobId, requester: { kind: 'command', pid: process.pid, label: 'test' }, tools: [] });

  beforeEach(async () => {
    scratch = await tempHome('qm-host-');
    core = createCore({ home: path.join(scratch.home, 'qm'), env: {} });
    endpoint = path.join(scratch.home, 'run', 'fake.sock');
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await core.close();
    await scratch.dispose();
  });

  async function start(fake: MisbehavingCoordinator, client = {}): Promise<CoordinatorHost> {
    closers.push(() => fake.close());
    const host = await CoordinatorHost.start({ core, platform: parsePlatform('linux-x64'), endpoint, client });
    closers.push(() => host.dispose());
    assert.equal(host.role, 'client');
    return host;
  }

  it('that keeps failing jobs: re-elected a bounded number of times, backing off, each replaced connection closed', async () => {
    const fake = await MisbehavingCoordinator.start(endpoint, core.layout.root, () => ({ hello: 'answer', install: 'fail', ping: 'answer' }));
    const host = await start(fake);
    const began = performance.now();
    const error = await within(20_000, host.install(job('bounded'))).then(() => assert.fail('installed'), (caught: unknown) => caught);
    const elapsed = performance.now() - began;
    assert.ok(isQmError(error, 'ECOORDINATOR'), String(error));
    assert.equal(fake.installs, 4, 'the first attempt and three more');
    // Waits of 250, 500 and 1000 ms, each at least half of that.
    assert.ok(elapsed >= 875, `backed off: ${Math.round(elapsed)} ms`);
    assert.equal(fake.connections, 4, 'one new connection per election');
    assert.equal(fake.open, 1, 'every replaced connection was closed');
    assert.equal(fake.mostOpen, 2, 'never more than the old and the new one at once');
  });

  it('that falls silent mid-job (SIGSTOP): the host gives up on it within the bound and does the job itself', async () => {
    // The first connection is answered until the job; after that nothing, as from a stopped process.
    const fake = await MisbehavingCoordinator.start(endpoint, core.layout.root, (connection) =>
      connection === 1 ? { hello: 'answer', install: 'never', ping: 'never' } : { hello: 'never', install: 'never', ping: 'never' },
    );
    const host = await start(fake, { heartbeatMs: 50, silenceLimitMs: 300 });
    const result = await within(20_000, host.install(job('alone')));
    assert.deepEqual(result, { jobId: 'alone', tools: [] });
    assert.equal(host.role, 'standalone', 'a coordinator that does not say hello is not trusted');
    assert.equal(fake.installs, 1);
  });
});
