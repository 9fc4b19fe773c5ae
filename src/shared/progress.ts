import type { JobProgress } from './protocol';
import { formatSize } from './size';

/**
 * The one progress model: what a download's percent and state are, for the status bar, the code
 * lens, the hover, the Toolchains view and the notification alike, so they never disagree.
 * The percent is of the archive's bytes; once the last byte is in (unpacking, publishing) it is 100.
 */
export interface ProgressFigures {
  /** Whole percent of the bytes, when the size is known. */
  percent?: number;
  /** "downloading 39% of 2.0 MiB", "waiting for pid 1234 (download)", "unpacking". */
  text: string;
}

export type ProgressFacts = Pick<JobProgress, 'phase' | 'received' | 'total' | 'waitingFor'>;

export function progressFigures(progress: ProgressFacts): ProgressFigures {
  switch (progress.phase) {
    case 'queued':
      return { text: 'queued' };
    case 'waiting':
      return { text: progress.waitingFor ? `waiting for pid ${progress.waitingFor.pid} (${progress.waitingFor.purpose})` : 'waiting for another download' };
    case 'downloading': {
      const percent = bytePercent(progress.received, progress.total);
      if (percent === undefined) return { text: `downloading ${formatSize(progress.received)}` };
      return { percent, text: `downloading ${percent}% of ${formatSize(progress.total!)}` };
    }
    case 'extracting':
    case 'publishing':
      return { percent: 100, text: 'unpacking' };
    case 'done':
      return { percent: 100, text: 'installed' };
    default:
      return { text: progress.phase };
  }
}

/**
 * Several downloads at once: the percent of all their bytes (the same figures each row shows,
 * summed), known once every size is; with one download, exactly that download's figures.
 */
export function combinedProgress(rows: readonly ProgressFacts[]): ProgressFigures | undefined {
  if (rows.length === 0) return undefined;
  if (rows.length === 1) return progressFigures(rows[0]!);
  let received = 0;
  let total = 0;
  let known = true;
  for (const row of rows) {
    const figures = progressFigures(row);
    if (row.total === undefined || row.total <= 0 || figures.percent === undefined) {
      known = false;
      continue;
    }
    total += row.total;
    received += figures.percent === 100 ? row.total : Math.min(row.received, row.total);
  }
  const text = `${rows.length} downloads`;
  const percent = known ? bytePercent(received, total) : undefined;
  return percent === undefined ? { text } : { percent, text: `${text}, ${percent}% of ${formatSize(total)}` };
}

function bytePercent(received: number, total: number | undefined): number | undefined {
  if (total === undefined || total <= 0) return undefined;
  return Math.floor((Math.min(received, total) / total) * 100);
}
