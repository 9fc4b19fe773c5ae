import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { HomeLayout } from '../home';
import { writeFileAtomic } from '../store/atomic-write';
import { usageDir, usageFile } from './usage-names';

/** A manifest some process used, and when: what `qm gc` keeps toolchains for. */
export interface ManifestUse {
  file: string;
  lastUsed: string;
}

/**
 * One small file per manifest, replaced by rename: concurrent recorders never share a file,
 * so there is nothing to lock and nothing to corrupt.
 */
export async function recordManifestUse(layout: HomeLayout, file: string): Promise<void> {
  const dir = usageDir(layout);
  const target = usageFile(layout, file);
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(target, JSON.stringify({ file, lastUsed: new Date().toISOString() } satisfies ManifestUse), { durable: false, action: 'record manifest use in' });
}

export async function listManifestUses(layout: HomeLayout): Promise<ManifestUse[]> {
  const dir = usageDir(layout);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const uses: ManifestUse[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const use = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as ManifestUse;
      if (typeof use.file === 'string' && typeof use.lastUsed === 'string') uses.push(use);
    } catch {
      // Replaced or removed while we read: the next gc sees it.
    }
  }
  return uses;
}
