import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { Child, QM_CLI, type ChildOptions } from '../../helpers/child';

/**
 * How separate a simulated host is. `uts`: its own hostname only, so it still shares the boot id
 * and the PID namespace with the others, and a holder's liveness can be checked by pid across
 * hosts. `uts+pid`: its own PID namespace too (`unshare --uts --pid --fork --mount-proc`), so
 * nothing but the lock's heartbeat tells whether a holder on another host lives: a real host.
 */
export type Isolation = 'uts' | 'uts+pid';

export interface HostSpec {
  /** The hostname inside the host. */
  name: string;
  isolation: Isolation;
  /** A libfaketime offset for every process on the host, e.g. '-15s' or '+15s'. */
  clock?: string;
}

const UNSHARE_FLAGS: Record<Isolation, string[]> = {
  uts: ['--uts'],
  // --kill-child: when the unshare process dies, the whole host goes with it (its init is killed).
  'uts+pid': ['--uts', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL'],
};

/**
 * In a `uts` host the shell execs the program, so the child's pid is the program's. In a
 * `uts+pid` host the shell stays as the namespace's init (pid 1) and waits, as a host's init would,
 * so the program runs with an ordinary pid and its exit status passes through.
 */
const HOST_SCRIPT: Record<Isolation, string> = {
  uts: 'hostname "$0" || exit 97; exec "$@"',
  'uts+pid': 'hostname "$0" || exit 97; "$@"',
};

/** Why hosts cannot be simulated here, or undefined when they can. */
export function hostsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'hosts are Linux namespaces';
  if (process.getuid?.() !== 0) return 'unshare --uts needs root (CAP_SYS_ADMIN)';
  for (const isolation of ['uts', 'uts+pid'] as const) {
    const probe = spawnSync('unshare', [...UNSHARE_FLAGS[isolation], '--', 'sh', '-c', HOST_SCRIPT[isolation], 'qm-probe', 'true'], { encoding: 'utf8' });
    if (probe.error) return `unshare is not available: ${probe.error.message}`;
    if (probe.status !== 0) return `unshare ${UNSHARE_FLAGS[isolation].join(' ')} failed here: ${probe.stderr.trim()}`;
  }
  return undefined;
}

const FAKETIME_DIRS = ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime', '/usr/local/lib/faketime'];

/** libfaketime's preload library (Debian: apt-get install -y faketime), if installed. */
export function faketimeLibrary(): string | undefined {
  return FAKETIME_DIRS.map((dir) => `${dir}/libfaketime.so.1`).find((file) => existsSync(file));
}

function hostEnv(host: HostSpec): NodeJS.ProcessEnv {
  if (host.clock === undefined) return {};
  const library = faketimeLibrary();
  if (!library) throw new Error('libfaketime is not installed (apt-get install -y faketime)');
  // DONT_FAKE_MONOTONIC: only the wall clock is wrong on such a host; timers run true.
  return { LD_PRELOAD: library, FAKETIME: host.clock, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/** Node with `argv` on a simulated host. */
export function spawnOnHost(host: HostSpec, argv: string[], options: ChildOptions = {}): Child {
  return new Child(argv, {
    ...options,
    wrapper: ['unshare', ...UNSHARE_FLAGS[host.isolation], '--', 'sh', '-c', HOST_SCRIPT[host.isolation], host.name],
    env: { ...options.env, ...hostEnv(host) },
  });
}

/** The built `qm` on a simulated host. */
export function qmOnHost(host: HostSpec, args: string[], options: ChildOptions = {}): Child {
  return spawnOnHost(host, [QM_CLI, ...args], options);
}

/** Runs `qm` on a host to its end. */
export async function runQmOnHost(host: HostSpec, args: string[], options: ChildOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = qmOnHost(host, args, options);
  const { code } = await child.exited;
  return { code, stdout: child.stdout.join('\n'), stderr: child.stderr.join('\n') };
}

/**
 * What a host's clock says, against ours: its Date.now() and the mtime it gives a file with
 * utimes (how a lock holder stamps its lock), each minus our own clock, in milliseconds.
 */
export async function clockSkewOf(host: HostSpec, file: string): Promise<{ dateNow: number; utimes: number }> {
  const script = `const fs=require('fs');fs.writeFileSync(process.argv[1],'');const now=new Date();fs.utimesSync(process.argv[1],now,now);console.log(JSON.stringify({now:now.getTime(),host:require('os').hostname()}));`;
  const child = spawnOnHost(host, ['-e', script, file]);
  const before = Date.now();
  const { code } = await child.exited;
  const after = Date.now();
  if (code !== 0) throw new Error(`clock probe on ${host.name} failed: ${child.stderr.join('\n')}`);
  const { now, host: seen } = JSON.parse(child.stdout[0]!) as { now: number; host: string };
  if (seen !== host.name) throw new Error(`clock probe ran on host "${seen}", not "${host.name}"`);
  const ours = (before + after) / 2;
  return { dateNow: now - ours, utimes: statSync(file).mtimeMs - ours };
}
