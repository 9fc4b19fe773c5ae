import * as vscode from 'vscode';
import type { CoordinatorHost } from '../core/coordinator/host';
import type { HomeLayout } from '../core/home';
import type { Logger } from '../core/log';
import { directorySize } from '../core/store/disk-usage';
import type { InstalledTool } from '../shared/protocol';
import { progressFigures } from '../shared/progress';
import { formatSize } from '../shared/wording';
import type { DownloadRow, Jobs } from './jobs';
import type { WorkspaceModel } from './workspace-model';

type Node =
  | { kind: 'group'; id: 'downloads' | 'installed' }
  | { kind: 'download'; row: DownloadRow }
  | { kind: 'toolchain'; installed: InstalledTool }
  | { kind: 'cache' };

// The same objects every time: a repaint of one group names it (VS Code matches elements by identity).
const DOWNLOADS: Node = { kind: 'group', id: 'downloads' };
const INSTALLED: Node = { kind: 'group', id: 'installed' };
const CACHE: Node = { kind: 'cache' };

/**
 * The Toolchains view: downloads in flight (anyone's), installed toolchains with their size and
 * the workspace manifests that use them, and the cache's total size. Sizes are counted once per
 * toolchain directory (a published tree never changes) and the cache total once per refresh.
 */
export class ToolchainsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sizes = new Map<string, Promise<number>>();
  private installed: Promise<InstalledTool[]> | undefined;
  private cacheSize: Promise<number> | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly host: CoordinatorHost,
    private readonly layout: HomeLayout,
    private readonly jobs: Jobs,
    private readonly model: WorkspaceModel,
    private readonly logger: Logger,
  ) {
    let downloading = false;
    this.subscriptions = [
      model.onDidChange(() => this.changed.fire(undefined)),
      // Progress ticks repaint only the downloads; the end of downloads repaints everything.
      jobs.onDidChange(() => {
        const now = jobs.active().length > 0;
        if (now && downloading) this.changed.fire(DOWNLOADS);
        else if (now || downloading) this.refresh(!now);
        downloading = now;
      }),
    ];
  }

  /** Re-reads what is installed (and the sizes) when `installedChanged`; always repaints. */
  refresh(installedChanged = true): void {
    if (installedChanged) {
      this.installed = undefined;
      this.cacheSize = undefined;
    }
    this.changed.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem | Promise<vscode.TreeItem> {
    switch (node.kind) {
      case 'group': {
        const downloads = node.id === 'downloads';
        const item = new vscode.TreeItem(downloads ? 'Downloading' : 'Installed', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.id}`;
        item.iconPath = new vscode.ThemeIcon(downloads ? 'cloud-download' : 'package');
        return item;
      }
      case 'download':
        return downloadItem(node.row);
      case 'toolchain':
        return this.toolchainItem(node.installed);
      case 'cache':
        return this.cacheItem();
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const roots: Node[] = [];
      if (this.jobs.active().length > 0) roots.push(DOWNLOADS);
      if ((await this.listInstalled()).length > 0) roots.push(INSTALLED, CACHE);
      return roots;
    }
    if (node.kind !== 'group') return [];
    if (node.id === 'downloads') return this.jobs.active().map((row) => ({ kind: 'download', row }));
    return (await this.listInstalled()).map((installed) => ({ kind: 'toolchain', installed }));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }

  private listInstalled(): Promise<InstalledTool[]> {
    this.installed ??= this.host.api.listInstalled().then(
      (tools) => tools.sort((a, b) => a.tool.localeCompare(b.tool) || b.version.localeCompare(a.version, undefined, { numeric: true })),
      (error: unknown) => {
        this.logger.warn(`Could not list installed toolchains: ${String(error)}`);
        this.installed = undefined;
        return [];
      },
    );
    return this.installed;
  }

  private async toolchainItem(tool: InstalledTool): Promise<vscode.TreeItem> {
    const item = new vscode.TreeItem(`${tool.tool} ${tool.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `toolchain:${tool.dir}`;
    item.contextValue = 'toolchain';
    item.iconPath = new vscode.ThemeIcon('tools');
    let size = this.sizes.get(tool.dir);
    if (!size) {
      size = directorySize(tool.dir);
      this.sizes.set(tool.dir, size);
    }
    const users = this.model.all().filter((m) => m.tools.some((t) => t.name === tool.tool && t.version === tool.version));
    const usedBy = users.map((m) => vscode.workspace.asRelativePath(m.file));
    item.description = [formatSize(await size), usedBy.length > 0 ? `used by ${usedBy.join(', ')}` : 'unused here'].join(' · ');
    item.tooltip = new vscode.MarkdownString([`**${tool.tool} ${tool.version}** (${tool.platform})`, '', `\`${tool.dir}\``, '', ...usedBy.map((u) => `- ${u}`)].join('\n'));
    return item;
  }

  private async cacheItem(): Promise<vscode.TreeItem> {
    this.cacheSize ??= directorySize(this.layout.root);
    const item = new vscode.TreeItem(`Cache: ${formatSize(await this.cacheSize)}`, vscode.TreeItemCollapsibleState.None);
    item.id = 'cache';
    item.iconPath = new vscode.ThemeIcon('database');
    item.tooltip = this.layout.root;
    item.command = { command: 'quartermaster.cleanUp', title: 'Clean Up Unused' };
    return item;
  }
}

function downloadItem(row: DownloadRow): vscode.TreeItem {
  const name = row.version ? `${row.tool} ${row.version}` : row.tool;
  const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
  item.id = `download:${row.jobId}:${row.tool}`;
  item.contextValue = 'download';
  item.iconPath = new vscode.ThemeIcon('sync~spin');
  item.description = `${progressFigures(row).text} · ${row.requester.label}`;
  item.tooltip = `${name}: ${row.phase}, for ${row.requester.kind} "${row.requester.label}" (pid ${row.requester.pid})`;
  return item;
}
