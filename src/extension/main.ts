import * as path from 'node:path';
import * as vscode from 'vscode';
import { CoordinatorHost } from '../core/coordinator/host';
import type { Logger } from '../core/log';
import { currentPlatform, platformId } from '../core/platform';
import { isQmError } from '../core/errors';
import { createCore, type CoreOptions, type CoreServices } from '../core/services';
import type { QuartermasterApi } from './api';
import { AutoInstaller } from './auto-install';
import { CacheWatcher } from './cache-watcher';
import { writeCliShim } from './cli-shim';
import { registerInstallCommands, type InstallCommandDeps } from './commands/install';
import { registerMaintenanceCommands } from './commands/maintenance';
import { registerSwitchCommand } from './commands/switch-version';
import { registerToolchainActions } from './commands/toolchain-actions';
import { Jobs } from './jobs';
import { startLanguageClient, untilServedDocumentOpen, type QmLanguageClient } from './language-client';
import { ManifestWatcher } from './manifest-watcher';
import { affectsCore, autoInstallFor, coreOptions, environmentFor, readSettings } from './settings';
import { ToolchainStatusBar } from './status-bar';
import { QmTaskProvider, TASK_TYPE } from './tasks';
import { TerminalEnvironment } from './terminal-env';
import { ToolchainsView } from './toolchains-view';
import { DebugEnvironment } from './debug-env';
import { ManifestLanguageStatus } from './language-status';
import { ToolchainApi } from './toolchain-api';
import { ToolchainLeases } from './toolchain-leases';
import { WorkspaceModel } from './workspace-model';

/** What start() hands back to the small entry (extension.ts): the API, and what deactivate() closes. */
export interface Started {
  api: QuartermasterApi;
  /** Closes and waits for what keeps the extension host's event loop alive (see deactivate in extension.ts). */
  close(): Promise<void>;
}

/**
 * The extension proper, loaded by extension.ts after activate() returned (out/extension-main.js):
 * this window hosts (or joins) the one coordinator for the shared QM_HOME; every install —
 * palette, status bar, language server, automatic fetch, tasks, `qm` in a terminal — goes through
 * it. start() itself is synchronous and does the minimum (objects, commands, views): the
 * coordinator's election, the language client, chokidar, the launcher and the workspace scan
 * start after it returned, and what needs the coordinator meanwhile waits for it.
 */
