/**
 * The names of Quartermaster's cross-process locks: the one place a key is spelled, so an
 * installer, gc, uninstall and recovery always agree on which lock guards what.
 */

/** Guards fetching one blob into the store. */
export function blobLockKey(sha256: string): string {
  return `blob-${sha256}`;
}

/** Guards installing, and removing, one toolchain for one platform. */
export function toolchainLockKey(toolchain: { tool: string; version: string; platform: string }): string {
  return `toolchain-${toolchain.tool}-${toolchain.version}-${toolchain.platform}`;
}

export function isToolchainLockKey(key: string): boolean {
  return key.startsWith('toolchain-');
}

/** Decides which process on a host serves the coordinator. */
export const ELECTION_LOCK_KEY = 'coordinator-election';
