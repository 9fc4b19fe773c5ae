import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ArchiveKind } from '../archive';
import type { DownloadProgress } from '../download-manager';
import type { ByteTee } from '../fetch/types';
import { QmError } from '../errors';
import type { ResolvedToolchain } from '../providers/types';
import { writeFileAtomic } from '../store/atomic-write';

/** One archive of a toolchain: the resolved one or its alternative. */
export interface ArchiveCandidate {
  url: string;
  sha256: string;
  archive: ArchiveKind;
  size?: number;
}

/**
 * Below this link speed a .tar.xz installs sooner than a .tar.gz. A Node.js .tar.xz is ~55 % of
 * the .tar.gz, but decoding it costs ~2.5 s of one core for a 190 MB tree (about 12-20 MB/s of
 * compressed input on current x64) against ~0.5 s for gzip. The xz transfer overlaps the decoding,
 * so xz wins once the .tar.gz alone takes longer to arrive than xz takes to decode:
 * S_gz / B > S_xz / R_xz, i.e. B < (S_gz / S_xz) × R_xz ≈ 1.8 × 13..20 MB/s. The lower end is
 * taken: on a link faster than this, gzip is never the slower choice by much.
 */
export const XZ_BELOW_BYTES_PER_SECOND = 24 * 1024 * 1024;

/** A measured speed older than this says little about today's link. */
const HISTORY_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Rate windows shorter than this are noise (progress comes about every 100 ms). */
const MIN_WINDOW_MS = 80;
/** A steady rate is trusted after this long; TCP's slow start is over by then on most links. */
const STEADY_AFTER_MS = 250;
/** A rate still growing is taken as it is after this long. */
const DECIDE_BY_MS = 1000;
/** Smaller archives are fetched as resolved: too short to measure a link on, too small for the choice to matter. */
const MIN_CHOICE_BYTES = 16 * 1024 * 1024;
/** Switching throws away what arrived: not past half of the transfer. */
const MAX_SWITCH_FRACTION = 0.5;
/**
 * A slow rate is the link's only if this process was mostly waiting for bytes: when its main thread
 * waited this share of the time for a CPU, or the extractor held the download back this long,
 * the rate says that CPU is short, and xz (the CPU-hungry choice) would only be slower.
 */
const MAX_BUSY_SHARE = 0.25;

interface LinkRecord {
  bytesPerSecond: number;
  at: string;
}

/** The last measured download speed per host, in QM_HOME/state: best effort, never an error. */
export class LinkHistory {
  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  async speedOf(url: string): Promise<number | undefined> {
    const record = (await this.read())[hostOf(url)];
    if (record === undefined || !(record.bytesPerSecond > 0)) return undefined;
    const age = this.now() - Date.parse(record.at);
    return age >= 0 && age < HISTORY_MAX_AGE_MS ? record.bytesPerSecond : undefined;
  }

  async record(url: string, bytesPerSecond: number): Promise<void> {
    try {
      const records = await this.read();
      records[hostOf(url)] = { bytesPerSecond: Math.round(bytesPerSecond), at: new Date(this.now()).toISOString() };
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, `${JSON.stringify(records, null, 2)}\n`, { action: 'record the link speed in' });
    } catch {
      // A lost record only costs the next install its head start.
    }
  }

  private async read(): Promise<Record<string, LinkRecord>> {
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(this.file, 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, LinkRecord>) : {};
    } catch {
      return {};
    }
  }
}

export interface ChoiceContext {
  history: LinkHistory;
  /** Whether a blob is already stored (then that archive costs nothing to fetch). */
  stored(sha256: string): Promise<boolean>;
  now?: () => number;
  /** Milliseconds this process's main thread has waited for a CPU so far; default from /proc/self/schedstat. */
  cpuWait?: () => number | undefined;
}

