import type { InstalledTool, JobProgress, RemoteVersion, ResolvedTool, WireError } from '../shared/protocol';
import type { CoordinatorLink } from './coordinator-link';
import { RefreshingValue, type RefreshPolicy } from './refreshing-value';

export interface ToolchainViewOptions {
  now?: () => number;
  /** How long an answer is trusted before the next read asks again. Default ten minutes. */
  maxAgeMs?: number;
  /** How soon a failed request may be retried. Default thirty seconds. */
  retryMs?: number;
  /** How many (tool, spec) resolutions to remember; the least recently read go first. */
  maxResolutions?: number;
}

/** What changed: data (versions, resolutions, installs) or only a running job's progress. */
export type ViewChange = 'data' | 'progress';

const TERMINAL_PHASES = new Set<JobProgress['phase']>(['done', 'failed', 'cancelled']);

/**
 * The server's view of the coordinator's answers: versions per tool, resolutions per (tool, spec),
 * the installed set, and the jobs under way. Nothing here is a cache of indexes or installs: each
 * entry is the coordinator's last answer, asked for again when old, when a job ends or when the
 * client says installs changed. Reads never wait; listeners hear when fresher answers arrive.
 */
export class ToolchainView {
  private readonly policy: RefreshPolicy;
  private readonly versionLists = new Map<string, RefreshingValue<RemoteVersion[]>>();
  private readonly resolutions = new Map<string, RefreshingValue<ResolvedTool>>();
  private readonly installedList: RefreshingValue<InstalledTool[]>;
  private readonly jobs = new Map<string, JobProgress>();
  private readonly listeners = new Set<(change: ViewChange) => void>();
  private readonly maxResolutions: number;
  private pending: ViewChange | undefined;

  constructor(private readonly link: CoordinatorLink, options: ToolchainViewOptions = {}) {
    this.policy = { now: options.now ?? Date.now, maxAgeMs: options.maxAgeMs ?? 10 * 60_000, retryMs: options.retryMs ?? 30_000 };
    this.maxResolutions = options.maxResolutions ?? 256;
    this.installedList = new RefreshingValue(() => link.listInstalled(), this.policy, () => this.changed('data'));
    link.onProgress((progress) => this.applyProgress(progress));
    link.onInstalledChanged(() => this.installedList.refresh());
  }

  /** Every release of `tool`, newest first, as last heard; undefined until the first answer. */
  versions(tool: string): RemoteVersion[] | undefined {
    return this.versionsOf(tool).read();
  }

  /** Why the versions of `tool` could not be listed, if the last attempt failed. */
  versionsError(tool: string): WireError | undefined {
    return this.versionLists.get(tool)?.error;
  }

  /** What `tool = spec` resolves to, or why it does not (ENOVERSION: no release matches). */
  resolution(tool: string, spec: string): { resolved?: ResolvedTool; error?: WireError; loading: boolean } {
    const key = `${tool}\0${spec}`;
    let entry = this.resolutions.get(key);
    if (entry) {
      this.resolutions.delete(key); // re-inserted below: Map order is recency
    } else {
      entry = new RefreshingValue(() => this.resolveOne(tool, spec), this.policy, () => this.changed('data'));
      this.evictResolutions();
    }
    this.resolutions.set(key, entry);
    const resolved = entry.read();
    return { ...(resolved ? { resolved } : {}), ...(entry.error ? { error: entry.error } : {}), loading: entry.loading };
  }

  /**
   * Whether `tool` `version` is installed for `platform` (the provider's spelling; any platform
   * when undefined). Undefined while the installed set is unknown.
   */
  isInstalled(tool: string, version: string, platform?: string): boolean | undefined {
    const installed = this.installedList.read();
    if (installed === undefined) return undefined;
    return installed.some((t) => t.tool === tool && t.version === version && (platform === undefined || t.platform === platform));
  }

  /** The installed set as last heard (a new array after each answer), refreshing it when due. */
  installed(): readonly InstalledTool[] | undefined {
    return this.installedList.read();
  }

  /** The job under way for `tool` `version`, whoever asked for it. */
  progress(tool: string, version: string): JobProgress | undefined {
    return this.jobs.get(`${tool}@${version}`);
  }

  /** Installs changed: ask for the installed set again (after any request already under way). */
  installedChanged(): void {
    this.installedList.refresh();
  }

  onDidChange(listener: (change: ViewChange) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private versionsOf(tool: string): RefreshingValue<RemoteVersion[]> {
    let entry = this.versionLists.get(tool);
    if (!entry) {
      entry = new RefreshingValue(() => this.link.listRemote(tool), this.policy, () => this.changed('data'));
      this.versionLists.set(tool, entry);
    }
    return entry;
  }

  private async resolveOne(tool: string, spec: string): Promise<ResolvedTool> {
    const [resolved] = await this.link.resolve([{ name: tool, spec }]);
    if (!resolved) throw Object.assign(new Error(`The coordinator resolved nothing for ${tool} "${spec}"`), { code: 'ECOORDINATOR' });
    return resolved;
  }

  private evictResolutions(): void {
    while (this.resolutions.size >= this.maxResolutions) {
      const oldest = this.resolutions.keys().next();
      if (oldest.done === true) return;
      this.resolutions.delete(oldest.value);
    }
  }

  private applyProgress(progress: JobProgress): void {
    const key = `${progress.tool}@${progress.version}`;
    if (!TERMINAL_PHASES.has(progress.phase)) {
      this.jobs.set(key, progress);
      this.changed('progress');
      return;
    }
    // Only the job that reported forgets its row: another job may still be on the same toolchain.
    if (this.jobs.get(key)?.jobId === progress.jobId) this.jobs.delete(key);
    if (progress.phase === 'done') this.installedList.refresh();
    this.changed('progress');
  }

  /** Listeners hear once per turn of the event loop, however many answers arrived in it. */
  private changed(change: ViewChange): void {
    const first = this.pending === undefined;
    if (this.pending !== 'data') this.pending = change;
    if (!first) return;
    setImmediate(() => {
      const what = this.pending ?? change;
      this.pending = undefined;
      for (const listener of [...this.listeners]) listener(what);
    });
  }
}
