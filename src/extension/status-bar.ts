import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ManifestStatus, StatusError, ToolStatus } from '../core/workspace/manifest-status';
import type { Jobs } from './jobs';
import type { WorkspaceModel } from './workspace-model';

/** What the status bar shows, for tests and the API: the item's own fields, read back. */
export interface StatusBarSnapshot {
  visible: boolean;
  text: string;
  tooltip: string;
  /** A declared toolchain is missing or unresolvable, or the manifest has an error. */
  warning: boolean;
  /** The manifest (or a version file, or a spec) has an error: the error look, and a click goes to it. */
  error: boolean;
  /** Where a click goes: the error's file, 1-based line and column. */
  goesTo?: { file: string; line: number; column: number };
  /** Something is downloading. */
  busy: boolean;
  /** The manifest whose versions are shown. */
  manifest?: string;
}

/**
 * The toolchain switcher: the active versions for the manifest in force for the active editor
 * (else the first workspace folder's), a spinner with percent while anything downloads, and a
 * warning look when a declared toolchain is missing, and an error look naming file, line and
 * column when the manifest cannot be used (the last good one stays in force). Clicking opens
 * Switch Version…, or goes to the error.
 */
export class ToolchainStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('quartermaster.toolchains', vscode.StatusBarAlignment.Left, 90);
  private readonly subscriptions: vscode.Disposable[] = [];
  private snapshotValue: StatusBarSnapshot = { visible: false, text: '', tooltip: '', warning: false, error: false, busy: false };

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
      this.snapshotValue = { visible: false, text: '', tooltip: '', warning: false, error: false, busy: false };
      return;
    }
    const tools = status?.tools ?? [];
    for (const tool of tools) if (tool.installed) this.jobs.seenInstalled(tool.name, tool.version);
    // A spec that names no release is never shown as a version: the error says which line.
    const error = status?.error ?? tools.find((t) => t.error?.code === 'ENOVERSION')?.error;
    // Right after a download the manifest is re-read: what just arrived is not shown as missing meanwhile.
    const missing = tools.some((t) => !t.installed && !t.pending && !this.jobs.arrived(t.name, t.version));
    const problem = error !== undefined || missing;
    const versions = tools.filter((t) => !t.error || t.error.code !== 'ENOVERSION').map(versionText).join('  ');
    const place = error?.at ? `${path.basename(error.at.file)}:${error.at.line}:${error.at.column}` : undefined;
    let text: string;
    if (downloads) text = `$(sync~spin) ${versions || downloads.label}${downloads.percent !== undefined ? ` ${downloads.percent}%` : ''}`;
    else if (error) text = `$(error) ${[versions, place ?? 'error'].filter((part) => part !== '').join(' · ')}`;
    else text = `${missing ? '$(warning)' : '$(tools)'} ${versions || 'no toolchains'}`;
    const tooltip = tooltipText(status, error, downloads?.text);
    this.item.text = text;
    this.item.tooltip = new vscode.MarkdownString(tooltip, true);
    this.item.command = error?.at ? goTo(error.at) : status && status.tools.length > 0 ? 'quartermaster.switchVersion' : undefined;
    this.item.backgroundColor = downloads ? undefined : error ? new vscode.ThemeColor('statusBarItem.errorBackground') : missing ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Quartermaster toolchains: ${versions || 'none'}${error ? `, error at ${place ?? 'the manifest'}` : missing ? ', some missing' : ''}` };
    this.item.show();
    this.snapshotValue = {
      visible: true,
      text,
      tooltip,
      warning: problem && !downloads,
      error: error !== undefined && !downloads,
      busy: downloads !== undefined,
      ...(status ? { manifest: status.file } : {}),
      ...(error?.at && !downloads ? { goesTo: error.at } : {}),
    };
  }
}

function versionText(tool: ToolStatus): string {
  if (tool.version) return `${tool.name} ${tool.version}`;
  return tool.pending ? `${tool.name} ${tool.spec}…` : `${tool.name} ?`;
}

/** Clicking an error opens the file at the error. */
function goTo(at: { file: string; line: number; column: number }): vscode.Command {
  const position = new vscode.Position(at.line - 1, at.column - 1);
  return { command: 'vscode.open', title: 'Go to the error', arguments: [vscode.Uri.file(at.file), { selection: new vscode.Range(position, position) }] };
}

function tooltipText(status: ManifestStatus | undefined, error: StatusError | undefined, downloading: string | undefined): string {
  const lines: string[] = [];
  if (status) {
    lines.push(`**${vscode.workspace.asRelativePath(status.file)}**`, '');
    if (error) {
      const where = error.at ? `${vscode.workspace.asRelativePath(error.at.file)}:${error.at.line}:${error.at.column}: ` : '';
      lines.push(`$(error) ${where}${error.reason ?? error.message.replace(/^.*?:\d+:\d+: /, '')}`, '');
      if (status.heldBack) lines.push('Until it is fixed, the last version that could be used stays in force:', '');
    }
    for (const tool of status.tools) lines.push(`- ${toolLine(tool)}`);
    if (status.tools.length === 0) lines.push('declares no toolchains');
  }
  if (downloading) lines.push('', `$(sync~spin) ${downloading}`);
  if (error?.at) lines.push('', 'Click to go to the error');
  else if (status && status.tools.length > 0) lines.push('', 'Click to switch a version');
  return lines.join('\n');
}

function toolLine(tool: ToolStatus): string {
  const spec = `\`${tool.name} = "${tool.spec}"\``;
  if (tool.error) return `${spec}: $(warning) ${tool.error.message}`;
  if (tool.pending) return `${spec}: resolving…`;
  const state = tool.installed ? 'installed' : '$(warning) not installed';
  return `${spec} → ${tool.version}${tool.locked ? ' (qm.lock)' : ''}: ${state}`;
}
