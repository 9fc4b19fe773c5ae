import type { PlanEvent } from '../core/install/install-plan';
import type { LockOwner } from '../core/store/locks';
import { formatBytes, formatDuration, progressBar } from './format';

interface Row {
  label: string;
  text: string;
}

/** How `qm install` shows its work: bars on a TTY, a line per change otherwise, JSON for scripts. */
export interface ProgressView {
  update(event: PlanEvent): void;
  done(): void;
}

export function createProgressView(stream: NodeJS.WriteStream | NodeJS.WritableStream, mode: 'tty' | 'plain' | 'json'): ProgressView {
  if (mode === 'json') return new JsonView(stream);
  if (mode === 'tty') return new TtyView(stream as NodeJS.WriteStream);
  return new PlainView(stream);
}

function labelOf(event: PlanEvent): string {
  return event.kind === 'tool' ? `${event.name} ${event.version}` : `artifact ${event.name}`;
}

function waitingText(owner: LockOwner | undefined): string {
  return owner ? `waiting for pid ${owner.pid} on ${owner.host} (${owner.purpose}, since ${owner.since})` : 'waiting for another process';
}

/** The state of one entry as words and, while bytes flow, a bar with rate and ETA. */
function describe(event: PlanEvent, width: number): string {
  const download = event.kind === 'tool' ? event.progress.download : event.progress;
  const phase = event.kind === 'tool' ? event.progress.phase : event.progress.state;
  if (phase === 'waiting') {
    const owner = event.kind === 'tool' ? (event.progress.waitingFor ?? download?.waitingFor) : event.progress.waitingFor;
    return waitingText(owner);
  }
  if (download && download.state === 'waiting') return waitingText(download.waitingFor);
  if (download && download.state === 'downloading') {
    const total = download.total;
    const rate = download.bytesPerSecond;
    const eta = total !== undefined && rate > 0 ? formatDuration((total - download.received) / rate) : '--';
    const amount = total !== undefined ? `${formatBytes(download.received)}/${formatBytes(total)}` : formatBytes(download.received);
    const bar = total ? `${progressBar(download.received / total, width)} ` : '';
    return `${bar}${amount}  ${formatBytes(rate)}/s  ETA ${eta}`;
  }
  return phase === 'done' ? 'done' : phase;
}

class TtyView implements ProgressView {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(event: PlanEvent): void {
    const label = labelOf(event);
    this.rows.set(label, { label, text: describe(event, 24) });
    // Redraw at most ten times a second, however fast events come.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draw();
  }

  private draw(): void {
    const width = Math.max(...[...this.rows.keys()].map((k) => k.length), 8);
    const columns = this.stream.columns || 100;
    const lines = [...this.rows.values()].map((row) => `${row.label.padEnd(width)}  ${row.text}`.slice(0, columns - 1));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.stream.write(`${up}${lines.map((line) => `\r\x1b[2K${line}`).join('\n')}\n`);
    this.drawn = lines.length;
  }
}

class PlainView implements ProgressView {
  private readonly last = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(event: PlanEvent): void {
    const label = labelOf(event);
    const phase = event.kind === 'tool' ? event.progress.phase : event.progress.state;
    // One line per change of phase (and per new holder while waiting), not per chunk.
    const text = phase === 'downloading' ? 'downloading' : describe(event, 0);
    if (this.last.get(label) === text) return;
    this.last.set(label, text);
    this.stream.write(`${label}: ${text}\n`);
  }

  done(): void {
    // Every line is already out.
  }
}

class JsonView implements ProgressView {
  private readonly last = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(event: PlanEvent): void {
    const label = labelOf(event);
    const phase = event.kind === 'tool' ? event.progress.phase : event.progress.state;
    if (phase === 'downloading' && this.last.get(label) === phase) return;
    this.last.set(label, phase);
    this.stream.write(`${JSON.stringify({ type: 'progress', ...event })}\n`);
  }

  done(): void {
    // Every event is already out.
  }
}
