import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { HomeLayout } from '../home';
import { nameHash } from '../paths/name-hash';

// Where a manifest's last use is recorded (src/core/state/usage.ts), and whether it was recently,
// without loading what writing it needs: `qm which` asks this on every run.

export function usageDir(layout: HomeLayout): string {
  return path.join(layout.stateDir, 'manifests');
}

export function usageFile(layout: HomeLayout, manifest: string): string {
  return path.join(usageDir(layout), `${nameHash(manifest)}.json`);
}

/**
 * Whether `manifest`'s use was recorded less than `withinMs` before `now` (by the record's mtime;
 * one dated in the future does not count), in a record that names this manifest (the file name is
 * a hash). `qm gc` keeps what was used in the last 30 days, so a caller that runs constantly
 * records at most once in a while.
 */
export function usedWithin(layout: HomeLayout, manifest: string, now: number, withinMs: number): boolean {
  const file = usageFile(layout, manifest);
  try {
    const age = now - statSync(file).mtimeMs;
    return age >= 0 && age < withinMs && (JSON.parse(readFileSync(file, 'utf8')) as { file?: unknown }).file === manifest;
  } catch {
    return false;
  }
}
