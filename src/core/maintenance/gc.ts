import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { InstalledToolchain } from '../install/installer';
import { readLockfile, lockPathFor } from '../lockfile/qm-lock';
import { loadManifest } from '../manifest/find';
import type { Manifest } from '../manifest/types';
import { selectVersion } from '../resolve/version-spec';
import type { CoreServices } from '../services';
import { listManifestUses } from '../state/usage';
import { directorySize } from '../store/disk-usage';
import { blobLockKey, toolchainLockKey } from '../store/lock-keys';
import { moveAsideAndDelete } from '../store/move-aside';
import { describeReaders } from './uninstall';

export interface GcOptions {
  /** Manifests not used for this many days no longer keep anything. Default 30. */
  maxAgeDays?: number;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  /** Blobs younger than this are never removed: an install may be about to unpack them. */
  blobGraceMs?: number;
  now?: number;
}

export interface GcItem {
  kind: 'toolchain' | 'blob';
  path: string;
  bytes: number;
  label: string;
  /** Why a busy item was left: who holds it. */
  reason?: string;
}

/** Something gc keeps on purpose, and why. */
export interface GcKeptItem extends GcItem {
  /** used: a recently used manifest (or its qm.lock, or a kept toolchain) needs it; recent: downloaded within the grace period. */
  because: 'used' | 'recent';
  reason: string;
}

export interface GcResult {
  removed: GcItem[];
  /** Held by a running install or download, or in use by a reader: left alone this time. */
  busy: GcItem[];
  /** Every toolchain and download kept, with why. */
  kept: GcKeptItem[];
  keptToolchains: number;
  keptBlobs: number;
  manifests: string[];
  /** The whole cache (QM_HOME) before, as the Toolchains view counts it. */
  cacheBytes: number;
  /** The whole cache after removing (the same as before for a dry run). */
  cacheBytesAfter: number;
}

/**
 * Where every byte of the cache goes: what is (or would be) freed, kept because it is used, kept
 * because it is recent, left because it is busy, and the rest (indexes, state, partial
 * downloads). The parts add up to `cacheBytes`.
 */
export function gcFigures(result: GcResult): { freed: number; used: number; recent: number; busy: number; other: number; total: number } {
  const sum = (items: readonly GcItem[]): number => items.reduce((total, item) => total + item.bytes, 0);
  const freed = sum(result.removed);
  const used = sum(result.kept.filter((item) => item.because === 'used'));
  const recent = sum(result.kept.filter((item) => item.because === 'recent'));
  const busy = sum(result.busy);
  return { freed, used, recent, busy, other: Math.max(0, result.cacheBytes - freed - used - recent - busy), total: result.cacheBytes };
}

/**
 * Removes toolchains and blobs that no recently used manifest refers to. Everything removed is
 * first locked with the same lock an install or download takes (never waiting: a busy one is
 * skipped); a toolchain a reader holds a lease on is skipped too; then it is moved out of sight
 * with one rename before it is deleted. An install that finds its blob gone between finding and
 * opening it fetches it again, so no install is ever failed by gc.
 */
export async function collectGarbage(core: Pick<CoreServices, 'installer' | 'locks' | 'layout' | 'leases'>, options: GcOptions = {}): Promise<GcResult> {
  const now = options.now ?? Date.now();
  const maxAgeMs = (options.maxAgeDays ?? 30) * 24 * 60 * 60 * 1000;
  const manifests = await liveManifests(core, now - maxAgeMs);
  const installed = await core.installer.list();
  const keepingManifest = (toolchain: InstalledToolchain): LiveManifest | undefined => manifests.find((m) => refersTo(m, toolchain));
  const cacheBytes = await directorySize(core.layout.root);
  const keptDigests = new Set<string>();
  for (const { manifest, lockedDigests } of manifests) {
    for (const artifact of manifest.artifacts) keptDigests.add(artifact.sha256);
    for (const digest of lockedDigests) keptDigests.add(digest);
  }
  const result: GcResult = { removed: [], busy: [], kept: [], keptToolchains: 0, keptBlobs: 0, manifests: manifests.map((m) => m.manifest.file), cacheBytes, cacheBytesAfter: cacheBytes };

  for (const toolchain of installed) {
    const label = `${toolchain.tool} ${toolchain.version} (${toolchain.platform})`;
    const user = keepingManifest(toolchain);
    if (user) {
      result.keptToolchains++;
      result.kept.push({ kind: 'toolchain', path: toolchain.dir, bytes: await directorySize(toolchain.dir), label, because: 'used', reason: `used by ${user.manifest.file}` });
      keptDigests.add(toolchain.receipt.sha256);
      for (const component of toolchain.receipt.components ?? []) keptDigests.add(component.sha256);
      continue;
    }
    const item: GcItem = { kind: 'toolchain', path: toolchain.dir, bytes: await directorySize(toolchain.dir), label };
    await removeUnderLock(core, toolchainLockKey(toolchain), item, result, options.dryRun, async () => {
      const { removed, heldBy } = await core.leases.removeUnlessLeased(toolchain, 'qm gc', () => moveAsideAndDelete(core.layout, toolchain.dir));
      if (heldBy.length > 0) return `in use by ${describeReaders(heldBy)}`;
      return removed ? undefined : 'already gone';
    });
  }

  const grace = options.blobGraceMs ?? 60 * 60 * 1000;
  for (const blob of await listBlobs(core.layout.blobsDir)) {
    const item: GcItem = { kind: 'blob', path: blob.path, bytes: blob.size, label: `download ${blob.sha256.slice(0, 12)}` };
    if (keptDigests.has(blob.sha256)) {
      result.keptBlobs++;
      result.kept.push({ ...item, because: 'used', reason: 'the archive of a kept toolchain, an artifact or a qm.lock entry' });
      continue;
    }
    if (now - blob.mtimeMs < grace) {
      result.keptBlobs++;
      result.kept.push({ ...item, because: 'recent', reason: `downloaded under ${describeDuration(grace)} ago: an install may be about to unpack it` });
      continue;
    }
    await removeUnderLock(core, blobLockKey(blob.sha256), item, result, options.dryRun, async () => {
      await fs.rm(blob.path, { force: true });
      return undefined;
    });
  }
  if (!options.dryRun && result.removed.length > 0) result.cacheBytesAfter = await directorySize(core.layout.root);
  return result;
}

