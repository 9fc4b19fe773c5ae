import { installPlan, type PlanResult } from '../../core/install/install-plan';
import { toolchainLockKey } from '../../core/store/lock-keys';
import type { Command } from '../command';
import type { CliContext } from '../context';
import { connectCoordinator, installThroughCoordinator } from '../coordinated';
import { installedLine } from '../format';
import { createProgressView, rowFromPlanEvent, type ProgressView } from '../progress';
import { planRun, updateLock, type PlannedRun } from '../planning';

function progressMode(context: CliContext): 'tty' | 'plain' | 'json' {
  if (context.flags.json) return 'json';
  return context.streams.err.isTTY && context.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

/** Toolchains through the coordinator when one serves this QM_HOME, the rest (and any fallback) here. */
async function install(context: CliContext, run: PlannedRun, view: ProgressView, label: string): Promise<PlanResult & { coordinated: boolean }> {
  const client = run.plan.tools.length > 0 ? await connectCoordinator(context) : undefined;
  // A toolchain lock the small entry took (install-gate.ts) would keep the coordinator waiting for us.
  if (client) await context.core.locks.releaseAdopted();
  const viaCoordinator = client ? await installThroughCoordinator(context, client, run.plan.tools, view, label) : undefined;
  const local = viaCoordinator ? { ...run.plan, tools: [] } : run.plan;
  const result = await installPlan(local, context.core, { signal: context.signal, onEvent: (event) => view.update(rowFromPlanEvent(event)) });
  return { tools: viaCoordinator ?? result.tools, artifacts: result.artifacts, coordinated: viaCoordinator !== undefined };
}

export const installCommand: Command = {
  name: 'install',
  summary: 'Install the toolchains and artifacts the manifest declares, or the tools named',
  usage: 'qm install [tool@version ...] [--locked]',
  options: { locked: { type: 'boolean' } },
  async run(context, args) {
    const locked = args.values.locked === true;
    const run = await planRun(context, args.positionals, { locked });
    // The small entry's lock was for the version as written: one the index resolved otherwise is not ours to hold.
    await context.core.locks.releaseAdopted(new Set(run.plan.tools.map(({ toolchain }) => toolchainLockKey(toolchain))));
    const view = createProgressView(context.streams.err, progressMode(context));
    let result;
    try {
      result = await install(context, run, view, ['qm install', ...args.positionals].join(' '));
    } finally {
      view.done();
    }
    // Only a whole-manifest install pins what it resolved; a lockfile is never created implicitly.
    const lockWritten = run.previousLock && args.positionals.length === 0 ? await updateLock(context, run) : undefined;
    if (context.flags.json) {
      context.json({
        tools: result.tools.map((t) => ({ tool: t.tool, version: t.version, platform: t.platform, dir: t.dir, installed: t.installed })),
        artifacts: result.artifacts,
        lockfile: lockWritten ?? null,
        coordinator: result.coordinated,
      });
      return 0;
    }
    for (const tool of result.tools) context.write(installedLine(tool));
    for (const artifact of result.artifacts) {
      context.write(`artifact ${artifact.name}: ${artifact.dest ? `${artifact.written ? 'written to' : 'up to date at'} ${artifact.dest}` : `cached at ${artifact.blob}`}\n`);
    }
    if (lockWritten) context.write(`updated ${lockWritten}\n`);
    if (result.tools.length === 0 && result.artifacts.length === 0) context.write('nothing to install: the manifest declares no tools or artifacts\n');
    return 0;
  },
};
