import * as vscode from 'vscode';
import type { ManifestStatus, ToolStatus } from '../core/workspace/manifest-status';
import type { Jobs } from './jobs';
import type { WorkspaceModel } from './workspace-model';

/** What the status bar shows, for tests and the API: the item's own fields, read back. */
export interface StatusBarSnapshot {
  visible: boolean;
  text: string;
  tooltip: string;
  /** A declared toolchain is missing or unresolvable. */
  warning: boolean;
  /** Something is downloading. */
  busy: boolean;
  /** The manifest whose versions are shown. */
  manifest?: string;
}

/**
 * The toolchain switcher: the active versions for the manifest in force for the active editor
 * (else the first workspace folder's), a spinner with percent while anything downloads, and a
 * warning look when a declared toolchain is missing. Clicking opens Switch Version….
 */
export class ToolchainStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('quartermaster.toolchains', vscode.StatusBarAlignment.Left, 90);
  private readonly subscriptions: vscode.Disposable[] = [];
  private snapshotValue: StatusBarSnapshot = { visible: false, text: '', tooltip: '', warning: false, busy: false };

  constructor(private readonly model: WorkspaceModel, private readonly jobs: Jobs) {
    this.item.name = 'Quartermaster Toolchains';
    this.item.command = 'quartermaster.switchVersion';
    this.subscriptions.push(
      model.onDidChange(() => this.update()),
      jobs.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.update()),
    );
    this.update();
  }

  snapshot(): StatusBarSnapshot {
    return { ...this.snapshotValue };
  }

  /** The manifest the status bar is about now. */
  current(): ManifestStatus | undefined {
    const editor = vscode.window.activeTextEditor;
    if (editor?.document.uri.scheme === 'file') {
      const status = this.model.manifestFor(editor.document.uri.fsPath);
      if (status) return status;
      const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri);
      if (folder) return this.model.manifestForFolder(folder);
    }
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const status = this.model.manifestForFolder(folder);
      if (status) return status;
    }
    return this.model.all()[0];
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }

  private update(): void {
    const status = this.current();
    const downloads = this.jobs.summary();
    if (!status && !downloads) {
      this.item.hide();
      this.snapshotValue = { visible: false, text: '', tooltip: '', warning: false, busy: false };
      return;
    }
    const tools = status?.tools ?? [];
    for (const tool of tools) if (tool.installed) this.jobs.seenInstalled(tool.name, tool.version);
    // Right after a download the manifest is re-read: what just arrived is not shown as missing meanwhile.
    const problem = status?.error !== undefined || tools.some((t) => !t.installed && !t.pending && !this.jobs.arrived(t.name, t.version));
    const versions = tools.map((t) => `${t.name} ${t.version ?? t.spec}`).join('  ') || 'no toolchains';
    let text: string;
    if (downloads) text = `$(sync~spin) ${versions}${downloads.percent !== undefined ? ` ${downloads.percent}%` : ''}`;
    else text = `${problem ? '$(warning)' : '$(tools)'} ${versions}`;
    const tooltip = tooltipText(status, downloads?.label);
    this.item.text = text;
    this.item.tooltip = new vscode.MarkdownString(tooltip, true);
    this.item.backgroundColor = problem && !downloads ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Quartermaster toolchains: ${versions}${problem ? ', some missing' : ''}` };
    this.item.show();
    this.snapshotValue = { visible: true, text, tooltip, warning: problem && !downloads, busy: downloads !== undefined, ...(status ? { manifest: status.file } : {}) };
  }
}

function tooltipText(status: ManifestStatus | undefined, downloading: string | undefined): string {
  const lines: string[] = [];
  if (status) {
    lines.push(`**${vscode.workspace.asRelativePath(status.file)}**`, '');
    if (status.error) lines.push(`$(error) ${status.error.message}`, '');
    for (const tool of status.tools) lines.push(`- ${toolLine(tool)}`);
    if (status.tools.length === 0) lines.push('declares no toolchains');
  }
  if (downloading) lines.push('', `$(sync~spin) downloading ${downloading}`);
  lines.push('', 'Click to switch a version');
  return lines.join('\n');
}

function toolLine(tool: ToolStatus): string {
  const spec = `\`${tool.name} = "${tool.spec}"\``;
  if (tool.error) return `${spec}: $(warning) ${tool.error.message}`;
  if (tool.pending) return `${spec}: resolving…`;
  const state = tool.installed ? 'installed' : '$(warning) not installed';
  return `${spec} → ${tool.version}${tool.locked ? ' (qm.lock)' : ''}: ${state}`;
}
