import { QmError } from '../../core/errors';
import { collectGarbage } from '../../core/maintenance/gc';
import type { Command } from '../command';
import { formatSize } from '../../shared/size';

export const gcCommand: Command = {
  name: 'gc',
  summary: 'Remove toolchains and downloads no recently used manifest refers to',
  usage: 'qm gc [--dry-run] [--max-age-days N]',
  options: { 'dry-run': { type: 'boolean' }, 'max-age-days': { type: 'string' } },
  async run(context, args) {
    const raw = args.values['max-age-days'] as string | undefined;
    const maxAgeDays = raw === undefined ? 30 : Number(raw);
    if (!Number.isFinite(maxAgeDays) || maxAgeDays < 0) throw new QmError('EUSAGE', `--max-age-days takes a number of days, not "${raw}"`);
    const dryRun = args.values['dry-run'] === true;
    const result = await collectGarbage(context.core, { maxAgeDays, dryRun });
    if (context.flags.json) {
      context.json({ dryRun, ...result });
      return 0;
    }
    const freed = result.removed.reduce((sum, item) => sum + item.bytes, 0);
    for (const item of result.removed) context.write(`${dryRun ? 'would remove' : 'removed'} ${item.label}  ${formatSize(item.bytes)}\n`);
    for (const item of result.busy) context.write(`skipped ${item.label}: ${item.reason ?? 'in use'}\n`);
    context.write(`${dryRun ? 'would free' : 'freed'} ${formatSize(freed)}; kept ${result.keptToolchains} toolchain(s) and ${result.keptBlobs} download(s) used by ${result.manifests.length} manifest(s)\n`);
    return 0;
  },
};
