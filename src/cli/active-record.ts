import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { platformId, type Platform } from '../core/platform';
import { writeFileAtomic } from '../core/store/atomic-write';
import { QM_VERSION } from '../core/version';

/**
 * What the full CLI resolved for one manifest, kept in QM_HOME/state/active so that `qm which`,
 * `qm env` and `qm exec` can answer the next time without parsing TOML or resolving versions
 * (src/cli/fast-path.ts). It holds while the manifest and its qm.lock are unchanged (size, mtime,
 * ctime, inode), every receipt is still there, and, for a plan read from the indexes, for at most
 * an index's time to live. Anything else is a miss, and the full CLI answers and writes it anew.
 */
export interface ActiveRecord {
  manifest: string;
  /** resolutionKey() when written: platform, mirrors, qm's version. */
  key: string;
  stamps: { manifest: string; lock: string | null };
  /** Epoch ms after which the indexes may say otherwise; null for a plan read from qm.lock. */
  validUntil: number | null;
  tools: ActiveRecordTool[];
}

export interface ActiveRecordTool {
  tool: string;
  version: string;
  executables: string[];
  binPaths: string[];
  /** The receipt whose presence says the toolchain is still installed. */
  receipt: string;
}

/** How long a plan resolved from the indexes stands: the index cache's own time to live. */
export const INDEX_PLAN_LIFETIME_MS = 60 * 60 * 1000;
const LOCK_FILE = 'qm.lock';

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

/** The manifest's and its qm.lock's stamps, taken before either is read. */
export async function stampsOf(manifest: string): Promise<ActiveRecord['stamps'] | undefined> {
  const [stamp, lock] = await Promise.all([stampOf(manifest), stampOf(path.join(path.dirname(manifest), LOCK_FILE))]);
  return stamp === null ? undefined : { manifest: stamp, lock };
}

function recordFile(home: string, manifest: string): string {
  return path.join(home, 'state', 'active', `${createHash('sha256').update(manifest).digest('hex').slice(0, 32)}.json`);
}

/** The tools recorded for `manifest` if the record still holds, else undefined. */
export async function readActiveRecord(home: string, manifest: string, key: string, now: number): Promise<ActiveRecordTool[] | undefined> {
  let record: ActiveRecord;
  try {
    record = JSON.parse(await fs.readFile(recordFile(home, manifest), 'utf8')) as ActiveRecord;
  } catch {
    return undefined;
  }
  if (record.manifest !== manifest || record.key !== key || !Array.isArray(record.tools)) return undefined;
  if (record.validUntil !== null && !(now < record.validUntil)) return undefined;
  const stamps = await stampsOf(manifest);
  if (stamps?.manifest !== record.stamps.manifest || stamps.lock !== record.stamps.lock) return undefined;
  const installed = await Promise.all(record.tools.map((tool) => stampOf(tool.receipt)));
  return installed.every((stamp) => stamp !== null) ? record.tools : undefined;
}

/** Best effort: a record that cannot be written only costs the next run its shortcut. */
export async function writeActiveRecord(home: string, record: ActiveRecord): Promise<void> {
  const file = recordFile(home, record.manifest);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(record), { durable: false, action: 'record the active toolchains in' });
  } catch {
    // next time, the full path again
  }
}
