import * as path from 'node:path';
import * as vscode from 'vscode';
import { LOCK_FILE } from '../core/lockfile/qm-lock';
import { manifestKind } from '../core/manifest/find';
import { MANIFEST_GLOB, type WorkspaceModel } from './workspace-model';

/**
 * Manifests (and qm.lock files) in the workspace, created, changed or deleted by anyone: the
 * editor, git, a `qm use` in a terminal. VS Code's own recursive watcher already covers the
 * workspace, honours files.watcherExclude and works in remote windows, so it is used here;
 * chokidar watches the shared cache, which lies outside every workspace.
 */
export function watchManifests(model: WorkspaceModel): vscode.Disposable {
  const manifests = vscode.workspace.createFileSystemWatcher(MANIFEST_GLOB);
  const locks = vscode.workspace.createFileSystemWatcher(`**/${LOCK_FILE}`);
  const refresh = (uri: vscode.Uri): void => {
    if (uri.scheme === 'file' && !uri.fsPath.split(path.sep).includes('node_modules')) void model.refresh(uri.fsPath);
  };
  // A lockfile changes what its directory's manifest resolves to.
  const refreshDir = (uri: vscode.Uri): void => {
    for (const status of model.all()) if (status.dir === path.dirname(uri.fsPath)) void model.refresh(status.file);
  };
  return vscode.Disposable.from(
    manifests,
    locks,
    manifests.onDidCreate(refresh),
    manifests.onDidChange(refresh),
    manifests.onDidDelete((uri) => model.forget(uri.fsPath)),
    locks.onDidCreate(refreshDir),
    locks.onDidChange(refreshDir),
    locks.onDidDelete(refreshDir),
    // A manifest opened from anywhere (outside the workspace, or past the scan's limit) counts too.
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (doc.uri.scheme === 'file' && manifestKind(doc.uri.fsPath) && !model.get(doc.uri.fsPath)) refresh(doc.uri);
    }),
  );
}
