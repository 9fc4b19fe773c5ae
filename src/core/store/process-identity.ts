import * as fs from 'node:fs';
import * as os from 'node:os';

/** Who holds a lock or owns a temp file: enough to tell, on the same host, whether it still runs. */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux /proc clock ticks), to see through PID reuse. */
  startTime?: number;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

/** Reads field 22 of /proc/PID/stat; undefined where there is no procfs. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  self ??= { pid: process.pid, host: os.hostname(), startTime: processStartTime(process.pid) };
  return self;
}

/**
 * Whether a process still runs. Only answerable on this host; a PID that now belongs to a
 * different process (other start time) counts as dead.
 */
export function liveness(owner: ProcessIdentity): Liveness {
  if (owner.host !== currentProcess().host) return 'unknown';
  if (owner.pid === process.pid) return 'alive';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the PID exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
  if (owner.startTime !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.startTime) return 'dead';
  }
  return 'alive';
}
