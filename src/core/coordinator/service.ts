import { EventEmitter } from 'node:events';
import { QmError } from '../errors';
import type { InstalledToolchain } from '../install/installer';
import { installPlan, type PlanEvent } from '../install/install-plan';
import { requireSafeToolRequests } from '../paths/safe-names';
import { platformId, type Platform } from '../platform';
import { lockedToolchain, providerFor } from '../providers/registry';
import type { ProviderRequest, ResolvedToolchain } from '../providers/types';
import { resolvePlan, type Plan } from '../plan/plan';
import type { CoreServices } from '../services';
import { QM_VERSION } from '../version';
import type {
  HelloResult,
  InstalledTool,
  InstallParams,
  InstallResult,
  JobProgress,
  RemoteVersion,
  ResolvedTool,
  StatusResult,
  ToolSpec,
} from '../../shared/protocol';
import { PROTOCOL_VERSION } from '../../shared/protocol';

/** What every caller of the coordinator can do, in process or over the socket alike. */
export interface CoordinatorApi {
  resolve(tools: ToolSpec[], signal?: AbortSignal): Promise<ResolvedTool[]>;
  install(params: InstallParams, signal?: AbortSignal): Promise<InstallResult>;
  listInstalled(): Promise<InstalledTool[]>;
  listRemote(tool: string, signal?: AbortSignal): Promise<RemoteVersion[]>;
  status(): Promise<StatusResult>;
  onProgress(listener: (progress: JobProgress) => void): { dispose(): void };
}

/**
 * The coordinator's work: one DownloadManager and Installer for every requester, so that the
 * language server, a command, a task and a terminal's `qm install` share one queue, one limit on
 * concurrent downloads, and one single-flight per archive.
 */
export class CoordinatorService implements CoordinatorApi {
  private readonly events = new EventEmitter();
  private readonly jobs = new Map<string, Map<string, JobProgress>>();
  /** Installs already credited to a job: jobs sharing one install get the same result object. */
  private readonly credited = new WeakSet<InstalledToolchain>();
  clients = 0;

  constructor(private readonly core: CoreServices, private readonly platform: Platform) {}

  hello(): HelloResult {
    return { protocol: PROTOCOL_VERSION, pid: process.pid, home: this.core.layout.root, version: QM_VERSION };
  }

  async resolve(tools: ToolSpec[], signal?: AbortSignal): Promise<ResolvedTool[]> {
    const plan = await this.plan(tools, signal);
    return Promise.all(
      plan.tools.map(async ({ toolchain }) => ({
        tool: toolchain.tool,
        version: toolchain.version,
        platform: toolchain.platform,
        url: toolchain.url,
        sha256: toolchain.sha256,
        ...(toolchain.size !== undefined ? { size: toolchain.size } : {}),
        installed: (await this.core.installer.find(toolchain)) !== undefined,
      })),
    );
  }

  async install(params: InstallParams, signal?: AbortSignal): Promise<InstallResult> {
    const { jobId, requester } = params;
    // Progress is told to every client by jobId: two live jobs must never share one.
    if (this.jobs.has(jobId)) throw new QmError('EUSAGE', `Job id ${jobId} is already in use; choose a unique one (e.g. with the pid and random bytes)`);
    const rows = new Map<string, JobProgress>();
    this.jobs.set(jobId, rows);
    const emit = (progress: JobProgress): void => {
      rows.set(progress.tool, progress);
      this.events.emit('progress', progress);
    };
    try {
      const plan = await this.plan(params.tools, signal);
      for (const { toolchain } of plan.tools) {
        emit({ jobId, requester, tool: toolchain.tool, version: toolchain.version, phase: 'queued', received: 0, bytesPerSecond: 0 });
      }
      const result = await installPlan(plan, this.core, {
        ...(signal ? { signal } : {}),
        onEvent: (event) => emit(toProgress(jobId, requester, event)),
      });
      return { jobId, tools: result.tools.map((tool) => toInstalledTool(tool, this.credit(tool))) };
    } catch (error) {
      const cancelled = signal?.aborted === true;
      const code = (error as { code?: string }).code ?? 'EIO';
      for (const row of rows.values()) {
        if (row.phase === 'done') continue;
        emit({ ...row, phase: cancelled ? 'cancelled' : 'failed', ...(cancelled ? {} : { error: { code, message: (error as Error).message } }) });
      }
      throw error;
    } finally {
      this.jobs.delete(jobId);
    }
  }

