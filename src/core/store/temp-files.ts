import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError } from '../errors';
import { shortNameHash, uniqueSuffix } from '../paths/name-hash';
import { currentProcess, pidLiveness, type Liveness, type ProcessIdentity } from './process-identity';

/**
 * Temp names carry their owner so that recovery can remove the leftovers of dead processes and
 * never touch a live process's file:
 *
 *   <host tag>-<space tag>.<pid>.<start time>.<random>.<kind>
 *
 * The host tag hashes the hostname; the space tag hashes the boot id and PID namespace, so a
 * name's PID is only ever checked by a process of the same kernel boot and PID namespace (see
 * `sameProcessSpace`). The random part makes every name unique: two writers can never share one
 * temp file (the rustup `.partial` case). Names from earlier versions lack the space tag.
 */
const TEMP_NAME = /(?:^|\.)([0-9a-f]{8})(?:-([0-9a-f]{8}))?\.(\d+)\.(\d+)\.([0-9a-f]{16})\.(part|dir|tmp|lease)$/;

/** `part`: a download; `dir`: a staging or moved-aside tree; `tmp`: a file written atomically beside its target; `lease`: a reader's lease. */
export type TempKind = 'part' | 'dir' | 'tmp' | 'lease';

/** The space tag of an identity whose kernel cannot tell its boot and PID namespace. */
const NO_SPACE = '00000000';

function hash8(text: string): string {
  return shortNameHash(text);
}

export function hostTag(host: string): string {
  return hash8(host);
}

function spaceTag(identity: ProcessIdentity): string {
  return identity.bootId !== undefined && identity.pidNs !== undefined ? hash8(`${identity.bootId}/${identity.pidNs}`) : NO_SPACE;
}

export function uniqueTempName(kind: TempKind, owner: ProcessIdentity = currentProcess()): string {
  return `${hostTag(owner.host)}-${spaceTag(owner)}.${owner.pid}.${owner.startTime ?? 0}.${uniqueSuffix()}.${kind}`;
}

export async function createTempPath(dir: string, kind: TempKind = 'part', owner?: ProcessIdentity): Promise<string> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsError(error, 'create directory', dir);
  }
  return path.join(dir, uniqueTempName(kind, owner));
}

export interface TempOwner {
  hostTag: string;
  /** Absent in names written by versions before the space tag. */
  spaceTag?: string;
  pid: number;
  startTime?: number;
  kind: TempKind;
}

/**
 * The owner encoded in a temp name (its tail, so `.qm.lock.<owner>.tmp` counts too), or undefined
 * for names Quartermaster did not make.
 */
export function tempOwner(name: string): TempOwner | undefined {
  const match = TEMP_NAME.exec(name);
  if (!match) return undefined;
  const startTime = Number(match[4]);
  return {
    hostTag: match[1]!,
    ...(match[2] !== undefined ? { spaceTag: match[2] } : {}),
    pid: Number(match[3]),
    ...(startTime ? { startTime } : {}),
    kind: match[6] as TempKind,
  };
}

/**
 * Whether the process that owns a temp name still runs, by the same rule as `liveness`: its PID
 * is checked only when it is a PID of our boot and PID namespace, else 'unknown'. Names from
 * earlier versions (no space tag) are judged by hostname as those versions did.
 */
export function tempLiveness(name: string, observer: ProcessIdentity = currentProcess()): Liveness | undefined {
  const owner = tempOwner(name);
  if (!owner) return undefined;
  const mine = spaceTag(observer);
  const sameHost = owner.hostTag === hostTag(observer.host);
  let comparable: boolean;
  if (owner.spaceTag === undefined) comparable = sameHost;
  else if (owner.spaceTag === NO_SPACE) comparable = mine === NO_SPACE && sameHost;
  else comparable = owner.spaceTag === mine;
  if (!comparable) return 'unknown';
  return pidLiveness(owner.pid, owner.startTime, observer);
}

/** Whether a temp file belongs to a process that is known to be gone. */
export function isOrphanTemp(name: string, observer?: ProcessIdentity): boolean {
  return tempLiveness(name, observer) === 'dead';
}

/** Removes a temp file or directory; a missing one is fine. */
export async function removeTemp(target: string): Promise<void> {
  await fs.rm(target, { recursive: true, force: true });
}
