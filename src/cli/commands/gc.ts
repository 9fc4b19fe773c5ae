import { QmError } from '../../core/errors';
import { collectGarbage } from '../../core/maintenance/gc';
import { gcReport } from '../../core/maintenance/gc-report';
import type { Command } from '../command';

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
    const report = gcReport(result, dryRun);
    context.write(`${report.headline}\n`);
    for (const line of report.lines) context.write(`${line}\n`);
    return 0;
  },
};
