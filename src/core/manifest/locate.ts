import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsError } from '../errors';
import type { ManifestKind } from './types';

// Finding a manifest without parsing one: what the CLI's fast path (src/cli/fast-path.ts) needs,
// kept apart from find.ts so that loading it never loads the TOML parser.

/** Manifest file names, most preferred first: within one directory the first present wins. */
export const MANIFEST_FILE_NAMES: readonly ManifestKind[] = ['qm.toml', '.tool-versions', '.nvmrc', '.node-version'];

export interface FindManifestOptions {
  /** The last directory searched (inclusive). Without it the search goes up to the root. */
  stopAt?: string;
}

/**
 * The nearest manifest in `startDir` or above. A directory's own manifest beats any in its
 * parents, whatever their kind; within a directory qm.toml beats .tool-versions beats .nvmrc
 * beats .node-version. Unreadable directories are passed over, as if empty.
 */
export async function findManifest(startDir: string, options: FindManifestOptions = {}): Promise<string | undefined> {
  const stopAt = options.stopAt === undefined ? undefined : resolve(options.stopAt);
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    const present = await Promise.all(MANIFEST_FILE_NAMES.map(async (name) => ((await isFile(join(dir, name))) ? name : undefined)));
    const found = present.find((name) => name !== undefined);
    if (found !== undefined) return join(dir, found);
    if (dir === stopAt || dirname(dir) === dir) return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') return false;
    throw fsError(error, 'look for a manifest at', path);
  }
}