/** Run-queue wait of the main thread (Linux); undefined where the kernel does not say. */
export function schedulerWaitMs(): number | undefined {
  try {
    const wait = Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);
    return Number.isFinite(wait) ? wait / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which of a toolchain's archives to fetch: one already stored; else the one the link's last
 * measured speed favours; else the resolved one, watched while it downloads. Once the rate is
 * known (steady, or clearly above the threshold) a transfer of the costlier kind is dropped, at
 * most once and never past half way, and the other archive fetched instead. The measured speed
 * is kept for the next install from that host.
 */
export class ArchiveChoice {
  private readonly switchReason = new QmError('ECANCELLED', 'Switching to the archive that is cheaper on this link');
  private decided = false;
  private recording: Promise<void> = Promise.resolve();
  private switchedOnce = false;
  private readonly now: () => number;
  private readonly cpuWait: () => number | undefined;
  /** Time the download spent waiting for the extractor to take its bytes. */
  private teeWaitMs = 0;

  private constructor(
    private readonly candidates: ArchiveCandidate[],
    public current: ArchiveCandidate,
    private readonly history: LinkHistory,
    private watching: boolean,
    context: ChoiceContext,
  ) {
    this.now = context.now ?? (() => performance.now());
    this.cpuWait = context.cpuWait ?? schedulerWaitMs;
  }

  static async start(toolchain: ResolvedToolchain, context: ChoiceContext): Promise<ArchiveChoice> {
    const primary: ArchiveCandidate = { url: toolchain.url, sha256: toolchain.sha256, archive: toolchain.archive, ...(toolchain.size !== undefined ? { size: toolchain.size } : {}) };
    const candidates = toolchain.alternative ? [primary, toolchain.alternative] : [primary];
    const make = (current: ArchiveCandidate, watching: boolean): ArchiveChoice => new ArchiveChoice(candidates, current, context.history, watching, context);
    if (candidates.length === 1) return make(primary, false);
    for (const candidate of candidates) {
      if (await context.stored(candidate.sha256)) return make(candidate, false);
    }
    const known = await context.history.speedOf(primary.url);
    const first = known === undefined ? primary : (candidates.find((c) => c.archive === preferredKind(known)) ?? primary);
    return make(first, true);
  }

  /**
   * What to give the download of `current`: a signal that also aborts when this choice switches,
   * and a progress listener that measures the link (and passes every event on).
   */
  watch(parent: AbortSignal | undefined, onProgress: (progress: DownloadProgress) => void): { signal: AbortSignal | undefined; onProgress: (progress: DownloadProgress) => void } {
    if (!this.watching) return { signal: parent, onProgress };
    const controller = new AbortController();
    const signal = parent ? AbortSignal.any([parent, controller.signal]) : controller.signal;
    const meter = new RateWindow(this.now, () => ({ cpuWait: this.cpuWait(), teeWait: this.teeWaitMs }));
    return {
      signal,
      onProgress: (progress) => {
        onProgress(progress);
        const small = progress.total === undefined || progress.total < MIN_CHOICE_BYTES;
        if (!this.decided && progress.state === 'downloading' && small) this.decided = true;
        if (this.decided || progress.state !== 'downloading') {
          if (!this.decided && progress.state === 'verifying') this.finishedUnmeasured(meter, progress);
          return;
        }
        const rate = meter.update(progress.received);
        if (rate === undefined) return;
        this.decided = true;
        // Held back by our own CPU or extractor: not the link's speed, and no reason for xz.
        if (rate < XZ_BELOW_BYTES_PER_SECOND && meter.busyShare() > MAX_BUSY_SHARE) return;
        this.recording = this.history.record(this.current.url, rate);
        const other = this.candidates.find((c) => c.archive === preferredKind(rate));
        const early = progress.total === undefined || progress.received < progress.total * MAX_SWITCH_FRACTION;
        if (other && other !== this.current && !this.switchedOnce && early) controller.abort(this.switchReason);
      },
    };
  }

  /** The tee to give the download: the same, timed, so a download held back by the extractor is not taken for a slow link. */
  observe(tee: ByteTee): ByteTee {
    if (!this.watching) return tee;
    return {
      write: (chunk) => {
        const start = this.now();
        const wait = tee.write(chunk);
        if (wait === undefined) {
          this.teeWaitMs += this.now() - start;
          return undefined;
        }
        return wait.finally(() => (this.teeWaitMs += this.now() - start));
      },
      restart: () => tee.restart(),
    };
  }

  /** Settles once the measured speed is on disk (recording never fails). */
  recorded(): Promise<void> {
    return this.recording;
  }

  /** After a download failed: whether it was this choice dropping it; `current` is then the other archive. */
  switched(error: unknown): boolean {
    if (error !== this.switchReason || this.switchedOnce) return false;
    this.switchedOnce = true;
    this.current = this.candidates.find((c) => c !== this.current)!;
    // The new transfer is not watched: one switch per install, no flapping between the two.
    this.watching = false;
    return true;
  }

  /** A transfer too quick to measure on the way: its overall rate is still worth remembering. */
  private finishedUnmeasured(meter: RateWindow, progress: DownloadProgress): void {
    this.decided = true;
    const rate = meter.overall(progress.received);
    if (rate !== undefined) this.recording = this.history.record(this.current.url, rate);
  }
}

function preferredKind(bytesPerSecond: number): ArchiveKind {
  return bytesPerSecond < XZ_BELOW_BYTES_PER_SECOND ? 'tar.xz' : 'tar.gz';
}

interface Waits {
  cpuWait: number | undefined;
  teeWait: number;
}

/** The download rate over successive windows, from the first body byte. */
class RateWindow {
  private start: { at: number; received: number; waits: Waits } | undefined;
  private previous: { at: number; received: number; rate?: number } | undefined;

  constructor(
    private readonly now: () => number,
    private readonly waits: () => Waits,
  ) {}

  /** The link's rate once it can be told (clearly fast, steady, or after long enough), else undefined. */
  update(received: number): number | undefined {
    const at = this.now();
    if (this.start === undefined) {
      if (received > 0) {
        this.start = { at, received, waits: this.waits() };
        this.previous = { at, received };
      }
      return undefined;
    }
    const previous = this.previous!;
    if (at - previous.at < MIN_WINDOW_MS) return undefined;
    const rate = ((received - previous.received) * 1000) / (at - previous.at);
    this.previous = { at, received, rate };
    const elapsed = at - this.start.at;
    if (rate >= XZ_BELOW_BYTES_PER_SECOND) return rate;
    const steady = previous.rate !== undefined && rate <= previous.rate * 1.25;
    if ((elapsed >= STEADY_AFTER_MS && steady) || elapsed >= DECIDE_BY_MS) return rate;
    return undefined;
  }

  /** The larger share of the time since the first byte spent waiting for a CPU or for the extractor. */
  busyShare(): number {
    if (this.start === undefined) return 0;
    const elapsed = this.now() - this.start.at;
    if (!(elapsed > 0)) return 0;
    const waits = this.waits();
    const cpu = waits.cpuWait !== undefined && this.start.waits.cpuWait !== undefined ? waits.cpuWait - this.start.waits.cpuWait : 0;
    return Math.max(cpu, waits.teeWait - this.start.waits.teeWait) / elapsed;
  }

  overall(received: number): number | undefined {
    if (this.start === undefined) return undefined;
    const elapsed = this.now() - this.start.at;
    return elapsed > 0 ? ((received - this.start.received) * 1000) / elapsed : undefined;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
