import { QmError } from '../errors';
import type { LeaseHolder } from '../install/leases';
import type { CoreServices } from '../services';
import { directorySize } from '../store/disk-usage';
import { toolchainLockKey } from '../store/lock-keys';
import { moveAsideAndDelete } from '../store/move-aside';

export interface UninstallResult {
  dir: string;
  bytes: number;
}

/**
 * Removes one installed toolchain under the lock its install takes, never waiting for it: an
 * install or gc holding it means "busy" (ELOCKED), not a removal from under a running job. A
 * toolchain a reader holds a lease on (a running `qm exec`, a VS Code terminal) is busy too. The
 * tree leaves its published path with one rename, so no reader sees half of it.
 */
export async function uninstallToolchain(
  core: Pick<CoreServices, 'installer' | 'locks' | 'layout' | 'leases'>,
  toolchain: { tool: string; version: string; platform: string },
): Promise<UninstallResult> {
  const label = `${toolchain.tool} ${toolchain.version} (${toolchain.platform})`;
  const lock = await core.locks.tryAcquire(toolchainLockKey(toolchain), `uninstall ${label}`);
  if (!lock) throw new QmError('ELOCKED', `${label} is being installed or cleaned up by another process; try again when it is done`);
  try {
    const installed = await core.installer.find(toolchain);
    if (!installed) throw new QmError('ENOTINSTALLED', `${label} is not installed`);
    const bytes = await directorySize(installed.dir);
    const { removed, heldBy } = await core.leases.removeUnlessLeased(toolchain, `uninstall ${label}`, () => moveAsideAndDelete(core.layout, installed.dir));
    if (heldBy.length > 0) throw new QmError('ELOCKED', `${label} is in use by ${describeReaders(heldBy)}; try again when it has finished`, { path: installed.dir });
    if (!removed) throw new QmError('ENOTINSTALLED', `${label} is not installed`);
    return { dir: installed.dir, bytes };
  } finally {
    await lock.release();
  }
}

/** "pid 123 (qm exec node), pid 456 (a terminal in VS Code)". */
export function describeReaders(readers: LeaseHolder[]): string {
  return readers.map((r) => `pid ${r.pid}${r.purpose ? ` (${r.purpose})` : ''}${r.liveness === 'unknown' ? ' on another host or container' : ''}`).join(', ');
}
