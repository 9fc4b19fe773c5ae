import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Who holds a lock or a lease, or owns a temp file. `bootId` and `pidNs` say which kernel and
 * which PID namespace `pid` is a number in: two containers can share a hostname (and a QM_HOME)
 * while their PIDs mean different processes, and a host after a reboot reuses every PID.
 */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: differs on every boot and every machine. */
  bootId?: string;
  /** The inode of /proc/self/ns/pid: differs between PID namespaces (containers) of one kernel. */
  pidNs?: string;
  /** Kernel start time of the process (Linux /proc clock ticks since boot), to see through PID reuse. */
  startTime?: number;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

/** Fields of /proc/PID/stat: 3 (state) and 22 (start time); undefined where there is no procfs. */
function procStat(pid: number): { state: string; startTime: number | undefined } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = Number(fields[19]);
    return { state: fields[0] ?? '', startTime: Number.isFinite(startTime) ? startTime : undefined };
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat; undefined where there is no procfs. */
export function processStartTime(pid: number): number | undefined {
  return procStat(pid)?.startTime;
}

function readBootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function readPidNamespace(): string | undefined {
  try {
    // "pid:[4026531836]": the namespace's inode.
    return /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1];
  } catch {
    return undefined;
  }
}

let self: ProcessIdentity | undefined;

/** This process. Read once: none of it changes while the process runs. */
export function currentProcess(): ProcessIdentity {
  if (self === undefined) {
    const bootId = readBootId();
    const pidNs = readPidNamespace();
    const startTime = processStartTime(process.pid);
    self = {
      pid: process.pid,
      host: os.hostname(),
      ...(bootId !== undefined ? { bootId } : {}),
      ...(pidNs !== undefined ? { pidNs } : {}),
      ...(startTime !== undefined ? { startTime } : {}),
    };
  }
  return self;
}

/**
 * Whether `owner`'s PIDs can be checked from here: the same kernel boot and PID namespace
 * (the hostname does not matter: UTS namespaces share PIDs). Where the kernel cannot say
 * (no procfs), the same hostname on both sides is the best there is.
 */
export function sameProcessSpace(owner: ProcessIdentity, observer: ProcessIdentity = currentProcess()): boolean {
  if (observer.bootId !== undefined && observer.pidNs !== undefined) {
    return owner.bootId === observer.bootId && owner.pidNs === observer.pidNs;
  }
  return owner.bootId === undefined && owner.pidNs === undefined && owner.host === observer.host;
}

/**
 * Whether a process still runs, as seen by `observer`. 'unknown' when its PID means nothing
 * here (another host, another boot, another container): such a holder is judged by its
 * heartbeat alone. A PID that now belongs to a process started at another time counts as dead.
 */
export function liveness(owner: ProcessIdentity, observer: ProcessIdentity = currentProcess()): Liveness {
  if (!sameProcessSpace(owner, observer)) return 'unknown';
  return pidLiveness(owner.pid, owner.startTime, observer);
}

/** The PID check alone, for a PID known to be in the observer's PID namespace. */
export function pidLiveness(pid: number, startTime: number | undefined, observer: ProcessIdentity = currentProcess()): Liveness {
  if (pid === observer.pid) return startTime === undefined || startTime === observer.startTime ? 'alive' : 'dead';
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the PID exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
  const stat = procStat(pid);
  // A zombie runs nothing any more: it only waits for its parent to collect its exit status.
  if (stat?.state === 'Z' || stat?.state === 'X') return 'dead';
  if (startTime !== undefined && stat?.startTime !== undefined && stat.startTime !== startTime) return 'dead';
  return 'alive';
}
