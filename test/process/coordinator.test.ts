import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { CoordinatorClient } from '../../src/core/coordinator/client';
import { currentHost, endpointFor, hostTag, prepareEndpointDir } from '../../src/core/coordinator/endpoint';
import { HomeLayout } from '../../src/core/home';
import { electionLockKey } from '../../src/core/store/lock-keys';
import { LockManager } from '../../src/core/store/locks';
import { HelloRequest, InstallRequest, PROTOCOL_VERSION, type JobProgress } from '../../src/shared/protocol';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { Child, ChildScript, runQm, spawnQm, type ChildMessage } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const NOBODY = 65534;
const rootOnly = process.getuid?.() === 0 ? false : 'simulating another user needs root (fs.chown to uid 65534)';
/** A hang fails the test instead of blocking the whole process suite. */
const timeout = 120_000;

interface RoleLine {
  role: 'leader' | 'client' | 'standalone';
  endpoint: string;
  pid: number;
}

interface InstallDoc {
  tools: Array<{ tool: string; version: string; dir: string; installed: boolean }>;
  coordinator: boolean;
}

interface Finished {
  code: number | null;
  doc: InstallDoc | undefined;
  stderr: string;
  phases: string[];
}

/** Waits for a `qm install --json` child to end: its exit, its stdout document, its progress phases. */
async function finished(child: Child): Promise<Finished> {
  const { code } = await child.exited;
  const stdout = child.stdout.join('\n');
  const phases = child.messages.filter((m) => m.type === 'progress').map((m) => (m.progress as { phase: string }).phase);
  return { code, doc: code === 0 ? (JSON.parse(stdout) as InstallDoc) : undefined, stderr: child.stderr.join('\n'), phases };
}

const isRole = (m: ChildMessage): m is ChildMessage & RoleLine => typeof m.role === 'string' && typeof m.endpoint === 'string';
const progressPhase = (phase: string) => (m: ChildMessage): boolean => m.type === 'progress' && (m.progress as { phase?: string }).phase === phase;

