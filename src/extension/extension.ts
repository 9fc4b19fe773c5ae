import * as vscode from 'vscode';
import { CoordinatorHost } from '../core/coordinator/host';
import { defaultHome } from '../core/home';
import type { Logger } from '../core/log';
import { currentPlatform } from '../core/platform';
import { createCore } from '../core/services';

/**
 * Activation: this window hosts (or joins) the one coordinator for the shared QM_HOME, and every
 * integrated terminal and task learns where it is through QM_COORDINATOR, so that `qm` typed in
 * a terminal sends its work to the same download manager. Commands, the language server, the
 * status bar and tasks arrive in later issues and go through the same host.
 */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = vscode.window.createOutputChannel('Quartermaster', { log: true });
  context.subscriptions.push(channel);
  const logger: Logger = {
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
  const home = vscode.workspace.getConfiguration('quartermaster').get<string>('home') || defaultHome();
  // Modules do no work at import; everything starts here, when VS Code activates us.
  const core = createCore({ home, logger });
  const host = await CoordinatorHost.start({ core, platform: currentPlatform(), logger });
  context.subscriptions.push({ dispose: () => void host.dispose().then(() => core.close()) });
  context.environmentVariableCollection.replace('QM_COORDINATOR', host.endpoint);
  context.environmentVariableCollection.replace('QM_HOME', home);
  logger.info(`QM_HOME ${home}; coordinator ${host.role} at ${host.endpoint}`);
  host.onRoleChange((role) => logger.info(`Coordinator role: ${role}`));
}

export function deactivate(): void {
  // Everything is released through context.subscriptions.
}
