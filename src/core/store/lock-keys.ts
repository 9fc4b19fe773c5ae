import { createHash } from 'node:crypto';
import { assertComponent, toolPathSegment } from '../paths/safe-names';

/**
 * The names of Quartermaster's cross-process locks: the one place a key is spelled, so an
 * installer, gc, uninstall and recovery always agree on which lock guards what.
 */

/** Guards fetching one blob into the store. */
export function blobLockKey(sha256: string): string {
  assertComponent('sha256', sha256);
  return `blob-${sha256}`;
}

/** Guards installing, and removing, one toolchain for one platform. Its names must have passed the door (paths/safe-names.ts). */
export function toolchainLockKey(toolchain: { tool: string; version: string; platform: string }): string {
  const tool = toolPathSegment(toolchain.tool);
  assertComponent('tool name', tool);
  assertComponent('version', toolchain.version);
  assertComponent('platform', toolchain.platform);
  return `toolchain-${tool}-${toolchain.version}-${toolchain.platform}`;
}

/** Guards the first download of a URL that publishes no checksum (trust on first use): one GET, one recorded digest. */
export function firstDownloadLockKey(url: string): string {
  return `first-download-${createHash('sha256').update(url).digest('hex').slice(0, 32)}`;
}

/** Guards fetching one version index (index.json, SHASUMS256.txt, ...) into the index cache: processes started together fetch it once. */
export function indexLockKey(url: string): string {
  return `index-${createHash('sha256').update(url).digest('hex').slice(0, 32)}`;
}

export function isToolchainLockKey(key: string): boolean {
  return key.startsWith('toolchain-');
}

/** Decides which process on a host serves that host's coordinator; hosts sharing QM_HOME elect apart. */
export function electionLockKey(hostTag: string): string {
  return `coordinator-election-${hostTag}`;
}

/**
 * Guards a read-modify-write of one project file (qm.toml, qm.lock), so concurrent edits merge
 * instead of one losing the other's. `file` is absolute, with its directory's real path, so two
 * spellings of one file share the key.
 */
export function projectFileLockKey(file: string): string {
  return `project-${createHash('sha256').update(file).digest('hex').slice(0, 32)}`;
}
