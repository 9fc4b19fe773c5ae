import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { CoreServices } from '../services';
import { directorySize } from '../store/disk-usage';
import type { LockStatus } from '../store/locks';
import { orphansIn } from '../store/recovery';
import { readReceipt } from '../install/receipt';

export interface DoctorFinding {
  severity: 'ok' | 'warning' | 'error';
  message: string;
}

export interface DoctorReport {
  home: string;
  writable: boolean;
  blobs: { count: number; bytes: number; corrupt: string[] };
  toolchains: { count: number; bytes: number; withoutReceipt: string[] };
  temps: { live: string[]; orphaned: string[] };
  locks: LockStatus[];
  findings: DoctorFinding[];
}

/** Reads the cache's health without changing anything (`verify` re-hashes every blob). */
export async function diagnose(core: Pick<CoreServices, 'layout' | 'locks' | 'manager' | 'installer' | 'leases'>, options: { verify?: boolean } = {}): Promise<DoctorReport> {
  const { layout, manager } = core;
  const findings: DoctorFinding[] = [];
  const writable = await fs.mkdir(layout.root, { recursive: true }).then(() => fs.access(layout.root, fs.constants.W_OK)).then(() => true, () => false);
  if (!writable) findings.push({ severity: 'error', message: `QM_HOME ${layout.root} is not writable` });

  const blobs = { count: 0, bytes: 0, corrupt: [] as string[] };
  for (const shard of await fs.readdir(layout.blobsDir).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(layout.blobsDir, shard)).catch(() => [] as string[])) {
      const stat = await fs.stat(path.join(layout.blobsDir, shard, name)).catch(() => undefined);
      if (!stat?.isFile()) continue;
      blobs.count++;
      blobs.bytes += stat.size;
      if (options.verify && !(await manager.store.verify(name))) blobs.corrupt.push(name);
    }
  }
  if (blobs.corrupt.length > 0) findings.push({ severity: 'error', message: `${blobs.corrupt.length} blob(s) did not match their digest and were removed; they will be downloaded again` });

  const toolchains = { count: 0, bytes: 0, withoutReceipt: [] as string[] };
  for (const tool of await fs.readdir(layout.toolchainsDir).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(layout.toolchainsDir, tool)).catch(() => [] as string[])) {
      const dir = path.join(layout.toolchainsDir, tool, name);
      if (await readReceipt(dir)) {
        toolchains.count++;
        toolchains.bytes += await directorySize(dir);
      } else toolchains.withoutReceipt.push(dir);
    }
  }
  if (toolchains.withoutReceipt.length > 0) {
    findings.push({ severity: 'warning', message: `${toolchains.withoutReceipt.length} toolchain tree(s) without a receipt (an interrupted install); the next install of each replaces it` });
  }

  // Orphans anywhere recovery looks (tmp/, locks/, state/, indexes/), relative to QM_HOME; live ones in tmp/.
  const orphaned = new Set<string>();
  for (const [dir, recursive] of [[layout.tmpDir, false], [layout.locksDir, false], [layout.stateDir, true], [layout.indexesDir, true]] as const) {
    for (const file of await orphansIn(dir, recursive)) orphaned.add(path.relative(layout.root, file));
  }
  const temps = { live: [] as string[], orphaned: [...orphaned] };
  for (const name of await fs.readdir(layout.tmpDir).catch(() => [] as string[])) {
    if (!orphaned.has(path.join('tmp', name))) temps.live.push(name);
  }
  if (temps.orphaned.length > 0) findings.push({ severity: 'warning', message: `${temps.orphaned.length} temp file(s) left by dead processes; "qm doctor --fix" (or any install) removes them` });

  const locks = await core.locks.list();
  for (const lock of locks) {
    const who = lock.owner ? `pid ${lock.owner.pid} on ${lock.owner.host} (${lock.owner.purpose}, since ${lock.owner.since})` : 'an unknown holder';
    if (lock.liveness === 'dead') findings.push({ severity: 'warning', message: `stale lock ${lock.key} held by dead ${who}; it is taken over automatically` });
    else if (lock.liveness === 'unknown') findings.push({ severity: 'ok', message: `lock ${lock.key} held by ${who} in another container or on another host (judged by its heartbeat)` });
    else findings.push({ severity: 'ok', message: `lock ${lock.key} held by ${who}` });
  }
  for (const toolchain of await core.installer.list()) {
    for (const reader of await core.leases.readers(toolchain)) {
      if (reader.liveness === 'dead') continue; // swept like a temp file
      findings.push({ severity: 'ok', message: `${toolchain.tool} ${toolchain.version} in use by pid ${reader.pid}${reader.purpose ? ` (${reader.purpose})` : ''}` });
    }
  }
  if (findings.every((f) => f.severity === 'ok')) findings.push({ severity: 'ok', message: 'the cache is healthy' });
  return { home: layout.root, writable, blobs, toolchains, temps, locks, findings };
}
