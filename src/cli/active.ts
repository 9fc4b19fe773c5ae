import { QmError } from '../core/errors';
import type { InstalledToolchain } from '../core/install/installer';
import type { ResolvedToolchain } from '../core/providers/types';
import type { CliContext } from './context';
import { planRun } from './planning';

export interface ActiveTool {
  toolchain: ResolvedToolchain;
  installed: InstalledToolchain | undefined;
}

/**
 * The toolchains in force here: the manifest's (through qm.lock when it matches), with tools
 * named on the command line taking precedence over the manifest's entry for the same tool.
 */
export async function activeTools(context: CliContext, overrides: string[] = [], options: { requireManifest?: boolean } = {}): Promise<ActiveTool[]> {
  let fromManifest: ResolvedToolchain[] = [];
  try {
    fromManifest = (await planRun(context, [])).plan.tools.map((t) => t.toolchain);
  } catch (error) {
    if (!(error instanceof QmError && error.code === 'ENOMANIFEST') || options.requireManifest) throw error;
  }
  const named = overrides.length > 0 ? (await planRun(context, overrides)).plan.tools.map((t) => t.toolchain) : [];
  const tools = [...named, ...fromManifest.filter((m) => !named.some((n) => n.tool === m.tool))];
  return Promise.all(tools.map(async (toolchain) => ({ toolchain, installed: await context.core.installer.find(toolchain) })));
}