export function start(context: vscode.ExtensionContext, channel: vscode.LogOutputChannel): Started {
  const started = Date.now();
  const closers: Array<() => Promise<unknown>> = [];
  const logger: Logger = {
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
  const settings = readSettings();
  for (const problem of settings.problems) {
    logger.warn(problem);
    void vscode.window.showWarningMessage(`Quartermaster: ${problem}.`, 'Open Settings').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'quartermaster.');
    });
  }
  const platform = currentPlatform();
  const core = createCoreOrWithoutProxy(coreOptions(settings, logger), logger);
  // The election (a lock, a probe, perhaps a listen) runs off the activation path: what asks the
  // coordinator meanwhile waits for its outcome.
  const host = CoordinatorHost.begin({ core, platform, logger });
  closers.push(() => host.dispose().then(() => core.close()));
  void host.ready.then(() => logger.info(`QM_HOME ${settings.home}; coordinator ${host.role} at ${host.endpoint}; extension host pid ${process.pid}`));
  context.subscriptions.push(host.onRoleChange((role) => logger.info(`Coordinator role: ${role}`)));

  const jobs = new Jobs(host, logger);
  const model = new WorkspaceModel({ host, layout: core.layout, platform: platformId(platform), logger, network: () => vscode.workspace.isTrusted });
  const statusBar = new ToolchainStatusBar(model, jobs);
  const view = new ToolchainsView(host, core.layout, jobs, model, logger);
  const leases = new ToolchainLeases(core.leases, core.layout, model, () => host.api.listInstalled(), logger);
  const languageStatus = new ManifestLanguageStatus(model, jobs);
  context.subscriptions.push(jobs, model, statusBar, view, leases, languageStatus);

  const shimDir = path.join(context.globalStorageUri.fsPath, 'bin');
  const cli = context.asAbsolutePath(path.join('out', 'cli.js'));
  const variables = (): Record<string, string> => ({ ...environmentFor(settings), QM_COORDINATOR: host.endpoint });
  const terminals = new TerminalEnvironment(context.environmentVariableCollection, model, shimDir, variables);
  context.subscriptions.push(terminals, vscode.debug.registerDebugConfigurationProvider('*', new DebugEnvironment(model, shimDir, variables)));
  const launcherDir = afterStart(() => writeCliShim(shimDir, cli)).then(
    () => shimDir,
    (error: unknown) => {
      logger.warn(`Could not write the qm launcher in ${shimDir}: ${String(error)}`);
      return undefined;
    },
  );

  const deps: InstallCommandDeps = { core, host, jobs, model, platform, logger, currentManifest: () => statusBar.current() };
  let languageClient: QmLanguageClient | undefined;
  const installedChanged = (): void => {
    view.refresh();
    languageClient?.installedChanged();
    void model.refreshAll();
  };
  context.subscriptions.push(
    ...registerInstallCommands(deps),
    registerSwitchCommand(deps),
    ...registerToolchainActions(logger),
    ...registerMaintenanceCommands({ core, host, model, logger, changed: installedChanged }),
    vscode.commands.registerCommand('quartermaster.cancelDownloads', (item?: { row?: { jobId?: unknown } }) => {
      // From a download in the Toolchains view: that job only; from anywhere else: all of ours.
      const jobId = item?.row?.jobId;
      const count = typeof jobId === 'string' ? Number(jobs.cancel(jobId)) : jobs.cancelAll();
      vscode.window.setStatusBarMessage(count > 0 ? `Quartermaster: cancelled ${count} download${count === 1 ? '' : 's'}` : 'Quartermaster: nothing of this window is downloading', 3000);
      return count;
    }),
    vscode.commands.registerCommand('quartermaster.showLog', () => channel.show(true)),
    vscode.commands.registerCommand('quartermaster.refresh', () => installedChanged()),
    vscode.window.createTreeView('quartermaster.toolchains', { treeDataProvider: view, showCollapseAll: false }),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new QmTaskProvider(model, { node: process.execPath, cli, launcherDir, env: variables })),
  );

  // Lets menus show Cancel Downloads only while something is downloading.
  let downloading = false;
  context.subscriptions.push(
    jobs.onDidChange(() => {
      if (downloading === jobs.active().length > 0) return;
      downloading = !downloading;
      void vscode.commands.executeCommand('setContext', 'quartermaster.downloading', downloading);
    }),
  );

  const autoInstaller = new AutoInstaller({
    jobs,
    logger,
    setting: autoInstallFor,
    trusted: () => vscode.workspace.isTrusted,
    installed: (status) => model.refresh(status.file),
    current: (file) => model.get(file),
  });
  context.subscriptions.push(
    autoInstaller,
    model.onDidChange((status) => autoInstaller.consider(status)),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void model.refreshAll();
      languageClient?.restart().catch((error: unknown) => logger.error(`The language server did not restart: ${String(error)}`));
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affectsCore(event)) return;
      void vscode.window
        .showInformationMessage('Quartermaster: reload the window to use the changed cache, mirror, proxy or download settings.', 'Reload Window')
        .then((choice) => choice && vscode.commands.executeCommand('workbench.action.reloadWindow'));
    }),
  );

  // Watchers and the workspace scan start on the next turn of the event loop: start() returns
  // first (each still runs at once, and whenIdle waits for them).
  const manifestWatcher = new ManifestWatcher(model, logger);
  closers.push(() => manifestWatcher.close());
  const watchingManifests = afterStart(() => manifestWatcher.restart());
  watchingManifests.catch((error: unknown) => logger.warn(`Not watching the workspace's manifests: ${String(error)}`));
  const cacheWatcher = afterStart(() => CacheWatcher.start(core.layout, logger, installedChanged));
  closers.push(() => cacheWatcher.then((watcher) => watcher.close()));
  cacheWatcher.catch((error: unknown) => logger.warn(`Not watching the shared cache: ${String(error)}`));
  const discovery = afterStart(() => model.discover());
  discovery.catch((error: unknown) => logger.error(`Could not scan the workspace for manifests: ${String(error)}`));
  // The language server starts when a manifest, lockfile or version file is first open in an
  // editor (at once if one is): loading vscode-languageclient (out/vscode-languageclient.js) and
  // starting the server's process take a while, and have nothing to do before.
  const served = untilServedDocumentOpen();
  context.subscriptions.push(served);
  const client = afterStart(() => served.opened).then(() => startLanguageClient({ serverModule: context.asAbsolutePath(path.join('out', 'server.js')), host, jobs, logger })).then((started) => {
    languageClient = started;
    closers.push(() => started.stop());
    return started;
  });
  client.catch((error: unknown) => logger.error(`The language server did not start: ${String(error)}`));
  logger.info(`Started in ${Date.now() - started} ms`);

  const changed = new vscode.EventEmitter<void>();
  const toolchains = new ToolchainApi({ host, jobs, model, leases, logger, discovered: () => discovery });
  context.subscriptions.push(changed, toolchains, model.onDidChange(() => changed.fire()), jobs.onDidChange(() => changed.fire()));
  const api: QuartermasterApi = {
    apiVersion: toolchains.apiVersion,
    acquire: (request, token) => toolchains.acquire(request, token),
    hold: (toolchain, purpose, pid) => toolchains.hold(toolchain, purpose, pid),
    onDidChangeToolchains: toolchains.onDidChangeToolchains,
    onDidChange: changed.event,
    home: core.layout.root,
    endpoint: host.endpoint,
    role: () => host.role,
    statusBar: () => statusBar.snapshot(),
    languageStatus: () => languageStatus.snapshot(),
    manifests: () => model.all(),
    downloads: () => jobs.active(),
    whenIdle: async () => {
      await host.ready;
      await discovery.catch(() => undefined);
      await cacheWatcher.catch(() => undefined);
      await watchingManifests.catch(() => undefined);
      do {
        await model.settled();
        await jobs.whenIdle();
      } while (model.busy || jobs.active().length > 0 || jobs.running > 0);
    },
  };
  return {
    api,
    close: async () => {
      await Promise.allSettled(closers.splice(0).map((close) => close()));
    },
  };
}

/** Runs `run` once start() has returned (setImmediate: after its microtasks too). */
function afterStart<T>(run: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(run);
}

/**
 * A proxy the core refuses (EURL: an unparsable HTTPS_PROXY in the environment, say) must not
 * leave the window without Quartermaster: it says so and works without proxy variables.
 */
function createCoreOrWithoutProxy(options: CoreOptions, logger: Logger): CoreServices {
  try {
    return createCore(options);
  } catch (error) {
    if (!isQmError(error, 'EURL')) throw error;
    logger.error(`${error.message}; working without a proxy`);
    void vscode.window.showErrorMessage(`Quartermaster: ${error.message}. Downloads go without a proxy until it is fixed.`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(https?|all)_proxy$/i.test(name)));
    return createCore({ ...options, env, proxy: undefined });
  }
}
