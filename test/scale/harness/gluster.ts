import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every gluster step is bounded: a wedged daemon fails the suite instead of hanging CI. */
const STEP_TIMEOUT_MS = 60_000;
/**
 * The server's address inside its own network namespace. GlusterFS refuses loopback bricks, so
 * it gets a second address on the namespace's `lo`: traffic never leaves the namespace.
 */
const SERVER_ADDRESS = '10.213.0.1';

/** Why a GlusterFS volume cannot be run here, or undefined when it can. */
export function glusterUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'GlusterFS needs Linux';
  if (process.getuid?.() !== 0) return 'glusterd, network namespaces and FUSE mounts need root';
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing (no FUSE in this kernel or container)';
  for (const [binary, pkg] of [['glusterd', 'glusterfs-server'], ['gluster', 'glusterfs-server'], ['mount.glusterfs', 'glusterfs-client'], ['ip', 'iproute2'], ['nsenter', 'util-linux']]) {
    if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0) return `${binary} is not installed (apt-get install -y ${pkg})`;
  }
  return undefined;
}

/**
 * A one-brick GlusterFS volume served by a glusterd of our own, in a network namespace we create
 * (`ip netns`), with its state, brick, logs and sockets in a temp dir. Each `mount()` is a
 * separate FUSE client of the volume, as a separate host would have: they share the files but
 * nothing else (page cache, inodes, Unix sockets, inotify).
 */
export class GlusterVolume {
  private readonly mounts: string[] = [];

  private constructor(
    readonly dir: string,
    private readonly netns: string,
    private readonly glusterd: ChildProcess,
    private readonly glusterdExited: Promise<void>,
  ) {}

  static async start(): Promise<GlusterVolume> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-gluster-'));
    const netns = `qm-gluster-${process.pid}`;
    for (const sub of ['state', 'brick', 'logs', 'run']) await fs.mkdir(path.join(dir, sub));
    await run('ip', ['netns', 'add', netns], { timeout: STEP_TIMEOUT_MS });
    let glusterd: ChildProcess | undefined;
    try {
      await run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up'], { timeout: STEP_TIMEOUT_MS });
      await run('ip', ['netns', 'exec', netns, 'ip', 'addr', 'add', `${SERVER_ADDRESS}/32`, 'dev', 'lo'], { timeout: STEP_TIMEOUT_MS });
      const volfile = path.join(dir, 'glusterd.vol');
      await fs.writeFile(volfile, glusterdVolfile(dir));
      glusterd = spawn('nsenter', [`--net=/run/netns/${netns}`, 'glusterd', '--no-daemon', '-f', volfile, '-p', path.join(dir, 'run', 'glusterd.pid'), '-l', path.join(dir, 'logs', 'glusterd.log')], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => glusterd!.once('close', () => resolve()));
      const volume = new GlusterVolume(dir, netns, glusterd, exited);
      await volume.cliWhenReady(['volume', 'create', 'qm', `${SERVER_ADDRESS}:${path.join(dir, 'brick')}`, 'force']);
      await volume.cli(['volume', 'start', 'qm']);
      return volume;
    } catch (error) {
      glusterd?.kill('SIGTERM');
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
      throw new Error(`GlusterFS did not start: ${String(error)}${await fs.readFile(path.join(dir, 'logs', 'glusterd.log'), 'utf8').then((log) => `\n${log.slice(-2000)}`, () => '')}`);
    }
  }

  /** A new FUSE mount of the volume; its client talks to the server inside the namespace. */
  async mount(name: string): Promise<string> {
    const target = path.join(this.dir, `mnt-${name}`);
    await fs.mkdir(target);
    await run('nsenter', [`--net=/run/netns/${this.netns}`, 'mount', '-t', 'glusterfs', '-o', `log-file=${path.join(this.dir, 'logs', `mnt-${name}.log`)}`, `${SERVER_ADDRESS}:/qm`, target], { timeout: STEP_TIMEOUT_MS });
    this.mounts.push(target);
    return target;
  }

  /** Unmounts, stops the volume and glusterd (which stops the brick), removes the namespace and the temp dir. */
  async stop(): Promise<void> {
    for (const target of this.mounts.splice(0)) await run('umount', ['-l', target], { timeout: STEP_TIMEOUT_MS }).catch(() => undefined);
    await this.cli(['volume', 'stop', 'qm', 'force']).catch(() => undefined);
    if (this.glusterd.exitCode === null && this.glusterd.signalCode === null) this.glusterd.kill('SIGTERM');
    await this.glusterdExited;
    // Whatever still runs in the namespace is ours (the brick, if the stop failed).
    const { stdout } = await run('ip', ['netns', 'pids', this.netns]).catch(() => ({ stdout: '' }));
    for (const pid of stdout.split('\n').map(Number).filter((n) => n > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await run('ip', ['netns', 'del', this.netns]).catch(() => undefined);
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  private async cli(args: string[]): Promise<string> {
    const { stdout } = await run('nsenter', [`--net=/run/netns/${this.netns}`, 'gluster', `--glusterd-sock=${path.join(this.dir, 'run', 'cli.socket')}`, '--mode=script', ...args], { timeout: STEP_TIMEOUT_MS });
    return stdout;
  }

  /** glusterd answers its CLI socket a moment after it starts: the first command waits for that. */
  private async cliWhenReady(args: string[]): Promise<string> {
    const socket = path.join(this.dir, 'run', 'cli.socket');
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      if (this.glusterd.exitCode !== null) throw new Error(`glusterd exited with ${this.glusterd.exitCode}`);
      if (existsSync(socket)) {
        try {
          return await this.cli(args);
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
      } else if (Date.now() > deadline) throw new Error(`glusterd did not open ${socket}`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function glusterdVolfile(dir: string): string {
  return `volume management
    type mgmt/glusterd
    option working-directory ${path.join(dir, 'state')}
    option glusterd-sockfile ${path.join(dir, 'run', 'cli.socket')}
    option transport-type socket
    option transport.address-family inet
    option transport.socket.listen-port 24007
    option transport.socket.read-fail-log off
    option ping-timeout 0
    option event-threads 1
end-volume
`;
}
