import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsError } from '../errors';
import { MANIFEST_FILE_NAMES } from './names';
import type { ManifestKind } from './types';

export interface FindManifestOptions {
  /** The last directory searched (inclusive). Without it the search goes up to the root. */
  stopAt?: string;
}

/**
 * The nearest manifest in `startDir` or above. A directory's own manifest beats any in its
 * parents, whatever their kind; within a directory qm.toml beats .tool-versions beats .nvmrc
 * beats .node-version. Unreadable directories are passed over, as if empty.
 *
 * Finding parses nothing unless a package.json or go.mod has to say whether it declares a tool:
 * only then are the parsers loaded (`qm which` starts without them, see src/cli/entry.ts).
 */
export async function findManifest(startDir: string, options: FindManifestOptions = {}): Promise<string | undefined> {
  const stopAt = options.stopAt === undefined ? undefined : resolve(options.stopAt);
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    const present = await Promise.all(MANIFEST_FILE_NAMES.map(async (name) => ((await isFile(join(dir, name))) ? name : undefined)));
    // package.json and go.mod are everywhere: they make a directory a project only when they declare a tool.
    const found = await firstDeclaring(dir, present);
    if (found !== undefined) return join(dir, found);
    if (dir === stopAt || dirname(dir) === dir) return undefined;
  }
}

async function firstDeclaring(dir: string, present: ReadonlyArray<ManifestKind | undefined>): Promise<ManifestKind | undefined> {
  for (const name of present) {
    if (name === undefined) continue;
    if (name !== 'package.json' && name !== 'go.mod') return name;
    /* eslint-disable @typescript-eslint/no-require-imports -- the parsers load only when a file needs reading (see above) */
    const { readProjectText } = require('../paths/project-files') as typeof import('../paths/project-files');
    const { parseVersionFile } = require('./version-files') as typeof import('./version-files');
    /* eslint-enable @typescript-eslint/no-require-imports */
    // Through the same door as any project file: a FIFO or device in its place is never read.
    const text = (await readProjectText(join(dir, name)).catch(() => undefined)) ?? '';
    if (parseVersionFile(text, join(dir, name), name).tools.length > 0) return name;
  }
  return undefined;
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
