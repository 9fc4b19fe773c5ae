import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CoordinatorHost } from '../core/coordinator/host';
import { isQmError } from '../core/errors';
import type { Logger } from '../core/log';
import type { ManifestStatus, ToolStatus } from '../core/workspace/manifest-status';
import type { Jobs } from './jobs';
import type { AcquiredToolchain, AcquireRequest, QuartermasterToolchainsApi, ToolchainsChangeEvent } from './public-api';
import { QUARTERMASTER_API_VERSION } from './public-api';
import { installedToolchain, type ToolchainLeases } from './toolchain-leases';
import type { WorkspaceModel } from './workspace-model';

export interface ToolchainApiDeps {
  host: CoordinatorHost;
  jobs: Jobs;
  model: WorkspaceModel;
  leases: ToolchainLeases;
  logger: Logger;
  /** Resolves once the workspace's manifests have been found. */
  discovered: () => Promise<void>;
}

/** An `Error` with the `code` public-api.ts lists. */
export class AcquireError extends Error {
  override readonly name = 'AcquireError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The API other extensions get (public-api.ts): a declared toolchain for a folder, installed
 * through the coordinator like any other job, and events when what a manifest puts in force
 * changes. It reads the same WorkspaceModel as the status bar, so both always agree.
 */
export class ToolchainApi implements QuartermasterToolchainsApi, vscode.Disposable {
  readonly apiVersion = QUARTERMASTER_API_VERSION;
  private readonly changed = new vscode.EventEmitter<ToolchainsChangeEvent>();
  readonly onDidChangeToolchains = this.changed.event;
  /** Per manifest, what the last event said (so a refresh that changed nothing fires nothing). */
  private readonly told = new Map<string, string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly deps: ToolchainApiDeps) {
    this.subscription = deps.model.onDidChange(() => this.compare());
  }

  async acquire(request: AcquireRequest, token?: vscode.CancellationToken): Promise<AcquiredToolchain> {
    const { model, logger } = this.deps;
    const who = typeof request.requestingExtensionId === 'string' && request.requestingExtensionId !== '' ? request.requestingExtensionId : 'another extension';
    const target = request.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!target || target.scheme !== 'file') throw new AcquireError('ENOMANIFEST', `${who} asked for ${request.tool} without a file or folder on this machine to find a manifest for`);
    await this.deps.discovered().catch(() => undefined);
    await model.settled();
    const status = this.manifestFor(target);
    if (!status) throw new AcquireError('ENOMANIFEST', `No qm.toml, .tool-versions, .nvmrc or .node-version applies to ${target.fsPath}`);
    let tool = status.tools.find((t) => t.name === request.tool);
    if (!tool) throw new AcquireError('ENOTDECLARED', `${vscode.workspace.asRelativePath(status.file)} does not declare ${request.tool}`);
    if (tool.error) throw new AcquireError(tool.error.code, `${request.tool} = "${tool.spec}" in ${vscode.workspace.asRelativePath(status.file)}: ${tool.error.message}`);
    if (tool.version === undefined) throw new AcquireError('ENOVERSION', `${request.tool} = "${tool.spec}" is not resolved yet`);
    if (!tool.installed) {
      if (request.install === false) throw new AcquireError('ENOTINSTALLED', `${request.tool} ${tool.version} is not installed`);
      if (!vscode.workspace.isTrusted) throw new AcquireError('EUNTRUSTED', `${request.tool} ${tool.version} is not installed, and nothing is installed for an extension in an untrusted workspace`);
      logger.info(`${who} asks for ${request.tool} ${tool.version} (${status.file})`);
      await this.install(tool, who, token);
      await model.refresh(status.file);
      tool = model.get(status.file)?.tools.find((t) => t.name === request.tool) ?? tool;
    }
    return this.describe(status, tool);
  }

  async hold(toolchain: AcquiredToolchain, purpose: string, pid?: number): Promise<vscode.Disposable> {
    return this.deps.leases.hold([{ tool: toolchain.tool, version: toolchain.version, platform: toolchain.platform }], purpose, pid);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  /** The manifest in force for a file, or for a folder (a workspace folder's own, else the nearest above). */
  private manifestFor(uri: vscode.Uri): ManifestStatus | undefined {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath === uri.fsPath);
    return (folder ? this.deps.model.manifestForFolder(folder) : undefined) ?? this.deps.model.manifestFor(uri.fsPath);
  }

  private async install(tool: ToolStatus, who: string, token: vscode.CancellationToken | undefined): Promise<void> {
    const controller = new AbortController();
    const cancelled = token?.onCancellationRequested(() => controller.abort());
    try {
      await this.deps.jobs.run({ title: `Installing ${tool.name} ${tool.version} for ${who}`, kind: 'extension', tools: [tool.request], notify: true, signal: controller.signal });
    } catch (error) {
      if (isQmError(error)) throw new AcquireError(error.code, error.message);
      throw error;
    } finally {
      cancelled?.dispose();
    }
  }

  private async describe(status: ManifestStatus, tool: ToolStatus): Promise<AcquiredToolchain> {
    const found = tool.installed ? installedToolchain(tool, await this.deps.host.api.listInstalled()) : undefined;
    if (!found) throw new AcquireError('ENOTINSTALLED', `${tool.name} ${tool.version} is not installed (it was removed meanwhile?)`);
    return {
      tool: tool.name,
      version: found.version,
      spec: tool.spec,
      manifest: vscode.Uri.file(status.file),
      platform: found.platform,
      dir: found.dir,
      binPaths: found.binPaths,
      env: found.env ?? {},
      path: [...found.binPaths, process.env.PATH ?? ''].filter((part) => part !== '').join(path.delimiter),
    };
  }

  private compare(): void {
    const now = new Map(this.deps.model.all().map((status) => [status.file, status]));
    for (const [file, status] of now) {
      if (status.tools.some((t) => t.pending)) continue; // not resolved yet: nothing to say
      const tools = status.tools.map((t) => ({ tool: t.name, spec: t.spec, version: t.version, installed: t.installed }));
      const key = JSON.stringify(tools);
      if (this.told.get(file) === key) continue;
      this.told.set(file, key);
      this.changed.fire({ manifest: vscode.Uri.file(file), tools });
    }
    for (const file of [...this.told.keys()]) {
      if (now.has(file)) continue;
      this.told.delete(file);
      this.changed.fire({ manifest: vscode.Uri.file(file), tools: [] });
    }
  }
}
