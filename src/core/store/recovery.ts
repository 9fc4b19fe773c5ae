import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { HomeLayout } from '../home';
import type { LockManager } from './locks';
import type { ProcessIdentity } from './process-identity';
import { isOrphanTemp, removeTemp } from './temp-files';

export interface RecoveryReport {
  /** Paths relative to QM_HOME. */
  tempsRemoved: string[];
  locksRemoved: number;
}

/**
 * The directories where owner-tagged names appear: temps and staging trees (tmp/), lock staging
 * directories (locks/), atomic writes' temps and readers' leases (state/), index cache temps
 * (indexes/). Each with how deep to look.
 */
function sweptDirs(layout: HomeLayout): Array<{ dir: string; recursive: boolean }> {
  return [
    { dir: layout.tmpDir, recursive: false },
    { dir: layout.locksDir, recursive: false },
    { dir: layout.stateDir, recursive: true },
    { dir: layout.indexesDir, recursive: true },
  ];
}

/**
 * Cleans what dead processes left behind: their temp files, staging trees, leases and locks.
 * A name is removed only when it says it belongs to a process of our kernel boot and PID
 * namespace that no longer runs, so a live process here, in another container or on another
 * host sharing the directory, is never touched.
 */
export async function recoverHome(layout: HomeLayout, locks: LockManager, observer: ProcessIdentity = locks.identity): Promise<RecoveryReport> {
  const tempsRemoved: string[] = [];
  for (const { dir, recursive } of sweptDirs(layout)) {
    for (const file of await orphansIn(dir, recursive, observer)) {
      await removeTemp(file);
      tempsRemoved.push(path.relative(layout.root, file));
    }
  }
  const locksRemoved = await locks.removeDead();
  return { tempsRemoved, locksRemoved };
}

/** Orphaned temps under `dir` (absolute paths); a missing directory has none. */
export async function orphansIn(dir: string, recursive: boolean, observer?: ProcessIdentity): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, recursive });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const file = path.join(entry.parentPath, entry.name);
    // Inside a temp directory everything goes with it.
    if (found.some((parent) => file.startsWith(parent + path.sep))) continue;
    if (isOrphanTemp(entry.name, observer)) found.push(file);
  }
  return found;
}
