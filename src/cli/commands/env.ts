import { QmError } from '../../core/errors';
import type { Command } from '../command';
import { activeTools } from '../active';
import { renderPath, SHELLS, type Shell } from '../shell-env';

/** A toolchain's own variables (JAVA_HOME); the names come from receipts, so only plain names are written. */
function renderVariable(shell: Shell, name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return '';
  if (shell === 'fish') return `set -gx ${name} ${JSON.stringify(value)}\n`;
  if (shell === 'powershell') return `$env:${name} = ${JSON.stringify(value)}\n`;
  return `export ${name}=${JSON.stringify(value)}\n`;
}

export const envCommand: Command = {
  name: 'env',
  summary: "Print the PATH for the project's installed toolchains (eval \"$(qm env)\")",
  usage: 'qm env [--shell bash|zsh|fish|powershell]',
  options: { shell: { type: 'string' } },
  async run(context, args) {
    const shell = (args.values.shell as string | undefined) ?? 'bash';
    if (!(SHELLS as readonly string[]).includes(shell)) throw new QmError('EUSAGE', `--shell must be one of ${SHELLS.join(', ')}, not "${shell}"`);
    const tools = await activeTools(context);
    const dirs: string[] = [];
    const vars: Record<string, string> = {};
    for (const tool of tools) {
      // env runs from shell start-up files: it never downloads, it says what is missing.
      if (tool.installed) {
        dirs.push(...tool.installed.binPaths);
        Object.assign(vars, tool.installed.env);
      }
      else context.streams.err.write(`qm: warning: ${tool.toolchain.tool} ${tool.toolchain.version} is not installed; run "qm install"\n`);
    }
    if (context.flags.json) context.json({ PATH: dirs, env: vars, tools: tools.map((t) => ({ tool: t.toolchain.tool, version: t.toolchain.version, installed: Boolean(t.installed) })) });
    else {
      if (dirs.length > 0) context.write(renderPath(shell as Shell, dirs));
      for (const [name, value] of Object.entries(vars)) context.write(renderVariable(shell as Shell, name, value));
    }
    return 0;
  },
};
