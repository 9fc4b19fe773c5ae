import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { CoordinatorHost } from '../core/coordinator/host';
import type { Logger } from '../core/log';
import type { InstallResult, JobProgress, Requester, ToolSpec } from '../shared/protocol';
import { combinedProgress, progressFigures, type ProgressFigures } from '../shared/progress';

export interface JobRequest {
  /** What the user sees: "Installing node 22.12.0". */
  title: string;
  kind: Requester['kind'];
  tools: ToolSpec[];
  /** User-started jobs get a notification with Cancel; background ones show in the status bar only. */
  notify: boolean;
  /** A job id chosen by the requester (the language server has its own); default a fresh one. */
  jobId?: string;
  signal?: AbortSignal;
}

/** Every download the coordinator reports, whoever asked (this window, another one, a `qm` in a terminal). */
export interface DownloadRow extends JobProgress {
  /** True when this window started the job (and can cancel it). */
  ours: boolean;
}

const FINISHED = new Set<JobProgress['phase']>(['done', 'failed', 'cancelled']);

/**
 * The window's side of the coordinator's jobs: starts installs with a progress notification
 * and a Cancel button for the ones a person started, keeps what every job is doing for the
 * status bar and the Toolchains view, and cancels this window's jobs on request.
 */
export class Jobs implements vscode.Disposable {
  private readonly controllers = new Map<string, AbortController>();
  private readonly rows = new Map<string, DownloadRow>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: Array<{ dispose(): void }>;
  private idleWaiters: Array<() => void> = [];
  /** tool@version reported installed by a job, until a manifest refresh shows it installed. */
  private readonly justInstalled = new Set<string>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly host: CoordinatorHost, private readonly logger: Logger) {
    this.subscriptions = [
      host.onProgress((progress) => this.record(progress)),
      // A coordinator that went away reports nothing more about its jobs: forget them.
      host.onRoleChange(() => this.forgetReported()),
    ];
  }

  /** Downloads and installs in flight, any requester's. */
  active(): DownloadRow[] {
    return [...this.rows.values()];
  }

  /**
   * What is in flight, by the one progress model (src/shared/progress.ts): one download shows
   * exactly the percent its code lens and its row in the Toolchains view show.
   */
  summary(): (ProgressFigures & { count: number; label: string }) | undefined {
    const rows = this.active();
    const figures = combinedProgress(rows);
    if (!figures) return undefined;
    const label = rows.map((r) => (r.version ? `${r.tool} ${r.version}` : r.tool)).join(', ');
    return { ...figures, count: rows.length, label };
  }

  /** Whether a job just reported this toolchain installed and no manifest refresh has shown it yet. */
  arrived(tool: string, version: string | undefined): boolean {
    return this.justInstalled.has(`${tool}@${version}`);
  }

  /** A refresh shows it installed: forgotten, so a later uninstall shows as missing again. */
  seenInstalled(tool: string, version: string | undefined): void {
    this.justInstalled.delete(`${tool}@${version}`);
  }

  /** This window's running jobs. */
  get running(): number {
    return this.controllers.size;
  }

  async run(request: JobRequest): Promise<InstallResult> {
    const jobId = request.jobId ?? `vscode-${process.pid}-${randomBytes(4).toString('hex')}`;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    request.signal?.addEventListener('abort', abort, { once: true });
    this.controllers.set(jobId, controller);
    const params = { jobId, requester: { kind: request.kind, pid: process.pid, label: request.title }, tools: request.tools };
    this.logger.info(`Job ${jobId} (${request.kind}): ${request.title}`);
    try {
      if (!request.notify) return await this.host.install(params, controller.signal);
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: request.title, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(abort);
          let shown = 0;
          const listener = this.host.onProgress((p) => {
            if (p.jobId !== jobId) return;
            const percent = this.jobPercent(jobId);
            const message = describe(p);
            const increment = percent !== undefined && percent > shown ? percent - shown : undefined;
            if (increment !== undefined) shown = percent!;
            progress.report({ message, ...(increment !== undefined ? { increment } : {}) });
          });
          try {
            return await this.host.install(params, controller.signal);
          } finally {
            listener.dispose();
          }
        },
      );
    } finally {
      request.signal?.removeEventListener('abort', abort);
      this.controllers.delete(jobId);
      this.changed.fire();
      this.checkIdle();
    }
  }

  /** Cancels every job this window started; returns how many. Other processes' jobs are theirs to cancel. */
  cancelAll(): number {
    const count = this.controllers.size;
    for (const controller of this.controllers.values()) controller.abort();
    return count;
  }

  /** Cancels one job this window started; false when it is not ours (or already over). */
  cancel(jobId: string): boolean {
    const controller = this.controllers.get(jobId);
    controller?.abort();
    return controller !== undefined;
  }

  /** Resolves when this window runs no job and no download is reported in flight. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    this.cancelAll();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }

  /** One job's rows in flight, by the same model. */
  private jobPercent(jobId: string): number | undefined {
    return combinedProgress(this.active().filter((row) => row.jobId === jobId))?.percent;
  }

  private record(progress: JobProgress): void {
    const key = `${progress.jobId}\0${progress.tool}`;
    if (FINISHED.has(progress.phase)) {
      this.rows.delete(key);
      if (progress.phase === 'done' && progress.version) this.justInstalled.add(`${progress.tool}@${progress.version}`);
      if (progress.phase === 'failed') this.logger.warn(`Job ${progress.jobId}: ${progress.tool} ${progress.version} failed: ${progress.error?.message ?? 'unknown error'}`);
      else this.logger.info(`Job ${progress.jobId}: ${progress.tool} ${progress.version} ${progress.phase}`);
    } else {
      const previous = this.rows.get(key);
      if (previous?.phase !== progress.phase) {
        const who = progress.waitingFor ? ` (waiting for pid ${progress.waitingFor.pid}: ${progress.waitingFor.purpose})` : '';
        this.logger.info(`Job ${progress.jobId} [${progress.requester.kind} ${progress.requester.label}]: ${progress.tool} ${progress.version} ${progress.phase}${who}`);
      }
      // Unpacking and publishing carry no byte counts: the row keeps the size it downloaded.
      const total = progress.total ?? previous?.total;
      this.rows.set(key, { ...progress, ...(total !== undefined ? { total } : {}), ours: this.controllers.has(progress.jobId) });
    }
    this.changed.fire();
    this.checkIdle();
  }

  private forgetReported(): void {
    for (const [key, row] of this.rows) if (!this.controllers.has(row.jobId)) this.rows.delete(key);
    this.changed.fire();
    this.checkIdle();
  }

  private isIdle(): boolean {
    return this.controllers.size === 0 && this.rows.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function describe(progress: JobProgress): string {
  return `${progress.version ? `${progress.tool} ${progress.version}` : progress.tool}: ${progressFigures(progress).text}`;
}

