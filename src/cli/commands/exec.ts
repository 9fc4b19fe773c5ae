import { QmError } from '../../core/errors';
import { prependPath } from '../../core/exec/path-env';
import { runTool } from '../../core/exec/spawn';
import { installPlan } from '../../core/install/install-plan';
import type { Plan } from '../../core/plan/plan';
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
    const missing = tools.filter((t) => !t.installed).map((t) => ({ entry: { name: t.toolchain.tool, spec: t.toolchain.version }, toolchain: t.toolchain }));
    const dirs: string[] = [];
    if (missing.length > 0) {
      const plan: Plan = { platform: platformId(context.platform), tools: missing, artifacts: [], downloads: [] };
      const result = await installPlan(plan, context.core, { signal: context.signal });
      for (const installed of result.tools) context.streams.err.write(`qm: installed ${installed.tool} ${installed.version}\n`);
    }
    for (const tool of tools) {
      const installed = tool.installed ?? (await context.core.installer.find(tool.toolchain));
      if (installed) dirs.push(...installed.binPaths);
    }
    const env = prependPath(context.env, dirs);
    return runTool(command, commandArgs, { env, cwd: context.cwd, stdio: 'inherit', signal: context.signal });
  },
};
