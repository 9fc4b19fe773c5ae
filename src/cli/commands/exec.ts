import { QmError } from '../../core/errors';
import { runInToolchains } from '../../core/exec/run-in-toolchains';
import { installPlan } from '../../core/install/install-plan';
import type { Plan } from '../../core/plan/plan';
import type { ResolvedToolchain } from '../../core/providers/types';
import type { Command } from '../command';
import { activeTools } from '../active';
import { platformId } from '../../core/platform';

export const execCommand: Command = {
  name: 'exec',
  summary: "Run a command with the project's toolchains first on PATH (installing missing ones)",
  usage: 'qm exec [tool@version ...] -- <command> [args ...]',
  options: {},
  async run(context, args) {
    const [command, ...commandArgs] = args.rest;
    if (!command) throw new QmError('EUSAGE', 'qm exec needs a command after "--", e.g. qm exec node@22 -- node --version');
    const tools = await activeTools(context, args.positionals);
    // Each toolchain is leased (kept from gc and uninstall) from before the command is looked up
    // until it exits; one found missing then, or removed meanwhile, is installed first.
    return runInToolchains<ResolvedToolchain>(context.core, tools.map((t) => t.toolchain), command, commandArgs, {
      env: context.env,
      cwd: context.cwd,
      stdio: 'inherit',
      signal: context.signal,
      install: async (missing) => {
        const plan: Plan = { platform: platformId(context.platform), tools: missing.map((toolchain) => ({ entry: { name: toolchain.tool, spec: toolchain.version }, toolchain })), artifacts: [], downloads: [] };
        const result = await installPlan(plan, context.core, { signal: context.signal });
        for (const installed of result.tools) if (installed.installed) context.streams.err.write(`qm: installed ${installed.tool} ${installed.version}\n`);
      },
    });
  },
};
