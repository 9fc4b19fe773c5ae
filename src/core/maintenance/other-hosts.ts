import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError } from '../errors';
import type { HomeLayout } from '../home';
import type { LockManager } from '../store/locks';
import { currentProcess } from '../store/process-identity';
import { hostTag, removeTemp, tempLiveness, tempOwner } from '../store/temp-files';

/**
 * Another host's temp file untouched for this long is a dead host's: no download, extraction
 * or atomic write leaves its temp alone for a day while its process lives.
 */
export const OTHER_HOST_TEMP_MAX_AGE_MS = 24 * 3600_000;

/**
 * A temp file or staging directory whose process this host cannot check: another host's, another
 * container's, or this host's from before a reboot.
 */
export interface OtherHostTemp {
  name: string;
  path: string;
  /** The host's name when one of its locks gives it, else `host tag <hex>`. */
  host: string;
  hostTag: string;
  /** Since its last change, on this host's clock. */
  ageMs: number;
}

/** Where Quartermaster's owner-tagged temps live: downloads and staging, and writes beside their targets. */
function tempDirs(layout: HomeLayout): string[] {
  return [layout.tmpDir, layout.locksDir, layout.indexesDir, layout.stateDir];
}

/**
 * The temps in QM_HOME whose process cannot be checked from here (their PID means nothing in this
 * boot and PID namespace). Startup recovery never touches them; this lists them so that
 * `qm doctor` can show them and `--fix` can apply the age rule or an operator's word.
 */
export async function findOtherHostTemps(layout: HomeLayout, locks: Pick<LockManager, 'list'>, now = Date.now()): Promise<OtherHostTemp[]> {
  const names = await hostNames(locks);
  const found: OtherHostTemp[] = [];
  for (const dir of tempDirs(layout)) {
    let entries: string[];
    try {
      entries = await fs.readdir(dir, { recursive: dir !== layout.tmpDir });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const name = path.basename(entry);
      const owner = tempOwner(name);
      if (!owner || tempLiveness(name) !== 'unknown') continue;
      const full = path.join(dir, entry);
      const stat = await fs.lstat(full).catch(() => undefined);
      if (!stat) continue;
      found.push({ name, path: full, host: names.get(owner.hostTag) ?? `host tag ${owner.hostTag}`, hostTag: owner.hostTag, ageMs: now - stat.mtimeMs });
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

export interface RemoveOtherHostTempsOptions {
  /**
   * An operator's word that this host runs no Quartermaster any more (gone, or reinstalled):
   * all its temps go whatever their age. If it does still run one, those of its installs in
   * progress fail and can be retried; nothing published is ever touched.
   */
  host?: string;
  maxAgeMs?: number;
  now?: number;
}

/**
 * Removes other hosts' temps older than a day, and every temp of `host` if named. Returns the
 * paths removed. Naming this host is refused: its own dead processes' temps are told apart from
 * live ones by startup recovery, which a blanket removal would undercut.
 */
export async function removeOtherHostTemps(layout: HomeLayout, locks: Pick<LockManager, 'list'>, options: RemoveOtherHostTempsOptions = {}): Promise<string[]> {
  const { host, maxAgeMs = OTHER_HOST_TEMP_MAX_AGE_MS, now = Date.now() } = options;
  const named = host === undefined ? undefined : hostTag(checkOtherHost(host));
  const removed: string[] = [];
  for (const temp of await findOtherHostTemps(layout, locks, now)) {
    if (temp.hostTag !== named && temp.ageMs <= maxAgeMs) continue;
    await removeTemp(temp.path);
    removed.push(temp.path);
  }
  return removed;
}

/** `--host` takes another host's name: never empty, never this host's. */
export function checkOtherHost(host: string): string {
  const name = host.trim();
  if (name === '') throw new QmError('EUSAGE', '--host wants the name of another host sharing this QM_HOME');
  if (name === currentProcess().host) {
    throw new QmError('EUSAGE', `--host ${name} is this host: "qm doctor --fix" already removes what this host's dead processes left, and never a live one's`);
  }
  return name;
}

/** Host names by tag, from the holders of the locks in QM_HOME (a dead host's stay until taken over). */
async function hostNames(locks: Pick<LockManager, 'list'>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const { owner } of await locks.list().catch(() => [])) {
    if (owner?.host) names.set(hostTag(owner.host), owner.host);
  }
  return names;
}