function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes === 60) return 'an hour';
  return minutes % 60 === 0 ? `${minutes / 60} hours` : `${minutes} minutes`;
}

interface LiveManifest {
  manifest: Manifest;
  lockedDigests: string[];
  lockedVersions: Map<string, string[]>;
}

async function liveManifests(core: Pick<CoreServices, 'layout'>, since: number): Promise<LiveManifest[]> {
  const live: LiveManifest[] = [];
  for (const use of await listManifestUses(core.layout)) {
    if (Date.parse(use.lastUsed) < since) continue;
    let manifest: Manifest;
    try {
      manifest = await loadManifest(use.file);
    } catch {
      continue; // Deleted or unreadable: it refers to nothing any more.
    }
    const lock = await readLockfile(lockPathFor(manifest)).catch(() => undefined);
    const lockedVersions = new Map<string, string[]>();
    for (const tool of lock?.tools ?? []) lockedVersions.set(tool.name, [...(lockedVersions.get(tool.name) ?? []), tool.version]);
    live.push({ manifest, lockedDigests: [...(lock?.tools ?? []), ...(lock?.artifacts ?? [])].map((e) => e.sha256), lockedVersions });
  }
  return live;
}

/**
 * Whether a manifest may use this toolchain: its spec accepts the version, or qm.lock pins it.
 * Specs a receipt cannot answer alone ("lts", "latest") keep every version of the tool.
 */
function refersTo(live: LiveManifest, toolchain: InstalledToolchain): boolean {
  if (live.lockedVersions.get(toolchain.tool)?.includes(toolchain.version)) return true;
  return live.manifest.tools.some((entry) => {
    if (entry.name !== toolchain.tool) return false;
    const spec = entry.spec.trim().toLowerCase();
    if (spec.startsWith('lts') || ['latest', 'node', 'current'].includes(spec)) return true;
    try {
      return selectVersion(entry.spec, [{ version: toolchain.version }]) !== undefined;
    } catch {
      return true; // An unreadable spec keeps everything it might mean.
    }
  });
}

async function removeUnderLock(
  core: Pick<CoreServices, 'locks'>,
  key: string,
  item: GcItem,
  result: GcResult,
  dryRun: boolean | undefined,
  /** Removes the item; or says why it stays. */
  remove: () => Promise<string | undefined>,
): Promise<void> {
  if (dryRun) {
    result.removed.push(item);
    return;
  }
  const lock = await core.locks.tryAcquire(key, 'qm gc');
  if (!lock) {
    result.busy.push({ ...item, reason: 'in use by a running install' });
    return;
  }
  try {
    const kept = await remove();
    if (kept === undefined) result.removed.push(item);
    else if (kept !== 'already gone') result.busy.push({ ...item, reason: kept });
  } finally {
    await lock.release();
  }
}

async function listBlobs(dir: string): Promise<Array<{ sha256: string; path: string; size: number; mtimeMs: number }>> {
  const blobs = [];
  for (const shard of await fs.readdir(dir).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(dir, shard)).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const file = path.join(dir, shard, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat?.isFile()) blobs.push({ sha256: name, path: file, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  }
  return blobs;
}
