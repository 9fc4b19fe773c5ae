import * as vscode from 'vscode';
import type { CoordinatorHost } from '../../core/coordinator/host';
import { refreshLockfile } from '../../core/project/lock-refresh';
import type { Logger } from '../../core/log';
import type { Platform } from '../../core/platform';
import type { CoreServices } from '../../core/services';
import { missingTools, type ManifestStatus } from '../../core/workspace/manifest-status';
import { registerCommand } from '../error-boundary';
import type { Jobs } from '../jobs';
import { pickTool, pickVersion } from '../pickers';
import type { WorkspaceModel } from '../workspace-model';

export interface InstallCommandDeps {
  core: CoreServices;
  host: CoordinatorHost;
  jobs: Jobs;
  model: WorkspaceModel;
  platform: Platform;
  logger: Logger;
  /** The manifest the status bar shows. */
  currentManifest: () => ManifestStatus | undefined;
}

export function registerInstallCommands(deps: InstallCommandDeps): vscode.Disposable[] {
  return [
    registerCommand('quartermaster.installToolchain', 'Install Toolchain', deps.logger, () => installToolchain(deps)),
    registerCommand('quartermaster.installAll', 'Install Everything in the Manifest', deps.logger, () => installManifest(deps)),
  ];
}

/** Tool, then version; installs into the shared cache without touching any manifest. */
async function installToolchain(deps: InstallCommandDeps): Promise<string | undefined> {
  const title = 'Install Toolchain';
  const tool = await pickTool(title, {}, { step: 1, total: 2 });
  if (!tool) return undefined;
  const release = (await pickVersion(deps.host.api, tool, title, { step: { step: 2, total: 2 } }))?.release;
  if (!release) return undefined;
  const result = await deps.jobs.run({ title: `Installing ${tool} ${release.version}`, kind: 'command', tools: [{ name: tool, spec: release.version }], notify: true });
  const [installed] = result.tools;
  void vscode.window.showInformationMessage(`${tool} ${release.version} is ${installed?.installed ? 'installed' : 'already installed'}.`);
  return installed?.dir;
}

/** Installs what the current manifest declares and lacks (through qm.lock when it matches). */
export async function installManifest(deps: InstallCommandDeps, manifest?: ManifestStatus): Promise<number> {
  const status = manifest ?? (await chooseManifest(deps));
  if (!status) return 0;
  const missing = missingTools(status);
  const unresolved = status.tools.filter((t) => t.error);
  if (missing.length === 0) {
    const note = unresolved.length > 0 ? ` (${unresolved.map((t) => `${t.name}: ${t.error!.message}`).join('; ')})` : '';
    void vscode.window.showInformationMessage(`Everything ${vscode.workspace.asRelativePath(status.file)} declares is installed${note}.`);
    return 0;
  }
  const names = missing.map((t) => `${t.name} ${t.version}`).join(', ');
  await deps.jobs.run({ title: `Installing ${names}`, kind: 'command', tools: missing.map((t) => t.request), notify: true });
  // Like `qm install`: an existing qm.lock follows the manifest; none is created.
  const lock = await refreshLockfile(status.file, deps.core, deps.platform);
  if (lock) deps.logger.info(`Updated ${lock}`);
  await deps.model.refresh(status.file);
  return missing.length;
}

async function chooseManifest(deps: InstallCommandDeps): Promise<ManifestStatus | undefined> {
  const all = deps.model.all();
  if (all.length <= 1) {
    const only = all[0] ?? deps.currentManifest();
    if (!only) void vscode.window.showWarningMessage('No qm.toml, .tool-versions, .nvmrc or .node-version in this workspace.');
    return only;
  }
  const current = deps.currentManifest();
  const items = all.map((status) => ({
    status,
    label: vscode.workspace.asRelativePath(status.file),
    description: status.tools.map((t) => `${t.name} ${t.version ?? t.spec}${t.installed ? '' : ' (missing)'}`).join(', '),
    picked: status === current,
  }));
  if (current) items.sort((a, b) => Number(b.status === current) - Number(a.status === current));
  return (await vscode.window.showQuickPick(items, { title: 'Install Everything in the Manifest', placeHolder: 'Which manifest?' }))?.status;
}
