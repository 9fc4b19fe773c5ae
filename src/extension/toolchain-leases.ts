import * as vscode from 'vscode';
import { isQmError } from '../core/errors';
import type { LeaseManager, ToolchainId } from '../core/install/leases';
import type { Logger } from '../core/log';
import type { ManifestStatus } from '../core/workspace/manifest-status';
import type { WorkspaceModel } from './workspace-model';

/**
 * Leases on the toolchains that processes of this window run from, so that `qm gc`, Clean Up and
 * Uninstall (from any process) leave them alone while they are in use: every terminal (tasks'
 * too) holds the toolchains that were on its PATH when it opened, for this extension host and for
 * its shell's pid (so a shell that outlives the window still holds them), until it closes; every
 * debug session holds its folder's toolchains until it ends.
 */
export class ToolchainLeases implements vscode.Disposable {
  private readonly held = new Map<object, Promise<vscode.Disposable>>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly leases: LeaseManager,
    private readonly model: WorkspaceModel,
    private readonly platform: string,
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
   * Holds `toolchains` for `purpose` (and for `pid` too, when given);
   * a toolchain removed meanwhile is skipped. The Disposable releases them all.
   */
  async hold(toolchains: ToolchainId[], purpose: string, pid?: number): Promise<vscode.Disposable> {
    const leases = await Promise.all(
      toolchains.map(async (toolchain) => {
        try {
          const lease = await this.leases.hold(toolchain, { purpose });
          if (pid !== undefined) await lease.addHolder(pid);
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

  /** The installed toolchains a manifest puts in force. */
  installedIn(statuses: Array<ManifestStatus | undefined>): ToolchainId[] {
    const ids = new Map<string, ToolchainId>();
    for (const tool of statuses.flatMap((s) => s?.tools ?? [])) {
      if (tool.installed && tool.version !== undefined) ids.set(`${tool.name}@${tool.version}`, { tool: tool.name, version: tool.version, platform: this.platform });
    }
    return [...ids.values()];
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const key of [...this.held.keys()]) this.release(key);
  }

  private openTerminal(terminal: vscode.Terminal): void {
    // The toolchains of the terminal's folder (its cwd's), else of every folder: what its PATH has.
    const options = terminal.creationOptions as vscode.TerminalOptions;
    const cwd = typeof options.cwd === 'string' ? vscode.Uri.file(options.cwd) : options.cwd;
    const folder = cwd ? vscode.workspace.getWorkspaceFolder(cwd) : undefined;
    const folders = folder ? [folder] : (vscode.workspace.workspaceFolders ?? []);
    const toolchains = this.installedIn(folders.map((f) => this.model.manifestForFolder(f)));
    this.logger.info(`Terminal "${terminal.name}" opened in ${folders.map((f) => f.name).join(', ') || 'no folder'}: ${toolchains.length} toolchain(s) on its PATH`);
    if (toolchains.length === 0) return;
    this.track(
      terminal,
      Promise.resolve(terminal.processId).then((pid) => this.hold(toolchains, `VS Code terminal "${terminal.name}"`, pid)),
    );
  }

  private startDebugSession(session: vscode.DebugSession): void {
    const folder = session.workspaceFolder ?? vscode.workspace.workspaceFolders?.[0];
    const toolchains = this.installedIn([folder ? this.model.manifestForFolder(folder) : undefined]);
    if (toolchains.length === 0) return;
    this.track(session, this.hold(toolchains, `VS Code debug session "${session.name}"`));
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
