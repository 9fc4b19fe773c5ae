import { formatSize } from '../../shared/size';
import { gcFigures, type GcItem, type GcResult } from './gc';

/** How `qm gc` and Clean Up Unused say what went and what stayed: the same figures, the same words. */
export interface GcReport {
  /** "Frees 33.6 MiB of the 117 MiB cache (83.4 MiB left)". */
  headline: string;
  /** What is (or would be) removed, one line each, then what is kept and why, by group; they add up to the cache. */
  lines: string[];
}

export function gcReport(result: GcResult, dryRun: boolean): GcReport {
  const figures = gcFigures(result);
  const left = dryRun ? result.cacheBytes - figures.freed : result.cacheBytesAfter;
  const headline = result.removed.length === 0
    ? `Nothing to remove: the ${formatSize(figures.total)} cache is all kept`
    : `${dryRun ? 'Frees' : 'Freed'} ${formatSize(figures.freed)} of the ${formatSize(figures.total)} cache (${formatSize(left)} left)`;
  const lines: string[] = [];
  if (result.removed.length > 0) {
    lines.push(`${dryRun ? 'Removes' : 'Removed'} ${count(result.removed.length, 'item')}, ${formatSize(figures.freed)}:`);
    for (const item of result.removed) lines.push(`  ${item.label}  ${formatSize(item.bytes)}`);
  }
  const used = result.kept.filter((item) => item.because === 'used');
  const recent = result.kept.filter((item) => item.because === 'recent');
  lines.push(`Keeps ${formatSize(figures.total - figures.freed)}:`);
  const toolchains = used.filter((item) => item.kind === 'toolchain');
  if (toolchains.length > 0) lines.push(`  ${count(toolchains.length, 'toolchain')} a manifest used in the last 30 days needs, ${formatSize(sum(toolchains))}`);
  for (const item of toolchains) lines.push(`    ${item.label}: ${item.reason}`);
  const archives = used.filter((item) => item.kind === 'blob');
  if (archives.length > 0) lines.push(`  ${count(archives.length, 'download')} of those toolchains, artifacts or qm.lock entries, ${formatSize(sum(archives))}`);
  if (recent.length > 0) lines.push(`  ${count(recent.length, 'download')} ${recent[0]!.reason.replace(/^downloaded/, 'fetched')}, ${formatSize(figures.recent)}; a later clean-up removes ${recent.length === 1 ? 'it' : 'them'} if still unused`);
  if (result.busy.length > 0) lines.push(`  ${count(result.busy.length, 'item')} in use right now, left alone this time, ${formatSize(figures.busy)}`);
  for (const item of result.busy) lines.push(`    left ${item.label}: ${item.reason ?? 'in use'}`);
  lines.push(`  indexes, state and partial downloads, ${formatSize(figures.other)}`);
  return { headline, lines };
}

function sum(items: readonly GcItem[]): number {
  return items.reduce((total, item) => total + item.bytes, 0);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
