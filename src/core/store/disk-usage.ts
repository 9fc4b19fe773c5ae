import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Bytes used by the files under `dir` (links not followed); 0 for a missing directory. */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    try {
      total += (await fs.lstat(path.join(entry.parentPath, entry.name))).size;
    } catch {
      // Removed while we counted.
    }
  }
  return total;
}
