import { QmError } from '../../core/errors';
import { uninstallToolchain } from '../../core/maintenance/uninstall';
import { selectVersion } from '../../core/resolve/version-spec';
import type { Command } from '../command';
import { formatSize } from '../../shared/size';
import { parseToolArg } from '../tool-args';

export const uninstallCommand: Command = {
  name: 'uninstall',
  summary: 'Remove installed toolchains from the shared cache',
  usage: 'qm uninstall tool@version [tool@version ...]   (e.g. qm uninstall node@20.18.1)',
  options: {},
  async run(context, args) {
    if (args.positionals.length === 0) throw new QmError('EUSAGE', 'qm uninstall needs at least one tool@version, e.g. qm uninstall node@20.18.1');
    const requests = args.positionals.map((arg) => ({ arg, ...parseToolArg(arg) }));
    const installed = await context.core.installer.list();
    // Every argument is matched before anything is removed: a typo in the second removes nothing.
    const targets = requests.map(({ arg, name, spec }) => {
      const ofTool = installed.filter((t) => t.tool === name);
      const matches = ofTool.filter((t) => selectVersion(spec, [{ version: t.version }]) !== undefined);
      if (matches.length === 0) {
        const present = ofTool.map((t) => t.version).join(', ') || 'none';
        throw new QmError('ENOTINSTALLED', `No installed ${name} matches "${arg}" (installed: ${present})`);
      }
      if (matches.length > 1) {
        throw new QmError('EUSAGE', `"${arg}" matches ${matches.length} installed versions (${matches.map((t) => t.version).join(', ')}): name one exactly`);
      }
      return matches[0]!;
    });
    const removed = [];
    for (const target of targets) {
      const result = await uninstallToolchain(context.core, target);
      removed.push({ tool: target.tool, version: target.version, platform: target.platform, dir: result.dir, bytes: result.bytes });
      if (!context.flags.json) context.write(`removed ${target.tool} ${target.version} (${target.platform})  ${formatSize(result.bytes)}\n`);
    }
    if (context.flags.json) context.json({ removed });
    return 0;
  },
};
