import * as vscode from 'vscode';
import { DownloadManager } from '../core/download-manager';
import { Downloader } from '../core/fetch/downloader';
import { defaultHome } from '../core/home';
import type { Logger } from '../core/log';

/**
 * Activation: one download manager for the whole extension host, over the shared QM_HOME.
 * Commands, the language server and tasks arrive in later issues and will all go through it.
 */
export function activate(context: vscode.ExtensionContext): void {
  const channel = vscode.window.createOutputChannel('Quartermaster', { log: true });
  context.subscriptions.push(channel);
  const logger: Logger = {
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
  const home = vscode.workspace.getConfiguration('quartermaster').get<string>('home') || defaultHome();
  const downloader = new Downloader({ logger });
  const manager = new DownloadManager({ home, fetcher: downloader, logger });
  context.subscriptions.push({ dispose: () => void downloader.close() });
  logger.info(`Quartermaster uses QM_HOME ${home}`);
  void manager.recover().catch((error: unknown) => logger.warn(`Cache recovery failed: ${String(error)}`));
}

export function deactivate(): void {
  // Everything is released through context.subscriptions.
}
