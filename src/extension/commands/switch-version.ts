import * as path from 'node:path';
import * as vscode from 'vscode';
import { refreshLockfile } from '../../core/project/lock-refresh';
import { manifestKind } from '../../core/manifest/find';
import { toolSpecEdit } from '../../core/manifest/edit';
import { pinToolSpecs } from '../../core/project/pin';
import type { CoreServices } from '../../core/services';
import type { ManifestStatus } from '../../core/workspace/manifest-status';
import { registerCommand } from '../error-boundary';
import { pickSpecForm, pickTool, pickVersion } from '../pickers';
import type { InstallCommandDeps } from './install';

export function registerSwitchCommand(deps: InstallCommandDeps): vscode.Disposable {
  return registerCommand('quartermaster.switchVersion', 'Switch Version', deps.logger, (tool?: unknown, version?: unknown) =>
    switchVersion(deps, typeof tool === 'string' ? tool : undefined, typeof version === 'string' ? version : undefined),
  );
}

/**
 * `qm use` in the editor: pick a tool, a version and how to write it (the current spec's form
 * first, or pinned), install it (the manifest never points at
 * something that failed to install), then write it into qm.toml with the same edit logic as the
 * CLI, keeping comments and layout; an existing qm.lock follows. Arguments (tool, spec) skip
 * the pickers, for keybindings and tests.
 */
async function switchVersion(deps: InstallCommandDeps, toolArg?: string, versionArg?: string): Promise<string | undefined> {
  const target = targetManifest(deps.currentManifest());
  if (!target) {
    void vscode.window.showWarningMessage('Open a folder first: Switch Version writes qm.toml in the workspace.');
    return undefined;
  }
  const title = `Switch Version (${vscode.workspace.asRelativePath(target.file)})`;
  const current = Object.fromEntries((target.status?.tools ?? []).map((t) => [t.name, `${t.spec} → ${t.version ?? 'unresolved'}`]));
  const tool = toolArg ?? (await pickTool(title, current, { step: 1, total: 3 }));
  if (!tool) return undefined;
  const declared = target.status?.tools.find((t) => t.name === tool);
  let version = versionArg;
  if (version === undefined) {
    const picked = await pickVersion(deps.host.api, tool, title, { ...(declared?.version ? { current: declared.version } : {}), step: { step: 2, total: 3 } });
    if (!picked) return undefined;
    // Keep the spec's form (`22` → `20`, `lts`, a range) or pin: the person chooses.
    version = (await pickSpecForm(tool, declared?.spec, picked.release, picked.releases, title, { step: 3, total: 3 }))?.spec;
  }
  if (!version) return undefined;

  await deps.jobs.run({ title: `Switching to ${tool} ${version}`, kind: 'command', tools: [{ name: tool, spec: version }], notify: true });
  await writeSpec(deps.core, target.file, tool, version);
  const lock = await refreshLockfile(target.file, deps.core, deps.platform);
  if (lock) deps.logger.info(`Updated ${lock}`);
  await deps.model.refresh(target.file);
  deps.logger.info(`${tool} = "${version}" written in ${target.file}`);
  return target.file;
}

/** The qm.toml to write: the one in force, else a new one next to the legacy file or at the folder root. */
function targetManifest(status: ManifestStatus | undefined): { file: string; status?: ManifestStatus } | undefined {
  if (status && manifestKind(status.file) === 'qm.toml') return { file: status.file, status };
  const dir = status?.dir ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return dir ? { file: path.join(dir, 'qm.toml'), ...(status ? { status } : {}) } : undefined;
}

/**
 * Through the editor when the file is open (so undo works and unsaved text is respected), then
 * saved; straight to disk when it is not, locked and merged with other processes' edits.
 */
async function writeSpec(core: CoreServices, file: string, tool: string, version: string): Promise<void> {
  const open = vscode.workspace.textDocuments.find((doc) => doc.uri.scheme === 'file' && doc.uri.fsPath === file);
  if (open) {
    const edit = toolSpecEdit(open.getText(), tool, version);
    const workspaceEdit = new vscode.WorkspaceEdit();
    const range = new vscode.Range(edit.range.start.line, edit.range.start.character, edit.range.end.line, edit.range.end.character);
    workspaceEdit.replace(open.uri, range, edit.newText);
    if (!(await vscode.workspace.applyEdit(workspaceEdit))) throw new Error(`VS Code refused the edit to ${file}`);
    await open.save();
    return;
  }
  await pinToolSpecs(core, file, [{ name: tool, spec: version }]);
}