describe('the coordinator across processes (one QM_HOME, many requesters, hostile endpoints)', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let home: string;
  let dispose: () => Promise<void>;
  const children: Child[] = [];
  let pins = 0;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: 3 * MiB });
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    await fs.mkdir(path.join(home, 'project'));
    server.clearFaults();
    server.resetStats();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await dispose();
  });

  const qmHome = (): string => path.join(home, 'qm');
  const layout = (): HomeLayout => new HomeLayout(qmHome());
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ QM_HOME: qmHome(), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64', ...extra });
  const archive = (version: string): PublishedArtifact => artifacts.find((a) => a.version === version && a.ext === 'tar.gz')!;
  const track = <C extends Child>(child: C): C => {
    children.push(child);
    return child;
  };
  const qm = (args: string[], extra: NodeJS.ProcessEnv = {}): Child => track(spawnQm(args, { cwd: path.join(home, 'project'), env: env(extra) }));
  const install = (version: string, coordinator: string): Child => qm(['install', `node@${version}`, '--json'], { QM_COORDINATOR: coordinator });

  /** `qm coordinator --json`, once it has said which role it took. */
  async function startCoordinator(): Promise<{ child: Child; first: RoleLine }> {
    const child = qm(['coordinator', '--json']);
    return { child, first: await child.waitFor(isRole) };
  }

  /** A host driven over stdin (test/helpers/coordinator-host.ts), once it has said its role. */
  async function startHost(): Promise<{ child: ChildScript; first: RoleLine }> {
    const child = track(new ChildScript('test/helpers/coordinator-host.ts', [], env()));
    return { child, first: await child.waitFor<RoleLine>((m) => m.event === 'role' && isRole(m)) };
  }

  async function stop(child: Child): Promise<void> {
    const { code, signal } = await child.kill('SIGTERM');
    assert.equal(code, 0, `pid ${child.pid} stopped cleanly on SIGTERM (signal ${signal}); stderr:\n${child.stderr.join('\n')}`);
  }

  async function probe(endpoint: string): Promise<Awaited<ReturnType<typeof CoordinatorClient.probe>>> {
    const result = await CoordinatorClient.probe(endpoint, qmHome());
    if (result.state === 'serving') cleanups.push(() => Promise.resolve(result.client.dispose()));
    return result;
  }

  async function assertServedBy(endpoint: string, pid: number): Promise<void> {
    const result = await probe(endpoint);
    assert.equal(result.state, 'serving', result.state === 'refused' ? result.error.message : 'nothing answers');
    if (result.state !== 'serving') return;
    assert.equal(result.client.hello.pid, pid);
    const status = await result.client.status();
    assert.deepEqual(status.jobs, [], 'no job left behind in the coordinator');
  }

  async function assertInstalled(version: string): Promise<void> {
    const dir = layout().toolchainDir('node', version.slice(1), 'linux-x64');
    const { stdout } = await run(path.join(dir, 'bin', 'node'), ['--version']);
    assert.equal(stdout.trim(), version);
    for (const file of ['LICENSE', 'README.md', 'include/node/node.h', 'lib/payload.bin', '.qm-receipt.json']) await fs.access(path.join(dir, file));
    const blob = layout().blobPath(archive(version).sha256);
    assert.equal(createHash('sha256').update(await fs.readFile(blob)).digest('hex'), archive(version).sha256, 'the stored archive is the published one');
  }

  /** No temp file or staging directory, no lock directory, no owner record left. */
  async function assertCacheClean(): Promise<void> {
    assert.deepEqual(await listFiles(layout().tmpDir), [], 'no temp files or staging directories left');
    const locks = await fs.readdir(layout().locksDir).catch(() => [] as string[]);
    assert.deepEqual(locks, [], 'no locks or lock owner records left');
  }

  async function inode(file: string): Promise<{ ino: number; mode: number; uid: number }> {
    const stat = await fs.lstat(file);
    assert.ok(stat.isSocket(), `${file} is still a socket`);
    return { ino: stat.ino, mode: stat.mode & 0o777, uid: stat.uid };
  }

  /** The socket file's identity, its inode kept alive by a hard link so that a replacement cannot reuse the number. */
  async function pinned(file: string): Promise<{ ino: number; mode: number; uid: number }> {
    await fs.link(file, path.join(home, `pinned-${++pins}.sock`));
    return inode(file);
  }

  /**
   * Holds a toolchain's install lock from the test process, so that every requester started now
   * is surely waiting when the work begins; releasing it starts them all at the same moment.
   */
  async function gate(version: string): Promise<() => Promise<void>> {
    const lock = await new LockManager(layout().locksDir).tryAcquire(`toolchain-node-${version}-linux-x64`, 'test gate: hold everyone back until all have asked');
    assert.ok(lock, `gate for ${version}`);
    let open = false;
    const release = async (): Promise<void> => {
      if (open) return;
      open = true;
      await lock.release();
    };
    cleanups.push(release);
    return release;
  }

  const hostProgress = (phase: string) => (m: ChildMessage): boolean => m.event === 'progress' && (m.progress as JobProgress).phase === phase;

  it('a command, 4 coordinated and 2 standalone CLIs on one toolchain, 2 CLIs on another, all at once: one GET each, progress to everyone', { timeout }, async (t) => {
    for (const version of ['v22.12.0', 'v20.18.1']) server.fault(archive(version).path, { kind: 'throttle', bytesPerSecond: 2 * MiB });
    const coordinator = await startCoordinator();
    assert.equal(coordinator.first.role, 'leader');
    const endpoint = coordinator.first.endpoint;
    assert.equal(endpoint, endpointFor(qmHome()));
    const host = await startHost();
    assert.equal(host.first.role, 'client', 'a second host uses the serving coordinator');
    const gates = await Promise.all([gate('22.12.0'), gate('20.18.1')]);

    const started = Date.now();
    host.child.send(JSON.stringify({ install: { jobId: 'command-1', tools: [{ name: 'node', spec: '22.12.0' }] } }));
    const coordinated = Array.from({ length: 4 }, () => install('22.12.0', endpoint));
    const standalone = Array.from({ length: 2 }, () => install('22.12.0', 'off'));
    const second = [install('20.18.1', endpoint), install('20.18.1', 'off')];
    const clis = [...coordinated, ...standalone, ...second];
    const waiting = await Promise.all([...clis.map((cli) => cli.waitFor(progressPhase('waiting'))), host.child.waitFor(hostProgress('waiting'))]);
    t.diagnostic(`all ${clis.length + 1} requesters waiting ${Date.now() - started} ms after the start; opening the gates`);
    for (const message of waiting) {
      const progress = message.progress as { waitingFor?: { pid: number } };
      assert.equal(progress.waitingFor?.pid, process.pid, 'each requester is told whom it waits for');
    }
    await Promise.all(gates.map((open) => open()));

    const results = await Promise.all(clis.map(finished));
    const command = await host.child.waitFor((m) => m.event === 'installed' || m.event === 'failed');
    t.diagnostic(`all done ${Date.now() - started} ms after the start`);
    for (const [index, result] of results.entries()) assert.equal(result.code, 0, `CLI ${index} failed:\n${result.stderr}`);
    assert.equal(command.event, 'installed', String(command.message));
    for (const version of ['v22.12.0', 'v20.18.1']) {
      const stats = server.stats(archive(version).path);
      assert.deepEqual([stats.gets, stats.rangeRequests, stats.fullBodies], [1, 0, 1], `${version} fetched once`);
      await assertInstalled(version);
    }

    for (const result of [...results.slice(0, 4), results[6]!]) {
      assert.equal(result.doc!.coordinator, true);
      assert.equal(result.phases.at(-1), 'done', `the coordinator's progress reaches the CLI to the end: ${result.phases.join(', ')}`);
    }
    for (const result of [...results.slice(4, 6), results[7]!]) assert.equal(result.doc!.coordinator, false);
    const commandProgress = host.child.messages.filter((m) => m.event === 'progress').map((m) => m.progress as JobProgress);
    assert.ok(commandProgress.every((p) => p.jobId === 'command-1' && p.requester.kind === 'command' && p.requester.pid === host.child.pid));
    assert.equal(commandProgress.at(-1)!.phase, 'done', `the command's listener sees its job to the end: ${commandProgress.map((p) => p.phase).join(', ')}`);

    // Exactly one requester unpacked each toolchain; every other one is told it found it done.
    const installed22 = [...results.slice(0, 6).map((r) => r.doc!.tools[0]!.installed), (command.tools as Array<{ installed: boolean }>)[0]!.installed];
    assert.equal(installed22.filter(Boolean).length, 1, `one requester installed 22.12.0: ${installed22.join(', ')}`);
    assert.equal(results.slice(6).filter((r) => r.doc!.tools[0]!.installed).length, 1, 'one requester installed 20.18.1');

    await assertServedBy(endpoint, coordinator.child.pid);
    await stop(host.child);
    await stop(coordinator.child);
    await assert.rejects(fs.lstat(endpoint), 'a coordinator stopped with SIGTERM removes its socket');
    await assertCacheClean();
  });

  it('SIGKILL of the serving coordinator mid-download: another host takes over, every requester finishes, nothing corrupt, cache clean', { timeout }, async (t) => {
    const version = 'v22.12.0';
    const { path: archivePath } = archive(version);
    server.fault(archivePath, { kind: 'throttle', bytesPerSecond: MiB / 2, times: 1 });
    const leader = await startCoordinator();
    assert.equal(leader.first.role, 'leader');
    const endpoint = leader.first.endpoint;
    const second = await startCoordinator();
    assert.equal(second.first.role, 'client');
    const host = await startHost();
    assert.equal(host.first.role, 'client');
    const open = await gate('22.12.0');

    const clis = Array.from({ length: 3 }, () => install('22.12.0', endpoint));
    host.child.send(JSON.stringify({ install: { jobId: 'command-1', tools: [{ name: 'node', spec: '22.12.0' }] } }));
    await Promise.all([...clis.map((cli) => cli.waitFor(progressPhase('waiting'))), host.child.waitFor(hostProgress('waiting'))]);
    await open();
    await Promise.all([...clis.map((cli) => cli.waitFor(progressPhase('downloading'))), host.child.waitFor(hostProgress('downloading'))]);
    await server.waitFor(archivePath, (s) => s.bytesSent >= 256 * 1024);
    await assert.rejects(fs.access(layout().blobPath(archive(version).sha256)), 'nothing is published mid-download');

    const killedAt = Date.now();
    await leader.child.kill('SIGKILL');
    const next = await Promise.race([
      second.child.waitFor((m) => isRole(m) && m.role === 'leader').then(() => second.child),
      host.child.waitFor((m) => isRole(m) && m.role === 'leader').then(() => host.child),
    ]);
    const takeoverMs = Date.now() - killedAt;
    t.diagnostic(`pid ${next.pid} (${next === second.child ? 'qm coordinator' : 'helper host'}) took over ${takeoverMs} ms after the SIGKILL`);
    assert.ok(takeoverMs < 5_000, `takeover took ${takeoverMs} ms`);

    const results = await Promise.all(clis.map(finished));
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.doc!.tools[0]!.version, '22.12.0');
      if (!result.doc!.coordinator) assert.match(result.stderr, /went away.*finishing without it/);
    }
    t.diagnostic(`CLIs finished ${Date.now() - killedAt} ms after the kill; through the coordinator: ${results.map((r) => r.doc!.coordinator).join(', ')}`);
    const command = await host.child.waitFor((m) => m.event === 'installed' || m.event === 'failed');
    assert.equal(command.event, 'installed', `the command's job was asked again of the next leader: ${String(command.message)}`);

    await assertServedBy(endpoint, next.pid);
    await assertInstalled(version);
    const doctor = await runQm(['doctor', '--json'], { cwd: path.join(home, 'project'), env: env({ QM_COORDINATOR: 'off' }) });
    const report = JSON.parse(doctor.stdout) as { toolchains: { withoutReceipt: string[] }; temps: { orphaned: string[] } };
    assert.deepEqual(report.toolchains.withoutReceipt, [], 'no tree published without its receipt');
    assert.deepEqual(report.temps.orphaned, []);
    await stop(second.child);
    await stop(host.child);
    await assertCacheClean();
  });

  /** Something at `endpoint` that accepts connections and never answers; closed after the test. */
  async function silentListener(endpoint: string): Promise<net.Server> {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(endpoint, resolve));
    await fs.chmod(endpoint, 0o600);
    cleanups.push(async () => {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    return silent;
  }

  it('a host stopped in the middle of an election finishes it first: no lock or owner record left behind', { timeout }, async () => {
    const leader = await startCoordinator();
    const endpoint = leader.first.endpoint;
    const host = await startHost();
    assert.equal(host.first.role, 'client');
    // Hold the election, so that the host, once its leader is gone, can only elect after the endpoint is set up below.
    const election = await new LockManager(layout().locksDir).tryAcquire(electionLockKey(hostTag(currentHost())), 'test: hold the election');
    assert.ok(election);
    await leader.child.kill('SIGKILL');
    await fs.rm(endpoint);
    const silent = await silentListener(endpoint);
    const probing = once(silent, 'connection');
    await election.release();
    await probing; // the host holds the election lock now, waiting for a hello that never comes
    const { code } = await host.child.kill('SIGTERM');
    assert.equal(code, 0);
    await assertCacheClean();
    assert.deepEqual(host.child.messages.filter(isRole).map((m) => m.role), ['client', 'standalone'], 'the election ran to its end');
  });

  describe('hostile endpoints', () => {
    it('a stale socket file (its process SIGKILLed): CLIs work alone quietly, a new host replaces it and serves', { timeout }, async () => {
      const endpoint = endpointFor(qmHome());
      await prepareEndpointDir(endpoint);
      const holder = track(new Child(['-e', `const [file] = process.argv.slice(1); require('net').createServer().listen(file, () => { require('fs').chmodSync(file, 0o600); console.log('{"listening":true}'); });`, endpoint]));
      await holder.waitFor((m) => m.listening === true);
      await holder.kill('SIGKILL');
      const stale = await pinned(endpoint);
      const probed = await probe(endpoint);
      assert.deepEqual(probed, { state: 'absent', stale: true });

      const alone = await finished(install('22.12.0', endpoint));
      assert.equal(alone.code, 0, alone.stderr);
      assert.equal(alone.doc!.coordinator, false);
      assert.doesNotMatch(alone.stderr, /warning/, 'a dead socket is not worth a warning');

      const coordinator = await startCoordinator();
      assert.equal(coordinator.first.role, 'leader');
      assert.notEqual((await inode(endpoint)).ino, stale.ino, 'the stale file was replaced by a fresh socket');
      assert.equal((await inode(endpoint)).mode, 0o600);
      await assertServedBy(endpoint, coordinator.child.pid);
      const coordinated = await finished(install('20.18.1', endpoint));
      assert.equal(coordinated.code, 0, coordinated.stderr);
      assert.equal(coordinated.doc!.coordinator, true);
      await stop(coordinator.child);
      await assertCacheClean();
    });

    /** A serving coordinator whose socket the test then spoils: neither a CLI nor a host may trust or replace it. */
    async function assertRefusedNotReplaced(spoil: (endpoint: string) => Promise<void>, reason: RegExp): Promise<void> {
      const leader = await startCoordinator();
      assert.equal(leader.first.role, 'leader');
      const endpoint = leader.first.endpoint;
      await spoil(endpoint);
      const before = await pinned(endpoint);

      const probed = await probe(endpoint);
      assert.equal(probed.state, 'refused');
      if (probed.state === 'refused') {
        assert.equal(probed.error.code, 'EENDPOINT');
        assert.match(probed.error.message, reason);
      }
      const other = await startCoordinator();
      assert.equal(other.first.role, 'standalone', 'no takeover: a second host works alone');
      assert.match(other.child.stderr.join('\n'), reason);
      // Found through QM_HOME (no QM_COORDINATOR) and through QM_COORDINATOR alike.
      for (const coordinatorEnv of [{}, { QM_COORDINATOR: endpoint }]) {
        const cli = await finished(qm(['install', 'node@22.12.0', '--json'], coordinatorEnv));
        assert.equal(cli.code, 0, cli.stderr);
        assert.equal(cli.doc!.coordinator, false);
        assert.match(cli.stderr, /qm: warning: .*installing without the coordinator/);
        assert.match(cli.stderr, reason);
      }
      assert.deepEqual(await inode(endpoint), before, 'the socket file was neither replaced nor changed');
      assert.equal(leader.child.process.exitCode, null, 'the first coordinator still runs');
      assert.deepEqual(leader.child.messages.filter(isRole).map((m) => m.role), ['leader'], 'and never changed role');
      await stop(other.child);
      await stop(leader.child);
      await assertCacheClean();
    }

    it('a socket open to other users (0666): refused with EENDPOINT, CLIs warn and work alone, the file is not replaced', { timeout }, async () => {
      await assertRefusedNotReplaced((endpoint) => fs.chmod(endpoint, 0o666), /accessible to other users \(mode 666\)/);
    });

    it('a socket owned by another user: refused, not replaced, no takeover', { skip: rootOnly, timeout }, async () => {
      await assertRefusedNotReplaced((endpoint) => fs.chown(endpoint, NOBODY, NOBODY), new RegExp(`belongs to uid ${NOBODY}`));
    });

    it('a run directory owned by another user (mode 0777): refused, left as it is, no socket planted there', { skip: rootOnly, timeout }, async () => {
      const endpoint = endpointFor(qmHome());
      const runDir = path.dirname(endpoint);
      await fs.mkdir(runDir, { recursive: true });
      await fs.chmod(runDir, 0o777);
      await fs.chown(runDir, NOBODY, NOBODY);
      const coordinator = await startCoordinator();
      assert.equal(coordinator.first.role, 'standalone');
      assert.match(coordinator.child.stderr.join('\n'), new RegExp(`belongs to uid ${NOBODY}`));
      const stat = await fs.lstat(runDir);
      assert.deepEqual([stat.uid, stat.mode & 0o777], [NOBODY, 0o777], 'the directory was not taken over');
      assert.deepEqual(await fs.readdir(runDir), []);
      const cli = await finished(install('22.12.0', endpoint));
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.doc!.coordinator, false);
      await stop(coordinator.child);
      await assertCacheClean();
    });

    it('garbage on the socket closes that connection only; the coordinator keeps serving', { timeout }, async (t) => {
      const coordinator = await startCoordinator();
      const endpoint = coordinator.first.endpoint;
      const garbage: Array<[string, Buffer | string]> = [
        ['random bytes', randomBytes(64 * 1024)],
        ['a header without Content-Length', 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'],
        ['a bad Content-Length', 'Content-Length: lots\r\n\r\n'],
        ['a body that is not JSON', 'Content-Length: 9\r\n\r\n{"jsonrpc'],
        ['a huge Content-Length, then silence', 'Content-Length: 1099511627776\r\n\r\n{'],
      ];
      for (const [what, bytes] of garbage) {
        const socket = net.connect(endpoint);
        socket.on('error', () => undefined);
        await once(socket, 'connect');
        const sentAt = Date.now();
        socket.write(bytes);
        socket.resume();
        await once(socket, 'close');
        t.diagnostic(`${what}: closed by the coordinator after ${Date.now() - sentAt} ms`);
        assert.equal(coordinator.child.process.exitCode, null, `the coordinator survives ${what}`);
      }
      const log = coordinator.child.stderr.join('\n');
      assert.match(log, /did not say hello within/);
      assert.match(log, /sent something unreadable/);
      await assertServedBy(endpoint, coordinator.child.pid);
      const cli = await finished(install('22.12.0', endpoint));
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.doc!.coordinator, true);
      await stop(coordinator.child);
    });

    it('a listener that accepts but never says hello: probes time out, refused, no takeover', { timeout }, async () => {
      const endpoint = endpointFor(qmHome());
      await prepareEndpointDir(endpoint);
      const silent = await silentListener(endpoint);
      const before = await pinned(endpoint);

      const probedAt = Date.now();
      const probed = await probe(endpoint);
      assert.equal(probed.state, 'refused');
      if (probed.state === 'refused') assert.match(probed.error.message, /did not answer within/);
      assert.ok(Date.now() - probedAt >= 1_900, 'the probe waited for its timeout');
      const other = await startCoordinator();
      assert.equal(other.first.role, 'standalone');
      const cli = await finished(install('22.12.0', endpoint));
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.doc!.coordinator, false);
      assert.match(cli.stderr, /did not answer within .*installing without the coordinator/);
      assert.deepEqual(await inode(endpoint), before, 'not replaced');
      assert.ok(silent.listening);
      await stop(other.child);
      await assertCacheClean();
    });

    it('a coordinator that dies in the middle of a message: the CLI finishes alone and exits', { timeout }, async () => {
      const endpoint = endpointFor(qmHome());
      await prepareEndpointDir(endpoint);
      const fake = net.createServer((socket) => {
        socket.on('error', () => undefined);
        const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
        connection.onRequest(HelloRequest, () => ({ protocol: PROTOCOL_VERSION, pid: process.pid, home: qmHome(), version: 'fake' }));
        connection.onRequest(InstallRequest, () => {
          socket.end('Content-Length: 4096\r\n\r\n{"jsonrpc":"2.0","method":"qm/progress"');
          return new Promise<never>(() => undefined);
        });
        connection.listen();
      });
      await new Promise<void>((resolve) => fake.listen(endpoint, resolve));
      await fs.chmod(endpoint, 0o600);
      cleanups.push(() => new Promise<void>((resolve) => fake.close(() => resolve())));

      const cli = await finished(install('22.12.0', endpoint));
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.doc!.coordinator, false);
      assert.match(cli.stderr, /went away.*finishing without it/);
      await assertInstalled('v22.12.0');
      await assertCacheClean();
    });
  });

  it('Ctrl-C of a coordinated qm install cancels its own job only: the coordinator keeps serving, the other install succeeds', { timeout }, async () => {
    const { path: archivePath } = archive('v22.12.0');
    server.fault(archivePath, { kind: 'throttle', bytesPerSecond: MiB });
    const coordinator = await startCoordinator();
    const endpoint = coordinator.first.endpoint;
    const open = await gate('22.12.0');
    const victim = install('22.12.0', endpoint);
    const other = install('22.12.0', endpoint);
    await Promise.all([victim, other].map((cli) => cli.waitFor(progressPhase('waiting'))));
    await open();
    await Promise.all([victim, other].map((cli) => cli.waitFor(progressPhase('downloading'))));
    await server.waitFor(archivePath, (s) => s.bytesSent >= 256 * 1024);
    victim.process.kill('SIGINT');

    const cancelled = await finished(victim);
    assert.notEqual(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stderr, /qm: error ECANCELLED/);
    const survivor = await finished(other);
    assert.equal(survivor.code, 0, survivor.stderr);
    assert.equal(survivor.doc!.coordinator, true);
    assert.equal(survivor.doc!.tools[0]!.installed, true);
    const stats = server.stats(archivePath);
    assert.deepEqual([stats.gets, stats.rangeRequests, stats.fullBodies], [1, 0, 1], 'the shared transfer went on without a restart');
    await assertInstalled('v22.12.0');
    await assertServedBy(endpoint, coordinator.child.pid);
    await stop(coordinator.child);
    await assertCacheClean();
  });
});
