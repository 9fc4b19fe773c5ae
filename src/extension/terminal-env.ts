import * as path from 'node:path';
import * as vscode from 'vscode';
import { toolchainEnvironment } from './toolchain-environment';
import type { WorkspaceModel } from './workspace-model';

/**
 * Each change is applied when the shell starts (tasks, shells without shell integration) and
 * again by VS Code's shell integration script after the shell's rc files ran, so a ~/.bashrc that
 * prepends pyenv's or cargo's bin cannot put another `node` or `python` before the declared one.
 */
const AT_START_AND_AFTER_RC: vscode.EnvironmentVariableMutatorOptions = { applyAtProcessCreation: true, applyAtShellIntegration: true };

/**
 * What integrated terminals and tasks get: QM_HOME, QM_COORDINATOR and the mirrors for every
 * terminal, the bundled `qm` first on PATH, and per workspace folder the bin directories of the
 * toolchains its manifest declares (installed ones), so `node`, `go`, `zig` and `qm` typed in a
 * terminal are the declared ones. Terminals opened before a change are marked stale by VS Code.
 */
export class TerminalEnvironment implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private applied: string | undefined;

  constructor(
    private readonly collection: vscode.GlobalEnvironmentVariableCollection,
    private readonly model: WorkspaceModel,
    private readonly shimDir: string,
    private readonly variables: () => Record<string, string>,
  ) {
    // Recomputed at every activation: nothing stale survives a restart.
    collection.persistent = false;
    this.subscriptions.push(
      model.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.update()),
    );
    this.update();
  }

  update(): void {
    const variables = this.variables();
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => {
      const status = this.model.manifestForFolder(folder);
      const { binPaths: bins, env } = toolchainEnvironment(status);
      return { folder, status, bins, env };
    });
    // The model reports every refresh; terminals are told (and marked stale) only when PATH or a variable changes.
    const applied = JSON.stringify([variables, folders.map((f) => [f.folder.uri.toString(), f.bins, f.env])]);
    if (applied === this.applied) return;
    this.applied = applied;
    const collection = this.collection;
    collection.clear();
    for (const [name, value] of Object.entries(variables)) collection.replace(name, value, AT_START_AND_AFTER_RC);
    collection.prepend('PATH', `${this.shimDir}${path.delimiter}`, AT_START_AND_AFTER_RC);
    collection.description = 'Quartermaster: qm and the coordinator for this window';
    for (const { folder, status, bins, env } of folders) {
      const scoped = collection.getScoped({ workspaceFolder: folder });
      scoped.clear();
      // The toolchains' own variables (JAVA_HOME), as `qm exec` and `qm env` set them.
      for (const [name, value] of Object.entries(env)) scoped.replace(name, value, AT_START_AND_AFTER_RC);
      // A folder's own PATH change takes the place of the global one (seen in VS Code 1.139), so it
      // carries the launcher's directory too.
      scoped.prepend('PATH', [...bins, this.shimDir, ''].join(path.delimiter), AT_START_AND_AFTER_RC);
      scoped.description = status
        ? `Quartermaster: ${status.tools.filter((t) => t.installed).map((t) => `${t.name} ${t.version}`).join(', ') || 'no toolchain installed yet'} and qm on PATH`
        : 'Quartermaster: qm on PATH';
    }
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
