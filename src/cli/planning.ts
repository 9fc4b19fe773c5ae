import * as path from 'node:path';
import { QmError } from '../core/errors';
import { lockMismatch, lockPathFor, readLockfile, type Lockfile } from '../core/lockfile/qm-lock';
import type { Manifest } from '../core/manifest/types';
import { platformId } from '../core/platform';
import { resolvePlan, type Plan } from '../core/plan/plan';
import { refreshLockfile } from '../core/project/lock-refresh';
import type { CliContext } from './context';
import { parseToolArg } from './tool-args';

export interface PlannedRun {
  plan: Plan;
  /** Undefined when tools were named on the command line. */
  manifest?: Manifest;
  lockFile?: string;
  previousLock?: Lockfile;
  /** True when the plan came from qm.lock rather than the indexes. */
  fromLock: boolean;
}

/**
 * What to install: tools named on the command line, or the manifest's. A qm.lock that matches
 * the manifest is followed (no index is consulted); with `locked`, a missing or stale one fails.
 */
export async function planRun(context: CliContext, toolArgs: string[], options: { locked?: boolean } = {}): Promise<PlannedRun> {
  const base = { providers: context.core.providers, platform: context.platform, signal: context.signal };
  if (toolArgs.length > 0) {
    if (options.locked) throw new QmError('EUSAGE', '--locked installs what qm.lock records for the manifest; it cannot be combined with tool@version arguments');
    const tools = toolArgs.map(parseToolArg);
    const adhoc = { file: path.join(context.cwd, '(command line)'), dir: context.cwd, tools, artifacts: [] };
    return { plan: await resolvePlan(adhoc, base), fromLock: false };
  }
  const manifest = await context.manifest();
  const lockFile = lockPathFor(manifest);
  const previousLock = await readLockfile(lockFile);
  if (options.locked && !previousLock) {
    throw new QmError('ELOCKFILE', `--locked needs ${lockFile}, which does not exist. Run "qm lock" first.`, { path: lockFile });
  }
  const followLock = previousLock !== undefined && (options.locked || !lockMismatch(manifest, previousLock, platformId(context.platform)));
  const plan = await resolvePlan(manifest, { ...base, ...(followLock ? { locked: previousLock } : {}) });
  return { plan, manifest, lockFile, ...(previousLock ? { previousLock } : {}), fromLock: followLock };
}

/**
 * Brings an existing qm.lock in line with the manifest after a plan resolved from the indexes,
 * keeping other platforms' entries; re-read under its lock, so concurrent runs never interleave.
 */
export async function updateLock(context: CliContext, run: PlannedRun): Promise<string | undefined> {
  if (!run.manifest || !run.lockFile || run.fromLock) return undefined;
  return refreshLockfile(run.manifest.file, context.core, context.platform, context.signal);
}
