import { loadManifest } from '../manifest/find';
import { platformId, type Platform } from '../platform';
import { lockfileFor, resolvePlan } from '../plan/plan';
import type { CoreServices } from '../services';
import { lockMismatch, lockPathFor, readLockfile, writeLockfile } from '../lockfile/qm-lock';

/**
 * Brings an existing qm.lock back in line with its manifest after an edit (what `qm use` does);
 * never creates one. Returns the lockfile's path when it was rewritten.
 */
export async function refreshLockfile(
  manifestFile: string,
  core: Pick<CoreServices, 'providers'>,
  platform: Platform,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const manifest = await loadManifest(manifestFile);
  const lockFile = lockPathFor(manifest);
  const previous = await readLockfile(lockFile);
  if (!previous || lockMismatch(manifest, previous, platformId(platform)) === undefined) return undefined;
  const plan = await resolvePlan(manifest, { providers: core.providers, platform, ...(signal ? { signal } : {}) });
  await writeLockfile(lockFile, lockfileFor(plan, previous));
  return lockFile;
}
