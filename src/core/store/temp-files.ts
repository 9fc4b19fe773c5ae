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

/** Tags as qm wrote them until December 2026 (SHA-256); node:crypto loads only to judge such a name. */
function legacyHash8(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only for names an earlier version wrote
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

export function hostTag(host: string, hash: (text: string) => string = hash8): string {
  return hash(host);
}

function spaceTag(identity: ProcessIdentity, hash: (text: string) => string = hash8): string {
  return identity.bootId !== undefined && identity.pidNs !== undefined ? hash(`${identity.bootId}/${identity.pidNs}`) : NO_SPACE;
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
  // Tags are compared as this version makes them, then as earlier versions did (SHA-256): a
  // process of an older qm on this host (the extension's, say) is judged by its PID too.
  if (!comparable(owner, observer, hash8) && !comparable(owner, observer, legacyHash8)) return 'unknown';
  return pidLiveness(owner.pid, owner.startTime, observer);
}

/** Whether a name's PID is one of our boot and PID namespace, by tags made with `hash`. */
function comparable(owner: TempOwner, observer: ProcessIdentity, hash: (text: string) => string): boolean {
  const sameHost = owner.hostTag === hostTag(observer.host, hash);
  if (owner.spaceTag === undefined) return sameHost;
  if (owner.spaceTag === NO_SPACE) return spaceTag(observer, hash) === NO_SPACE && sameHost;
  return owner.spaceTag === spaceTag(observer, hash);
}

/** Whether a temp file belongs to a process that is known to be gone. */
export function isOrphanTemp(name: string, observer?: ProcessIdentity): boolean {
  return tempLiveness(name, observer) === 'dead';
}

/** Removes a temp file or directory; a missing one is fine. */
export async function removeTemp(target: string): Promise<void> {
  await fs.rm(target, { recursive: true, force: true });
}
