import type { PlanEvent } from '../core/install/install-plan';
import type { JobProgress } from '../shared/protocol';
import { formatSize } from '../shared/size';
import { formatDuration, progressBar } from './format';

/** One line of progress, whether the work runs here or in the coordinator. */
export interface ProgressRow {
  label: string;
  phase: string;
  received: number;
  total: number | undefined;
  bytesPerSecond: number;
  waitingFor?: { pid: number; host: string; purpose: string; since?: string };
}

export function rowFromPlanEvent(event: PlanEvent): ProgressRow {
  if (event.kind === 'artifact') {
    const p = event.progress;
    return { label: `artifact ${event.name}`, phase: p.state, received: p.received, total: p.total, bytesPerSecond: p.bytesPerSecond, ...(p.waitingFor ? { waitingFor: p.waitingFor } : {}) };
  }
  const { progress } = event;
  const download = progress.download;
  const owner = progress.waitingFor ?? download?.waitingFor;
  const waiting = progress.phase === 'waiting' || download?.state === 'waiting';
  return {
    label: `${event.name} ${event.version}`,
    phase: waiting && progress.phase !== 'done' ? 'waiting' : progress.phase,
    received: download?.received ?? 0,
    total: download?.total,
    bytesPerSecond: download?.bytesPerSecond ?? 0,
    ...(owner ? { waitingFor: owner } : {}),
  };
}

export function rowFromJob(progress: JobProgress): ProgressRow {
  return {
    label: `${progress.tool} ${progress.version}`,
    phase: progress.phase,
    received: progress.received,
    total: progress.total,
    bytesPerSecond: progress.bytesPerSecond,
    ...(progress.waitingFor ? { waitingFor: progress.waitingFor } : {}),
  };
}

/** How `qm install` shows its work: bars on a TTY, a line per change otherwise, JSON for scripts. */
export interface ProgressView {
  update(row: ProgressRow): void;
  done(): void;
}

export function createProgressView(stream: NodeJS.WritableStream & { columns?: number }, mode: 'tty' | 'plain' | 'json'): ProgressView {
  if (mode === 'json') return new JsonView(stream);
  if (mode === 'tty') return new TtyView(stream);
  return new PlainView(stream);
}

export function waitingText(owner: ProgressRow['waitingFor']): string {
  return owner ? `waiting for pid ${owner.pid} on ${owner.host} (${owner.purpose}${owner.since ? `, since ${owner.since}` : ''})` : 'waiting for another process';
}

/** The state of one entry in words and, while bytes flow, a bar with rate and ETA. */
function describe(row: ProgressRow, width: number): string {
  if (row.phase === 'waiting') return waitingText(row.waitingFor);
  if (row.phase === 'downloading') {
    const { total, bytesPerSecond: rate, received } = row;
    const eta = total !== undefined && rate > 0 ? formatDuration((total - received) / rate) : '--';
    const amount = total !== undefined ? `${formatSize(received)}/${formatSize(total)}` : formatSize(received);
    const bar = total && width > 0 ? `${progressBar(received / total, width)} ` : '';
    return `${bar}${amount}  ${formatSize(rate)}/s  ETA ${eta}`;
  }
  return row.phase;
}

class TtyView implements ProgressView {
  private readonly rows = new Map<string, ProgressRow>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stream: NodeJS.WritableStream & { columns?: number }) {}

  update(row: ProgressRow): void {
    this.rows.set(row.label, row);
    // Redraw at most ten times a second, however fast events come.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.rows.size > 0) this.draw();
  }

  private draw(): void {
    const width = Math.max(...[...this.rows.keys()].map((k) => k.length), 8);
    const columns = this.stream.columns || 100;
    const lines = [...this.rows.values()].map((row) => `${row.label.padEnd(width)}  ${describe(row, 24)}`.slice(0, columns - 1));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.stream.write(`${up}${lines.map((line) => `\r\x1b[2K${line}`).join('\n')}\n`);
    this.drawn = lines.length;
  }
}

class PlainView implements ProgressView {
  private readonly last = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(row: ProgressRow): void {
    // One line per change of phase (and per new holder while waiting), not per chunk.
    const text = row.phase === 'downloading' ? 'downloading' : describe(row, 0);
    if (this.last.get(row.label) === text) return;
    this.last.set(row.label, text);
    this.stream.write(`${row.label}: ${text}\n`);
  }

  done(): void {
    // Every line is already out.
  }
}

class JsonView implements ProgressView {
  private readonly last = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(row: ProgressRow): void {
    if (row.phase === 'downloading' && this.last.get(row.label) === row.phase) return;
    this.last.set(row.label, row.phase);
    this.stream.write(`${JSON.stringify({ type: 'progress', progress: row })}\n`);
  }

  done(): void {
    // Every event is already out.
  }
}
