import { diagnose } from '../../core/maintenance/doctor';
import type { Command } from '../command';
import { formatBytes } from '../format';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check the cache: sizes, leftovers, stale locks and who holds what',
  usage: 'qm doctor [--verify] [--fix]',
  options: { verify: { type: 'boolean' }, fix: { type: 'boolean' } },
  async run(context, args) {
    const recovered = args.values.fix ? await context.core.manager.recover() : undefined;
    const report = await diagnose(context.core, { verify: args.values.verify === true });
    if (context.flags.json) {
      context.json({ ...report, recovered: recovered ?? null });
    } else {
      context.write(`QM_HOME     ${report.home}${report.writable ? '' : ' (not writable)'}\n`);
      context.write(`toolchains  ${report.toolchains.count}, ${formatBytes(report.toolchains.bytes)}\n`);
      context.write(`downloads   ${report.blobs.count}, ${formatBytes(report.blobs.bytes)}\n`);
      context.write(`temp files  ${report.temps.live.length} in use, ${report.temps.orphaned.length} orphaned\n`);
      context.write(`locks       ${report.locks.length} held\n`);
      if (recovered) context.write(`fixed       removed ${recovered.tempsRemoved.length} orphaned temp file(s), ${recovered.locksRemoved} stale lock(s)\n`);
      for (const finding of report.findings) context.write(`${finding.severity === 'ok' ? 'ok  ' : finding.severity === 'warning' ? 'warn' : 'FAIL'}  ${finding.message}\n`);
    }
    return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};
