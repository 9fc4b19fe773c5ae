import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { QmError } from '../errors';

/** sun_path is 108 bytes on Linux and 104 on macOS, terminator included: stay well under. */
const MAX_SOCKET_PATH = 100;

/**
 * Which host a coordinator serves: its hostname and the kernel's boot id. Processes that agree
 * on both run on one kernel and can reach one Unix socket; any other process sharing QM_HOME
 * (another machine on NFS or GlusterFS, a container of another kernel that happens to share the
 * hostname) has its own coordinator and meets this one only through the store.
 */
export interface HostIdentity {
  hostname: string;
  /** /proc/sys/kernel/random/boot_id; undefined where there is none (macOS, Windows). */
  bootId?: string;
}

let thisHost: HostIdentity | undefined;

/** This machine; read once. (The store's process identity carries the same two facts for its locks.) */
export function currentHost(): HostIdentity {
  if (thisHost) return thisHost;
  let bootId: string | undefined;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    bootId = undefined;
  }
  thisHost = { hostname: os.hostname(), ...(bootId ? { bootId } : {}) };
  return thisHost;
}

/** `<hostname, readable and short>-<hash of hostname and boot id>`: unique per host, and still says whose. */
export function hostTag(host: HostIdentity): string {
  const readable = host.hostname.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 20) || 'host';
  const hash = createHash('sha256').update(`${host.hostname}\0${host.bootId ?? ''}`).digest('hex').slice(0, 10);
  return `${readable}-${hash}`;
}

function homeHash(home: string): string {
  return createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16);
}

/**
 * Where this host's coordinator for a QM_HOME listens: `QM_HOME/run/coordinator-<host tag>.sock`,
 * or when that is too long for a Unix socket, a name hashed from QM_HOME and the tag in a private
 * directory under the temp dir; on Windows a named pipe (local to the machine anyway). Every
 * process of one host sharing QM_HOME computes the same endpoint and finds one coordinator;
 * hosts sharing QM_HOME over a network filesystem never touch each other's socket.
 */
export function endpointFor(home: string, platform: NodeJS.Platform = process.platform, host: HostIdentity = currentHost()): string {
  if (platform === 'win32') return `\\\\.\\pipe\\quartermaster-${homeHash(home)}`;
  const tag = hostTag(host);
  const preferred = path.join(path.resolve(home), 'run', `coordinator-${tag}.sock`);
  if (Buffer.byteLength(preferred) <= MAX_SOCKET_PATH) return preferred;
  const uid = process.getuid?.() ?? 0;
  return path.join(os.tmpdir(), `qm-${uid}`, `${homeHash(home)}-${tag}.sock`);
}

export function isPipe(endpoint: string): boolean {
  return endpoint.startsWith('\\\\.\\pipe\\');
}

/**
 * Creates the endpoint's directory 0700 and refuses one that is not ours alone: another user
 * who can write there could plant a socket and answer in our coordinator's name.
 */
export async function prepareEndpointDir(endpoint: string): Promise<void> {
  if (isPipe(endpoint)) return;
  const dir = path.dirname(endpoint);
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    // EEXIST here means a non-directory is in the way: refuse it like any other unusable endpoint.
    throw new QmError('EENDPOINT', `Cannot create ${dir} for the coordinator's socket: ${(error as Error).message}`, { path: dir, cause: error });
  }
  const stat = await fs.lstat(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new QmError('EENDPOINT', `${dir} should be a directory for the coordinator's socket, but is not`, { path: dir });
  if (uid !== undefined && stat.uid !== uid) {
    throw new QmError('EENDPOINT', `${dir} belongs to uid ${stat.uid}, not to you (uid ${uid}): refusing to use a coordinator socket there`, { path: dir });
  }
  if ((stat.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}

/**
 * Checks an existing socket file before connecting to it or replacing it. Undefined when there
 * is none; a file that is not a socket, not ours, or open to others is refused (EENDPOINT).
 */
export async function checkSocketFile(endpoint: string): Promise<'present' | undefined> {
  if (isPipe(endpoint)) return 'present';
  let stat;
  try {
    stat = await fs.lstat(endpoint);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new QmError('EENDPOINT', `Cannot inspect ${endpoint}: ${(error as Error).message}`, { path: endpoint, cause: error });
  }
  const uid = process.getuid?.();
  // The directory matters as much as the file: whoever can write there can swap the socket.
  const dir = await fs.lstat(path.dirname(endpoint));
  if (uid !== undefined && (dir.uid !== uid || (dir.mode & 0o022) !== 0)) {
    throw new QmError('EENDPOINT', `${path.dirname(endpoint)} is not private to you (owner uid ${dir.uid}, mode ${(dir.mode & 0o777).toString(8)}): refusing to talk to a socket there`, { path: endpoint });
  }
  if (!stat.isSocket()) throw new QmError('EENDPOINT', `${endpoint} is not a socket; remove it if it is not needed`, { path: endpoint });
  if (uid !== undefined && stat.uid !== uid) {
    throw new QmError('EENDPOINT', `${endpoint} belongs to uid ${stat.uid}, not to you (uid ${uid}): refusing to talk to it`, { path: endpoint });
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new QmError('EENDPOINT', `${endpoint} is accessible to other users (mode ${(stat.mode & 0o777).toString(8)}): refusing to talk to it`, { path: endpoint });
  }
  return 'present';
}
