import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh QM_HOME under the OS temp dir; `dispose` removes it. */
export async function tempHome(prefix = 'qm-test-'): Promise<{ home: string; dispose: () => Promise<void> }> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  // Retried: work a test started in the background (an index fetch the coordinator was asked for)
  // may still be writing into the home as it is removed, and rmdir then finds a new entry.
  return { home, dispose: () => fs.rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }) };
}

/** Every file below `dir`, as paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => !entry.isDirectory())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
      .sort();
  } catch {
    return [];
  }
}
