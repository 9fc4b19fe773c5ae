import * as vscode from 'vscode';
import { isQmError } from '../core/errors';
import type { HomeLayout } from '../core/home';
import { LeaseManager, type ToolchainId } from '../core/install/leases';
import type { Logger } from '../core/log';
import { currentProcess, processStartTime } from '../core/store/process-identity';
import type { ManifestStatus, ToolStatus } from '../core/workspace/manifest-status';
import type { InstalledTool } from '../shared/protocol';
import type { WorkspaceModel } from './workspace-model';

/**
 * Leases on the toolchains that processes of this window run from, so that `qm gc`, Clean Up and
 * Uninstall (from any process) leave them alone while they are in use: every terminal (tasks'
 * too) holds the toolchains that were on its PATH when it opened, in its shell's name, while that
 * process runs (a task's ends with the task, though VS Code keeps its terminal open; a shell that
 * outlives the window still holds them) and at most until the terminal closes; every debug
 * session holds its folder's toolchains, in this extension host's name, until it ends.
 */
export class ToolchainLeases implements vscode.Disposable {
  private readonly held = new Map<object, Promise<vscode.Disposable>>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly leases: LeaseManager,
    private readonly layout: HomeLayout,
    private readonly model: WorkspaceModel,
    /** The installed toolchains (the coordinator's list): where each tool's own platform id comes from. */
    private readonly installed: () => Promise<InstalledTool[]>,
    private readonly logger: Logger,
  ) {
    this.subscriptions = [
      vscode.window.onDidOpenTerminal((terminal) => this.openTerminal(terminal)),
      vscode.window.onDidCloseTerminal((terminal) => this.release(terminal)),
      vscode.debug.onDidStartDebugSession((session) => this.startDebugSession(session)),
      vscode.debug.onDidTerminateDebugSession((session) => this.release(session)),
    ];
  }

  /**
   * Holds `toolchains` for `purpose`, in this extension host's name and also `pid`'s when given
   * (or, with `processOnly`, in `pid`'s name alone: the lease lives exactly as long as that process);
   * a toolchain removed meanwhile is skipped. The Disposable releases them all.
   */
  async hold(toolchains: ToolchainId[], purpose: string, pid?: number, options: { processOnly?: boolean } = {}): Promise<vscode.Disposable> {
    const manager = pid !== undefined && options.processOnly === true ? this.managerFor(pid) : this.leases;
    const leases = await Promise.all(
      toolchains.map(async (toolchain) => {
        try {
          const lease = await manager.hold(toolchain, { purpose });
          if (pid !== undefined && manager === this.leases) await lease.addHolder(pid);
          return lease;
        } catch (error) {
          if (!isQmError(error, 'ENOTINSTALLED')) throw error;
          this.logger.debug(`Not holding ${toolchain.tool} ${toolchain.version} for ${purpose}: it is not installed any more`);
          return undefined;
        }
      }),
    );
    const kept = leases.filter((lease) => lease !== undefined);
    if (kept.length > 0) this.logger.info(`${purpose}${pid !== undefined ? ` (pid ${pid})` : ''} holds ${kept.map((l) => `${l.toolchain.tool} ${l.toolchain.version}`).join(', ')}`);
    return new vscode.Disposable(() => {
      for (const lease of kept) lease.dispose();
    });
  }

  /** The installed toolchains manifests put in force, as the store names them. */
  async installedIn(statuses: Array<ManifestStatus | undefined>): Promise<ToolchainId[]> {
    const tools = statuses.flatMap((s) => s?.tools ?? []).filter((t) => t.installed);
    if (tools.length === 0) return [];
    const installed = await this.installed();
    const ids = new Map<string, ToolchainId>();
    for (const tool of tools) {
      const found = installedToolchain(tool, installed);
      if (found) ids.set(found.dir, { tool: found.tool, version: found.version, platform: found.platform });
    }
    return [...ids.values()];
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    // A terminal's lease is in its shell's name: a shell that outlives the window (a persistent
    // session) keeps it, and a dead one's is swept by whoever removes next. The rest go now.
    for (const key of [...this.held.keys()]) if (!vscode.window.terminals.includes(key as vscode.Terminal)) this.release(key);
  }

  private openTerminal(terminal: vscode.Terminal): void {
    // The toolchains of the terminal's folder (its cwd's), else of every folder: what its PATH has.
    const options = terminal.creationOptions as vscode.TerminalOptions;
    const cwd = typeof options.cwd === 'string' ? vscode.Uri.file(options.cwd) : options.cwd;
    const folder = cwd ? vscode.workspace.getWorkspaceFolder(cwd) : undefined;
    const folders = folder ? [folder] : (vscode.workspace.workspaceFolders ?? []);
    const statuses = folders.map((f) => this.model.manifestForFolder(f));
    if (!statuses.some((s) => s?.tools.some((t) => t.installed))) return;
    this.track(
      terminal,
      this.installedIn(statuses).then(async (toolchains) => this.hold(toolchains, `VS Code terminal "${terminal.name}"`, await terminal.processId, { processOnly: true })),
    );
  }

  private startDebugSession(session: vscode.DebugSession): void {
    const folder = session.workspaceFolder ?? vscode.workspace.workspaceFolders?.[0];
    const status = folder ? this.model.manifestForFolder(folder) : undefined;
    if (!status?.tools.some((t) => t.installed)) return;
    this.track(session, this.installedIn([status]).then((toolchains) => this.hold(toolchains, `VS Code debug session "${session.name}"`)));
  }

  /** Leases in the name of another process of this machine (as Lease.addHolder writes them). */
  private managerFor(pid: number): LeaseManager {
    const startTime = processStartTime(pid);
    return new LeaseManager(this.layout, { identity: { ...currentProcess(), pid, ...(startTime !== undefined ? { startTime } : {}) } });
  }

  private track(key: object, holding: Promise<vscode.Disposable>): void {
    holding.catch((error: unknown) => this.logger.warn(`Could not hold toolchains in use: ${String(error)}`));
    this.held.set(key, holding);
  }

  private release(key: object): void {
    const holding = this.held.get(key);
    if (!holding) return;
    this.held.delete(key);
    void holding.then(
      (lease) => {
        lease.dispose();
      },
      () => undefined,
    );
  }
}

/** The store's record of a tool a manifest shows installed: its version, with the bin directories the status has. */
export function installedToolchain(tool: ToolStatus, installed: InstalledTool[]): InstalledTool | undefined {
  const candidates = installed.filter((t) => t.tool === tool.name && t.version === tool.version);
  return candidates.find((t) => t.binPaths.join('\0') === tool.binPaths.join('\0')) ?? candidates[0];
}
