import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError } from '../errors';
import { currentProcess, liveness, type ProcessIdentity } from './process-identity';

/**
 * Temp names carry their owner (host tag, pid, start time) so that startup recovery can remove
 * the leftovers of dead processes and never touch a live process's file. The random part makes
 * every name unique: two writers can never share one temp file (the rustup `.partial` case).
 */
const TEMP_NAME = /(?:^|\.)([0-9a-f]{8})\.(\d+)\.(\d+)\.([0-9a-f]{16})\.(part|dir|tmp)$/;

/** `part`: a download; `dir`: a staging or moved-aside tree; `tmp`: a file written atomically beside its target. */
export type TempKind = 'part' | 'dir' | 'tmp';

export function hostTag(host: string): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 8);
}

export function uniqueTempName(kind: TempKind): string {
  const me = currentProcess();
  return `${hostTag(me.host)}.${me.pid}.${me.startTime ?? 0}.${randomBytes(8).toString('hex')}.${kind}`;
}

export async function createTempPath(dir: string, kind: 'part' | 'dir' = 'part'): Promise<string> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsError(error, 'create directory', dir);
  }
  return path.join(dir, uniqueTempName(kind));
}

/**
 * The owner encoded in a temp name (its tail, so `.qm.lock.<owner>.tmp` counts too), or undefined
 * for names Quartermaster did not make.
 */
export function tempOwner(name: string): (Omit<ProcessIdentity, 'host'> & { hostTag: string }) | undefined {
  const match = TEMP_NAME.exec(name);
  if (!match) return undefined;
  const startTime = Number(match[3]);
  return { hostTag: match[1]!, pid: Number(match[2]), ...(startTime ? { startTime } : {}) };
}

/** Whether a temp file belongs to a process that is known to be gone. */
export function isOrphanTemp(name: string): boolean {
  const owner = tempOwner(name);
  if (!owner) return false;
  const me = currentProcess();
  if (owner.hostTag !== hostTag(me.host)) return false;
  return liveness({ pid: owner.pid, host: me.host, ...(owner.startTime ? { startTime: owner.startTime } : {}) }) === 'dead';
}

/** Removes a temp file or directory; a missing one is fine. */
export async function removeTemp(target: string): Promise<void> {
  await fs.rm(target, { recursive: true, force: true });
}
