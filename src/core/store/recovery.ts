import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { HomeLayout } from '../home';
import type { LockManager } from './locks';
import { isOrphanTemp, removeTemp } from './temp-files';

export interface RecoveryReport {
  tempsRemoved: string[];
  locksRemoved: number;
}

/**
 * Cleans what dead processes left behind: their temp files and their locks. A temp file is
 * removed only when its name says it belongs to a process of this host that no longer runs, so
 * a live download in another process (or another host sharing the directory) is never touched.
 */
export async function recoverHome(layout: HomeLayout, locks: LockManager): Promise<RecoveryReport> {
  const tempsRemoved: string[] = [];
  let names: string[] = [];
  try {
    names = await fs.readdir(layout.tmpDir);
  } catch {
    // No tmp dir yet: nothing to recover.
  }
  for (const name of names) {
    if (!isOrphanTemp(name)) continue;
    await removeTemp(path.join(layout.tmpDir, name));
    tempsRemoved.push(name);
  }
  const locksRemoved = await locks.removeDead();
  return { tempsRemoved, locksRemoved };
}