  async listInstalled(): Promise<InstalledTool[]> {
    return (await this.core.installer.list()).map((tool) => toInstalledTool(tool, tool.installed));
  }

  async listRemote(tool: string, signal?: AbortSignal): Promise<RemoteVersion[]> {
    const provider = providerFor(this.core.providers, tool);
    const platform = provider.layout(this.platform).platform;
    const installed = new Set((await this.core.installer.list()).filter((t) => t.tool === tool && t.platform === platform).map((t) => t.version));
    const releases = await provider.releases(signal ? { signal } : {});
    return releases.map((r) => ({ version: r.version, ...(r.date ? { date: r.date } : {}), lts: r.lts, prerelease: r.prerelease, installed: installed.has(r.version) }));
  }

  status(): Promise<StatusResult> {
    const jobs = [...this.jobs.values()].flatMap((rows) => [...rows.values()]);
    return Promise.resolve({ pid: process.pid, home: this.core.layout.root, jobs, clients: this.clients });
  }

  onProgress(listener: (progress: JobProgress) => void): { dispose(): void } {
    this.events.on('progress', listener);
    return { dispose: () => this.events.off('progress', listener) };
  }

  /** True for the first job to receive an install that unpacked; the others found it done (protocol: InstalledTool.installed). */
  private credit(tool: InstalledToolchain): boolean {
    if (!tool.installed || this.credited.has(tool)) return false;
    this.credited.add(tool);
    return true;
  }

  private async plan(tools: ToolSpec[], signal?: AbortSignal): Promise<Plan> {
    requireSafeToolRequests(tools, { description: 'a coordinator request' });
    const pinned = tools.filter((t) => t.locked);
    const source = { file: '(coordinator request)', dir: this.core.layout.root, tools: tools.filter((t) => !t.locked), artifacts: [] };
    const plan = await resolvePlan(source, { providers: this.core.providers, platform: this.platform, ...(signal ? { signal } : {}) });
    const locked = await Promise.all(
      pinned.map(async (t) => {
        const provider = providerFor(this.core.providers, t.name);
        const toolchain = await lockedToolchain(provider, this.platform, t.locked!, signal ? { signal } : {}, t.options);
        // A digest the client took from a cached index may be rechecked like one we resolved.
        const exact = { kind: 'exact', raw: toolchain.version, version: toolchain.version } as const;
        const recheck = (again: ProviderRequest = {}): Promise<ResolvedToolchain> => provider.resolve(exact, this.platform, { ...again, refresh: true }, t.options);
        return { entry: { name: t.name, spec: t.spec }, toolchain: t.locked!.fromIndex ? { ...toolchain, recheck } : toolchain };
      }),
    );
    return { ...plan, tools: [...locked, ...plan.tools] };
  }

  get platformId(): string {
    return platformId(this.platform);
  }
}

function toInstalledTool(t: InstalledToolchain, installed: boolean): InstalledTool {
  const env = Object.keys(t.env).length > 0 ? { env: t.env } : {};
  return { tool: t.tool, version: t.version, platform: t.platform, dir: t.dir, binPaths: t.binPaths, ...env, installed };
}

function toProgress(jobId: string, requester: JobProgress['requester'], event: PlanEvent): JobProgress {
  if (event.kind === 'artifact') {
    const p = event.progress;
    return { jobId, requester, tool: event.name, version: '', phase: p.state === 'verifying' ? 'downloading' : p.state, received: p.received, ...(p.total !== undefined ? { total: p.total } : {}), bytesPerSecond: p.bytesPerSecond };
  }
  const { progress } = event;
  const download = progress.download;
  const owner = progress.waitingFor ?? download?.waitingFor;
  return {
    jobId,
    requester,
    tool: event.name,
    version: event.version,
    phase: progress.phase === 'downloading' && download?.state === 'waiting' ? 'waiting' : progress.phase,
    received: download?.received ?? 0,
    ...(download?.total !== undefined ? { total: download.total } : {}),
    bytesPerSecond: download?.bytesPerSecond ?? 0,
    ...(owner ? { waitingFor: { pid: owner.pid, host: owner.host, purpose: owner.purpose } } : {}),
  };
}
