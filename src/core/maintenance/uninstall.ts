import * as fs from 'node:fs/promises';
import { QmError } from '../errors';
import type { CoreServices } from '../services';
import { directorySize } from '../store/disk-usage';
import { toolchainLockKey } from '../store/lock-keys';
import { createTempPath, removeTemp } from '../store/temp-files';

export interface UninstallResult {
  dir: string;
  bytes: number;
}

/**
 * Removes one installed toolchain under the lock its install takes, never waiting for it: an
 * install or gc holding it means "busy" (ELOCKED), not a removal from under a running job. The
 * tree leaves its published path with one rename, so no reader sees half of it.
 */
export async function uninstallToolchain(
  core: Pick<CoreServices, 'installer' | 'locks' | 'layout'>,
  toolchain: { tool: string; version: string; platform: string },
): Promise<UninstallResult> {
  const label = `${toolchain.tool} ${toolchain.version} (${toolchain.platform})`;
  const lock = await core.locks.tryAcquire(toolchainLockKey(toolchain), `uninstall ${label}`);
  if (!lock) throw new QmError('ELOCKED', `${label} is being installed or cleaned up by another process; try again when it is done`);
  try {
    const installed = await core.installer.find(toolchain);
    if (!installed) throw new QmError('ENOTINSTALLED', `${label} is not installed`);
    const bytes = await directorySize(installed.dir);
    await moveAsideAndDelete(core, installed.dir);
    return { dir: installed.dir, bytes };
  } finally {
    await lock.release();
  }
}

/** One rename takes the tree out of sight; the slow delete happens in QM_HOME/tmp. */
export async function moveAsideAndDelete(core: Pick<CoreServices, 'layout'>, dir: string): Promise<void> {
  const aside = await createTempPath(core.layout.tmpDir, 'dir');
  await fs.rename(dir, aside);
  await removeTemp(aside);
}
