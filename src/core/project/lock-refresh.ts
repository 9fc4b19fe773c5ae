import * as path from 'node:path';
import { lockMismatch, lockPathFor, readLockfile, writeLockfile, type Lockfile } from '../lockfile/qm-lock';
import { loadManifest, manifestError } from '../manifest/find';
import { platformId, type Platform } from '../platform';
import { lockfileFor, resolvePlan } from '../plan/plan';
import type { CoreServices } from '../services';
import { withProjectFileLock } from './file-lock';

type LockingCore = Pick<CoreServices, 'providers' | 'locks'>;

/**
 * Brings an existing qm.lock back in line with its manifest after an edit (`qm use`, `qm
 * install`, Switch Version); never creates one. Manifest and lock are read under the lock's
 * file lock, so concurrent edits of the manifest each leave a lock that matches what they
 * left. Returns the lockfile's path when it was rewritten.
 */
export async function refreshLockfile(manifestFile: string, core: LockingCore, platform: Platform, signal?: AbortSignal): Promise<string | undefined> {
  const lockFile = lockPathFor({ dir: path.dirname(manifestFile) });
  return withProjectFileLock(core.locks, lockFile, `update ${lockFile}`, async () => {
    const manifest = await loadManifest(manifestFile);
    const previous = await readLockfile(lockFile);
    if (!previous || lockMismatch(manifest, previous, platformId(platform)) === undefined) return undefined;
    const plan = await resolvePlan(manifest, { providers: core.providers, platform, ...(signal ? { signal } : {}) });
    await writeLockfile(lockFile, lockfileFor(plan, previous));
    return lockFile;
  }, signal);
}

/**
 * `qm lock`: resolves the manifest afresh for each platform and writes qm.lock, creating it,
 * keeping other platforms' entries whose spec is unchanged. Under the lock's file lock, with
 * manifest and lock re-read there, so two runs for different platforms keep each other's work.
 */
/** A digest qm.lock pins because nothing upstream publishes one: the first download's (trust on first use). */
export interface TrustedOnFirstUse {
  tool: string;
  version: string;
  platform: string;
  sha256: string;
}

export async function lockManifest(
  manifestFile: string,
  core: LockingCore,
  platforms: readonly Platform[],
  signal?: AbortSignal,
): Promise<{ file: string; lock: Lockfile; trustedOnFirstUse: TrustedOnFirstUse[] }> {
  const lockFile = lockPathFor({ dir: path.dirname(manifestFile) });
  return withProjectFileLock(core.locks, lockFile, `write ${lockFile}`, async () => {
    const manifest = await loadManifest(manifestFile);
    const error = manifestError(manifest);
    if (error) throw error;
    let lock = await readLockfile(lockFile);
    const trustedOnFirstUse: TrustedOnFirstUse[] = [];
    for (const platform of platforms) {
      const plan = await resolvePlan(manifest, { providers: core.providers, platform, ...(signal ? { signal } : {}) });
      lock = lockfileFor(plan, lock);
      for (const { toolchain } of plan.tools) {
        if (toolchain.trustedOnFirstUse) trustedOnFirstUse.push({ tool: toolchain.tool, version: toolchain.version, platform: plan.platform, sha256: toolchain.sha256 });
      }
    }
    lock ??= { tools: [], artifacts: [] };
    await writeLockfile(lockFile, lock);
    return { file: lockFile, lock, trustedOnFirstUse };
  }, signal);
}
