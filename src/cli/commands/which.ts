import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError } from '../../core/errors';
import type { Command } from '../command';
import { activeTools } from '../active';

export const whichCommand: Command = {
  name: 'which',
  summary: "Print the path of a program from the project's toolchains",
  usage: 'qm which <program>   (node, npm, go, gofmt, zig, ...)',
  options: {},
  async run(context, args) {
    const program = args.positionals[0];
    if (!program || args.positionals.length > 1) throw new QmError('EUSAGE', 'qm which takes one program name, e.g. qm which node');
    const tools = await activeTools(context, [], { requireManifest: true });
    const owner = tools.find((t) => t.toolchain.executables.includes(program) || t.toolchain.tool === program);
    if (!owner) {
      throw new QmError('EUSAGE', `No declared toolchain provides "${program}"; the manifest declares ${tools.map((t) => t.toolchain.tool).join(', ') || 'no tools'}`);
    }
    if (!owner.installed) {
      throw new QmError('ENOTINSTALLED', `${owner.toolchain.tool} ${owner.toolchain.version} is declared but not installed: run "qm install"`);
    }
    const names = process.platform === 'win32' ? [`${program}.exe`, `${program}.cmd`, program] : [program];
    for (const dir of owner.installed.binPaths) {
      for (const name of names) {
        const candidate = path.join(dir, name);
        try {
          await fs.access(candidate);
          context.write(context.flags.json ? `${JSON.stringify({ program, path: candidate, tool: owner.toolchain.tool, version: owner.toolchain.version })}\n` : `${candidate}\n`);
          return 0;
        } catch {
          // Next.
        }
      }
    }
    throw new QmError('ENOTINSTALLED', `${owner.toolchain.tool} ${owner.toolchain.version} has no ${program} in ${owner.installed.binPaths.join(', ')}`);
  },
};
