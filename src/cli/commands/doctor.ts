import { diagnose } from '../../core/maintenance/doctor';
import { checkOtherHost, findOtherHostTemps, removeOtherHostTemps } from '../../core/maintenance/other-hosts';
import { QmError } from '../../core/errors';
import type { Command } from '../command';
import { formatSize } from '../../shared/size';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check the cache: sizes, leftovers, stale locks and who holds what',
  usage: 'qm doctor [--verify] [--fix [--host NAME]]',
  options: { verify: { type: 'boolean' }, fix: { type: 'boolean' }, host: { type: 'string' } },
  async run(context, args) {
    const host = args.values.host as string | undefined;
    if (host !== undefined && !args.values.fix) throw new QmError('EUSAGE', '--host goes with --fix: "qm doctor --fix --host NAME" removes the temp files host NAME left in a shared QM_HOME');
    if (host !== undefined) checkOtherHost(host);
    const recovered = args.values.fix ? await context.core.manager.recover() : undefined;
    const removedOther = args.values.fix ? await removeOtherHostTemps(context.core.layout, context.core.locks, host !== undefined ? { host } : {}) : [];
    const report = await diagnose(context.core, { verify: args.values.verify === true });
    const otherHosts = { temps: await findOtherHostTemps(context.core.layout, context.core.locks), removed: removedOther };
    if (context.flags.json) {
      context.json({ ...report, recovered: recovered ?? null, otherHosts });
    } else {
      context.write(`QM_HOME     ${report.home}${report.writable ? '' : ' (not writable)'}\n`);
      context.write(`toolchains  ${report.toolchains.count}, ${formatSize(report.toolchains.bytes)}\n`);
      context.write(`downloads   ${report.blobs.count}, ${formatSize(report.blobs.bytes)}\n`);
      context.write(`temp files  ${report.temps.live.length} in use, ${report.temps.orphaned.length} orphaned\n`);
      context.write(`locks       ${report.locks.length} held\n`);
      if (recovered) context.write(`fixed       removed ${recovered.tempsRemoved.length} orphaned temp file(s), ${recovered.locksRemoved} stale lock(s), ${removedOther.length} of other hosts\n`);
      for (const finding of report.findings) context.write(`${finding.severity === 'ok' ? 'ok  ' : finding.severity === 'warning' ? 'warn' : 'FAIL'}  ${finding.message}\n`);
      for (const [name, count] of countByHost(otherHosts.temps)) {
        const flag = name.startsWith('host tag ') ? '--host <its name>' : `--host ${name}`;
        context.write(`info  ${count} temp file(s) of ${name}, another host sharing this QM_HOME: "qm doctor --fix" removes them after a day, "qm doctor --fix ${flag}" at once if that host is gone\n`);
      }
    }
    return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};

function countByHost(temps: Array<{ host: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const temp of temps) counts.set(temp.host, (counts.get(temp.host) ?? 0) + 1);
  return counts;
}
