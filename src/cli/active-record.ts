import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { VERSION_FILE_NAMES } from '../core/manifest/names';
import { platformId, type Platform } from '../core/platform';
import { nameHash } from '../core/paths/name-hash';
import { QM_VERSION } from '../core/version';

/**
 * What the full CLI resolved for one manifest, kept in QM_HOME/state/active so that `qm which`,
 * `qm env` and `qm exec` can answer the next time without parsing TOML or resolving versions
 * (src/cli/fast-path.ts). It holds while the manifest, its qm.lock and the version files beside it
 * are unchanged (size, mtime, ctime, inode; present or not), every receipt is still there, and, for a plan read from the indexes, for at most
 * an index's time to live. Anything else is a miss, and the full CLI answers and writes it anew
 * (src/cli/active.ts). Reading it loads nothing the fast path does not need.
 */
export interface ActiveRecord {
  manifest: string;
  /** resolutionKey() when written: platform, mirrors, qm's version. */
  key: string;
  /** The manifest's, then qm.lock's and every version file's beside it (null: absent). */
  stamps: { manifest: string; beside: Array<string | null> };
  /** Epoch ms after which the indexes may say otherwise; null for a plan read from qm.lock. */
  validUntil: number | null;
  tools: ActiveRecordTool[];
}

export interface ActiveRecordTool {
  tool: string;
  version: string;
  /** The provider's platform spelling, as the toolchain's directory and leases name it. */
  platform: string;
  executables: string[];
  binPaths: string[];
  /** The receipt whose presence says the toolchain is still installed. */
  receipt: string;
  /** The toolchain's own variables (JAVA_HOME) from its receipt; null when it was not installed yet. */
  env: Record<string, string> | null;
}

/** How long a plan resolved from the indexes stands: the index cache's own time to live. */
export const INDEX_PLAN_LIFETIME_MS = 60 * 60 * 1000;
/** What is read beside a manifest: qm.lock, and the version files that add tools to it. */
const BESIDE: readonly string[] = ['qm.lock', ...VERSION_FILE_NAMES];

/** Everything besides the manifest that changes what it resolves to. */
export function resolutionKey(env: NodeJS.ProcessEnv, platform: Platform): string {
  return JSON.stringify([QM_VERSION, platformId(platform), env.QM_MIRROR_NODE ?? '', env.QM_MIRROR_GO ?? '', env.QM_MIRROR_ZIG ?? '']);
}

/** A file's identity and version: a rewrite changes ctime even when mtime is put back. Null when absent. */
export async function stampOf(file: string): Promise<string | null> {
  try {
    const stat = await fs.stat(file, { bigint: true });
    return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
  } catch {
    return null;
  }
}

/** The stamps of the manifest and of what is read beside it, taken before any of it is read. */
export async function stampsOf(manifest: string): Promise<ActiveRecord['stamps'] | undefined> {
  const dir = path.dirname(manifest);
  const [stamp, ...beside] = await Promise.all([stampOf(manifest), ...BESIDE.map((name) => stampOf(path.join(dir, name)))]);
  return stamp === null || stamp === undefined ? undefined : { manifest: stamp, beside };
}

export function activeRecordFile(home: string, manifest: string): string {
  return path.join(home, 'state', 'active', `${nameHash(manifest)}.json`);
}

/** The tools recorded for `manifest` if the record still holds, else undefined. */
export async function readActiveRecord(home: string, manifest: string, key: string, now: number): Promise<ActiveRecordTool[] | undefined> {
  let record: ActiveRecord;
  try {
    record = JSON.parse(await fs.readFile(activeRecordFile(home, manifest), 'utf8')) as ActiveRecord;
  } catch {
    return undefined;
  }
  if (record.manifest !== manifest || record.key !== key || !Array.isArray(record.tools) || !record.tools.every((tool) => typeof tool.platform === 'string')) return undefined;
  if (record.validUntil !== null && !(now < record.validUntil)) return undefined;
  const stamps = await stampsOf(manifest);
  if (stamps === undefined || JSON.stringify(stamps) !== JSON.stringify(record.stamps)) return undefined;
  const installed = await Promise.all(record.tools.map((tool) => stampOf(tool.receipt)));
  return installed.every((stamp) => stamp !== null) ? record.tools : undefined;
}
