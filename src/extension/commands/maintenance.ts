import * as vscode from 'vscode';
import type { CoordinatorHost } from '../../core/coordinator/host';
import type { Logger } from '../../core/log';
import { collectGarbage, gcFigures, type GcResult } from '../../core/maintenance/gc';
import { gcReport, type GcReport } from '../../core/maintenance/gc-report';
import { uninstallToolchain } from '../../core/maintenance/uninstall';
import type { CoreServices } from '../../core/services';
import type { InstalledTool } from '../../shared/protocol';
import { formatSize } from '../../shared/wording';
import { registerCommand } from '../error-boundary';
import type { WorkspaceModel } from '../workspace-model';

export interface MaintenanceDeps {
  core: CoreServices;
  host: CoordinatorHost;
  model: WorkspaceModel;
  logger: Logger;
  /** Called after something was removed, so views follow at once. */
  changed: () => void;
}

interface InstalledItem extends vscode.QuickPickItem {
  tool: InstalledTool;
}

export function registerMaintenanceCommands(deps: MaintenanceDeps): vscode.Disposable[] {
  return [
    registerCommand('quartermaster.uninstall', 'Uninstall', deps.logger, (item?: unknown) => uninstall(deps, installedFromArgument(item))),
    registerCommand('quartermaster.showInstalled', 'Show Installed', deps.logger, () => showInstalled(deps)),
    registerCommand('quartermaster.cleanUp', 'Clean Up Unused', deps.logger, () => cleanUp(deps)),
  ];
}

/** Lists installed toolchains and which of the workspace's manifests use each. */
async function installedItems(deps: MaintenanceDeps): Promise<InstalledItem[]> {
  const installed = await deps.host.api.listInstalled();
  installed.sort((a, b) => a.tool.localeCompare(b.tool) || b.version.localeCompare(a.version, undefined, { numeric: true }));
  return installed.map((tool) => {
    const users = deps.model.all().filter((m) => m.tools.some((t) => t.name === tool.tool && t.version === tool.version));
    return {
      tool,
      label: `${tool.tool} ${tool.version}`,
      description: users.length > 0 ? `used by ${users.map((m) => vscode.workspace.asRelativePath(m.file)).join(', ')}` : tool.platform,
      detail: tool.dir,
    };
  });
}

async function uninstall(deps: MaintenanceDeps, given?: InstalledTool): Promise<boolean> {
  let tool = given;
  if (!tool) {
    const items = await installedItems(deps);
    if (items.length === 0) {
      void vscode.window.showInformationMessage('No toolchains are installed.');
      return false;
    }
    tool = (await vscode.window.showQuickPick(items, { title: 'Uninstall', placeHolder: 'Choose a toolchain to remove from the shared cache' }))?.tool;
  }
  if (!tool) return false;
  const users = deps.model.all().filter((m) => m.tools.some((t) => t.name === tool.tool && t.version === tool.version));
  const warning = users.length > 0 ? ` ${users.map((m) => vscode.workspace.asRelativePath(m.file)).join(', ')} use${users.length === 1 ? 's' : ''} it and will offer to install it again.` : '';
  const confirm = await vscode.window.showWarningMessage(
    `Remove ${tool.tool} ${tool.version} from ${deps.core.layout.root}?${warning} Every VS Code window and terminal sharing this cache loses it.`,
    { modal: true },
    'Uninstall',
  );
  if (confirm !== 'Uninstall') return false;
  const result = await uninstallToolchain(deps.core, tool);
  deps.logger.info(`Uninstalled ${tool.tool} ${tool.version}: ${result.dir} (${formatSize(result.bytes)})`);
  deps.changed();
  void vscode.window.showInformationMessage(`Removed ${tool.tool} ${tool.version} (${formatSize(result.bytes)}).`);
  return true;
}

async function showInstalled(deps: MaintenanceDeps): Promise<void> {
  const items = await installedItems(deps);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`No toolchains are installed in ${deps.core.layout.root}.`);
    return;
  }
  const picked = await vscode.window.showQuickPick(items, { title: `Installed toolchains (${deps.core.layout.root})`, placeHolder: 'Choose one to copy its bin directory' });
  if (!picked) return;
  const bin = picked.tool.binPaths[0] ?? picked.tool.dir;
  await vscode.env.clipboard.writeText(bin);
  vscode.window.setStatusBarMessage(`Copied ${bin}`, 3000);
}

/**
 * gc with a preview: what would go, what stays and why (used, recent, busy, the rest), in
 * figures that add up to the cache size; then a modal confirmation, and the same report of
 * what happened. Returns the report shown last (for tests and the API).
 */
async function cleanUp(deps: MaintenanceDeps): Promise<CleanUpReport> {
  const preview = await collectGarbage(deps.core, { dryRun: true });
  const planned = gcReport(preview, true);
  if (preview.removed.length === 0) {
    void vscode.window.showInformationMessage(`${planned.headline}. ${keptSummary(preview)}`, 'Show Details').then((choice) => choice && showDetails(deps, planned));
    return { stage: 'nothing', ...planned };
  }
  const confirm = await vscode.window.showWarningMessage(`${planned.headline}?`, { modal: true, detail: planned.lines.join('\n') }, 'Remove');
  if (confirm !== 'Remove') return { stage: 'declined', ...planned };
  const result = await collectGarbage(deps.core);
  const done = gcReport(result, false);
  deps.logger.info(`Clean Up Unused: ${done.headline}\n${done.lines.join('\n')}`);
  deps.changed();
  void vscode.window.showInformationMessage(`${done.headline}. ${keptSummary(result)}`, 'Show Details').then((choice) => choice && showDetails(deps, done));
  return { stage: 'done', ...done };
}

export interface CleanUpReport {
  stage: 'nothing' | 'declined' | 'done';
  headline: string;
  lines: string[];
}

/** One sentence for the notification: what stays, by reason. */
function keptSummary(result: GcResult): string {
  const figures = gcFigures(result);
  const parts = [`${formatSize(figures.used)} in use`];
  const recent = result.kept.filter((item) => item.because === 'recent').length;
  if (recent > 0) parts.push(`${formatSize(figures.recent)} in ${recent} download${recent === 1 ? '' : 's'} under an hour old`);
  if (result.busy.length > 0) parts.push(`${formatSize(figures.busy)} busy right now`);
  parts.push(`${formatSize(figures.other)} of indexes and state`);
  return `Kept ${parts.join(', ')}.`;
}

function showDetails(deps: MaintenanceDeps, report: GcReport): void {
  deps.logger.info(`Clean Up Unused: ${report.headline}\n${report.lines.join('\n')}`);
  void vscode.commands.executeCommand('quartermaster.showLog');
}

/** The Toolchains view passes its item; the palette passes nothing. */
function installedFromArgument(item: unknown): InstalledTool | undefined {
  const tool = (item as { installed?: InstalledTool } | undefined)?.installed;
  return tool && typeof tool.tool === 'string' && typeof tool.version === 'string' ? tool : undefined;
}
