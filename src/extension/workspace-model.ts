import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CoordinatorHost } from '../core/coordinator/host';
import type { HomeLayout } from '../core/home';
import type { Logger } from '../core/log';
import { loadManifest, MANIFEST_FILE_NAMES } from '../core/manifest/find';
import { recordManifestUse } from '../core/state/usage';
import type { Manifest } from '../core/manifest/types';
import { declaredStatus, statusInForce, type ManifestStatus } from '../core/workspace/manifest-status';

/** Every file `qm` reads a tool from: qm.toml, the legacy files and the version files (src/core's list). */
export const MANIFEST_GLOB = `**/{${MANIFEST_FILE_NAMES.join(',')}}`;

/** Files that are manifests only while they declare a tool (package.json's engines, go.mod's go line). */
const MANIFESTS_WHEN_DECLARING: ReadonlySet<string> = new Set(['package.json', 'go.mod']);

export interface WorkspaceModelOptions {
  host: CoordinatorHost;
  layout: HomeLayout;
  platform: string;
  logger: Logger;
  /** Whether specs may be resolved against the indexes (fetching them): the workspace is trusted. */
  network: () => boolean;
}

/**
 * What every manifest in the workspace declares and whether it is installed. Each manifest is
 * refreshed on its own, one refresh at a time, and a change that arrives during a refresh runs
 * one more refresh after it: the latest state always wins, and nothing waits on a lock.
 */
export class WorkspaceModel implements vscode.Disposable {
  private readonly statuses = new Map<string, ManifestStatus>();
  /** Per manifest, the last version of it that could be used: in force while the file cannot. */
  private readonly lastGood = new Map<string, Manifest>();
  private readonly refreshes = new Map<string, { running: Promise<void>; again: boolean }>();
  private readonly changed = new vscode.EventEmitter<ManifestStatus | undefined>();
  /** A manifest was refreshed (its status), or one went away (undefined). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly options: WorkspaceModelOptions) {}

  all(): ManifestStatus[] {
    return [...this.statuses.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  get(file: string): ManifestStatus | undefined {
    return this.statuses.get(file);
  }

  /** Finds the workspace's manifests and refreshes each; resolves when all are known. */
  async discover(): Promise<void> {
    const uris = await vscode.workspace.findFiles(MANIFEST_GLOB, '**/node_modules/**', 500);
    await Promise.all(uris.filter((uri) => uri.scheme === 'file').map((uri) => this.refresh(uri.fsPath)));
  }

  /** Refreshes every known manifest, e.g. after the installed toolchains changed. */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.statuses.keys()].map((file) => this.refresh(file)));
  }

  refresh(file: string): Promise<void> {
    const current = this.refreshes.get(file);
    if (current) {
      current.again = true;
      return current.running;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = (async () => {
      do {
        entry.again = false;
        await this.load(file);
      } while (entry.again);
    })().finally(() => {
      this.refreshes.delete(file);
      // Once more when idle: views that wait out a refresh (the status bar's warning) settle now.
      const status = this.statuses.get(file);
      if (status && !this.busy) this.changed.fire(status);
    });
    this.refreshes.set(file, entry);
    return entry.running;
  }

  forget(file: string): void {
    this.lastGood.delete(file);
    if (this.statuses.delete(file)) this.changed.fire(undefined);
  }

  get busy(): boolean {
    return this.refreshes.size > 0;
  }

  /** Resolves when no refresh is running. */
  async settled(): Promise<void> {
    while (this.refreshes.size > 0) await Promise.all([...this.refreshes.values()].map((r) => r.running));
  }

  /**
   * The manifest in force for a file: the nearest one in its directory or above (within a
   * directory, qm.toml before .tool-versions before .nvmrc before .node-version), as `qm` finds it.
   */
  manifestFor(file: string): ManifestStatus | undefined {
    let best: ManifestStatus | undefined;
    for (const status of this.statuses.values()) {
      if (!isInside(file, status.dir)) continue;
      if (!best || status.dir.length > best.dir.length || (status.dir === best.dir && rank(status.file) < rank(best.file))) best = status;
    }
    return best;
  }

  /** The manifest at the root of a workspace folder, else the shallowest one inside it. */
  manifestForFolder(folder: vscode.WorkspaceFolder): ManifestStatus | undefined {
    const root = folder.uri.fsPath;
    const inside = [...this.statuses.values()].filter((s) => isInside(s.dir, root));
    inside.sort((a, b) => a.dir.length - b.dir.length || rank(a.file) - rank(b.file));
    return inside[0];
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async load(file: string): Promise<void> {
    const { host, platform, logger } = this.options;
    try {
      // A manifest seen for the first time shows its specs at once; resolving may take a while.
      const manifest = await loadManifest(file);
      // package.json and go.mod are everywhere: as for `qm`, one that declares nothing is no manifest.
      if (manifest.tools.length === 0 && MANIFESTS_WHEN_DECLARING.has(manifest.kind)) return this.forget(file);
      if (!this.statuses.has(file)) {
        const declared = declaredStatus(manifest);
        this.statuses.set(file, declared);
        this.changed.fire(declared);
      }
      // A half-typed or bad value keeps the last good version in force: terminals keep their toolchains.
      const { status, good } = await statusInForce(manifest, this.lastGood.get(file), host.api, { platform, network: this.options.network() });
      if (good) this.lastGood.set(file, good);
      this.statuses.set(file, status);
      if (status.heldBack && status.error) logger.warn(`${status.error.message}; the last good ${path.basename(file)} stays in force until it is fixed`);
      for (const tool of status.tools) {
        if (tool.error && tool.error.code !== 'EUNTRUSTED') logger.warn(`${file}: ${tool.name} "${tool.spec}": ${tool.error.message}`);
      }
      // What `qm gc` keeps toolchains for: manifests used recently, by any process.
      await recordManifestUse(this.options.layout, file).catch((error: unknown) => logger.debug(`Could not record the use of ${file}: ${String(error)}`));
      this.changed.fire(status);
    } catch (error) {
      // Deleted, unreadable, or no longer a manifest: it declares nothing now.
      logger.debug(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      this.forget(file);
    }
  }
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function rank(file: string): number {
  const index = MANIFEST_FILE_NAMES.indexOf(path.basename(file) as (typeof MANIFEST_FILE_NAMES)[number]);
  return index < 0 ? MANIFEST_FILE_NAMES.length : index;
}
