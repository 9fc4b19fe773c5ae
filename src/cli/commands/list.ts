import { QmError } from '../../core/errors';
import { providerFor } from '../../core/providers/registry';
import type { Command } from '../command';
import { formatSize } from '../../shared/size';
import { directorySize } from '../../core/store/disk-usage';

export const listCommand: Command = {
  name: 'list',
  summary: 'List installed toolchains, or the versions a tool offers (--remote)',
  usage: 'qm list [--installed] | qm list --remote <tool>',
  options: { installed: { type: 'boolean' }, remote: { type: 'string' } },
  async run(context, args) {
    const remote = args.values.remote as string | undefined;
    if (remote !== undefined && args.values.installed) throw new QmError('EUSAGE', '--installed and --remote cannot be combined');
    const installed = await context.core.installer.list();
    if (remote !== undefined) {
      const provider = providerFor(context.core.providers, remote);
      const releases = await provider.releases({ signal: context.signal });
      const platform = provider.layout(context.platform).platform;
      const here = new Set(installed.filter((t) => t.tool === remote && t.platform === platform).map((t) => t.version));
      const newest = releases.find((r) => !r.prerelease)?.version;
      if (context.flags.json) {
        context.json(releases.map((r) => ({ version: r.version, date: r.date ?? null, lts: r.lts, prerelease: r.prerelease, installed: here.has(r.version), latest: r.version === newest })));
        return 0;
      }
      for (const release of releases) {
        const marks = [release.lts ? `LTS ${release.lts}` : '', release.version === newest ? 'latest' : '', here.has(release.version) ? 'installed' : '', release.prerelease ? 'prerelease' : '']
          .filter(Boolean)
          .join(', ');
        context.write(`${release.version.padEnd(16)} ${(release.date ?? '').padEnd(10)}  ${marks}\n`);
      }
      return 0;
    }
    const rows = await Promise.all(installed.map(async (t) => ({ ...t, bytes: await directorySize(t.dir) })));
    rows.sort((a, b) => a.tool.localeCompare(b.tool) || b.version.localeCompare(a.version, undefined, { numeric: true }));
    if (context.flags.json) {
      context.json(rows.map((r) => ({ tool: r.tool, version: r.version, platform: r.platform, dir: r.dir, bytes: r.bytes, installedAt: r.receipt.installedAt })));
      return 0;
    }
    if (rows.length === 0) context.write(`no toolchains installed in ${context.core.layout.root}\n`);
    const width = (pick: (row: (typeof rows)[number]) => string, least: number): number => Math.max(least, ...rows.map((row) => pick(row).length));
    const [tool, version, platform] = [width((r) => r.tool, 5), width((r) => r.version, 14), width((r) => r.platform, 14)];
    for (const row of rows) context.write(`${row.tool.padEnd(tool)} ${row.version.padEnd(version)} ${row.platform.padEnd(platform)} ${formatSize(row.bytes).padStart(10)}  ${row.dir}\n`);
    return 0;
  },
};
