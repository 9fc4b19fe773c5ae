import * as path from 'node:path';
import type { FSWatcher } from 'chokidar';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { LOCK_FILE } from '../core/lockfile/qm-lock';
import { manifestKind } from '../core/manifest/find';
import { isVersionFileKind } from '../core/manifest/version-files';
import type { WorkspaceModel } from './workspace-model';

/** Directories no manifest that matters lives in, and that are expensive to watch. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '.zig-cache', 'zig-cache', 'zig-out', '.venv', 'target', 'dist', 'out']);
/** Deep enough for monorepos; bounded so a pathological tree cannot exhaust inotify watches. */
const MAX_DEPTH = 8;

/**
 * Manifests and qm.lock files in the workspace folders, created, changed or deleted by anyone
 * (the editor, git, `qm use` in a terminal), watched with chokidar. Only manifest and lockfile
 * names are reported, and heavy directories (node_modules, .git, build output) are never
 * entered. A manifest opened from outside the workspace is refreshed when it opens.
 */
export class ManifestWatcher implements vscode.Disposable {
  private watcher: FSWatcher | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private generation = 0;

  constructor(private readonly model: WorkspaceModel, private readonly logger: Logger) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.restart()),
      vscode.workspace.onDidOpenTextDocument((doc) => {
        if (doc.uri.scheme === 'file' && manifestKind(doc.uri.fsPath) && !model.get(doc.uri.fsPath)) void model.refresh(doc.uri.fsPath);
      }),
    );
  }

  /** (Re)starts watching the current workspace folders; resolves once chokidar is ready. */
  async restart(): Promise<void> {
    const generation = ++this.generation;
    await this.watcher?.close();
    this.watcher = undefined;
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    if (roots.length === 0) return;
    const chokidar = await import('chokidar');
    if (generation !== this.generation) return;
    const watcher = chokidar.watch(roots, {
      ignoreInitial: true,
      depth: MAX_DEPTH,
      // An editor's save (and fs.writeFile) truncates, then writes: reported at the truncation, the
      // file read empty, and the write's own event fell in chokidar's 5 ms throttle. Wait until the
      // size holds still for 50 ms, so a manifest is read once, whole.
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
      ignored: (file, stats) => SKIPPED_DIRS.has(path.basename(file)) || (stats?.isFile() === true && !isWatchedName(file)),
    });
    this.watcher = watcher;
    watcher.on('add', (file) => this.changed(file));
    watcher.on('change', (file) => this.changed(file));
    watcher.on('unlink', (file) => this.removed(file));
    watcher.on('error', (error) => this.logger.warn(`Watching the workspace's manifests failed: ${String(error)}`));
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
  }

  /** Stops watching; resolves when chokidar has let go of every directory. */
  async close(): Promise<void> {
    this.generation++;
    for (const subscription of this.subscriptions) subscription.dispose();
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }

  dispose(): void {
    void this.close();
  }

  private changed(file: string): void {
    const kind = manifestKind(file);
    if (kind) void this.model.refresh(file);
    // A version file adds to the manifest beside it (qm.toml declares the rest): that one changes too.
    if (kind && isVersionFileKind(kind)) this.siblingsChanged(file);
    else if (path.basename(file) === LOCK_FILE) this.lockChanged(file);
  }

  private removed(file: string): void {
    const kind = manifestKind(file);
    if (kind) this.model.forget(file);
    if (kind && isVersionFileKind(kind)) this.siblingsChanged(file);
    else if (path.basename(file) === LOCK_FILE) this.lockChanged(file);
  }

  private siblingsChanged(file: string): void {
    for (const status of this.model.all()) if (status.dir === path.dirname(file) && status.file !== file) void this.model.refresh(status.file);
  }

  /** A lockfile changes what its directory's manifest resolves to. */
  private lockChanged(file: string): void {
    for (const status of this.model.all()) if (status.dir === path.dirname(file)) void this.model.refresh(status.file);
  }
}

function isWatchedName(file: string): boolean {
  return manifestKind(file) !== undefined || path.basename(file) === LOCK_FILE;
}
