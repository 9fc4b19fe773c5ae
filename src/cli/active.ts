import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError } from '../core/errors';
import type { InstalledToolchain } from '../core/install/installer';
import { receiptPath } from '../core/install/receipt';
import { findManifest } from '../core/manifest/find';
import type { ResolvedToolchain } from '../core/providers/types';
import { writeFileAtomic } from '../core/store/atomic-write';
import { activeRecordFile, INDEX_PLAN_LIFETIME_MS, resolutionKey, stampsOf, type ActiveRecord } from './active-record';
import type { CliContext } from './context';
import { planRun, type PlannedRun } from './planning';

export interface ActiveTool {
  toolchain: ResolvedToolchain;
  installed: InstalledToolchain | undefined;
}

/**
 * The toolchains in force here: the manifest's (through qm.lock when it matches), with tools
 * named on the command line taking precedence over the manifest's entry for the same tool.
 * The manifest's plan is also recorded for the fast path of the next `qm which/env/exec`.
 */
export async function activeTools(context: CliContext, overrides: string[] = [], options: { requireManifest?: boolean } = {}): Promise<ActiveTool[]> {
  let fromManifest: ResolvedToolchain[] = [];
  // Stamped before the manifest is read: a change made meanwhile makes the record stale, never wrong.
  const manifestFile = overrides.length === 0 ? await findManifest(context.cwd) : undefined;
  const stamps = manifestFile === undefined ? undefined : await stampsOf(manifestFile);
  let run: PlannedRun | undefined;
  try {
    run = await planRun(context, []);
    fromManifest = run.plan.tools.map((t) => t.toolchain);
  } catch (error) {
    if (!(error instanceof QmError && error.code === 'ENOMANIFEST') || options.requireManifest) throw error;
  }
  const named = overrides.length > 0 ? (await planRun(context, overrides)).plan.tools.map((t) => t.toolchain) : [];
  const tools = [...named, ...fromManifest.filter((m) => !named.some((n) => n.tool === m.tool))];
  const active = await Promise.all(tools.map(async (toolchain) => ({ toolchain, installed: await context.core.installer.find(toolchain) })));
  // A manifest with warnings is left to the full path, which prints them every time.
  if (run?.manifest && run.manifest.file === manifestFile && stamps && run.manifest.problems.length === 0 && overrides.length === 0) {
    await writeActiveRecord(context.core.layout.root, {
      manifest: manifestFile,
      key: resolutionKey(context.env, context.platform),
      stamps,
      validUntil: run.fromLock ? null : Date.now() + INDEX_PLAN_LIFETIME_MS,
      tools: active.map(({ toolchain, installed }) => {
        const dir = context.core.installer.dirFor(toolchain);
        const binPaths = installed?.binPaths ?? toolchain.binDirs.map((bin) => path.join(dir, bin));
        return { tool: toolchain.tool, version: toolchain.version, platform: toolchain.platform, executables: toolchain.executables, binPaths, receipt: receiptPath(dir), env: installed ? installed.env : null };
      }),
    });
  }
  return active;
}

/** Best effort: a record that cannot be written only costs the next run its shortcut. */
async function writeActiveRecord(home: string, record: ActiveRecord): Promise<void> {
  const file = activeRecordFile(home, record.manifest);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(record), { durable: false, action: 'record the active toolchains in' });
  } catch {
    // next time, the full path again
  }
}
