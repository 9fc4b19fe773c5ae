import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { missingTools, type ManifestStatus } from '../core/workspace/manifest-status';
import { reportError } from './error-boundary';
import type { Jobs } from './jobs';
import type { AutoInstall } from './settings';

export interface AutoInstallOptions {
  jobs: Jobs;
  logger: Logger;
  /** `quartermaster.autoInstall` for a manifest (a resource-scoped setting). */
  setting: (file: string) => AutoInstall;
  trusted: () => boolean;
  /** After a fetch: re-read the manifest (and follow qm.lock). */
  installed: (status: ManifestStatus) => Promise<void>;
}

/**
 * Fetches what a manifest declares and lacks when it is opened or changed, per
 * `quartermaster.autoInstall`: always, after asking (default), or never. Never in an untrusted
 * workspace. Each manifest is considered once per set of missing versions: declining, or a
 * failure, is not asked again until the manifest asks for something else.
 */
export class AutoInstaller {
  private readonly considered = new Map<string, string>();
  /** Per manifest, the tool@version a fetch started here is still bringing. */
  private readonly fetching = new Map<string, ReadonlySet<string>>();

  constructor(private readonly options: AutoInstallOptions) {}

  /** Called with every refreshed manifest status; starts at most one job per manifest state. */
  consider(status: ManifestStatus): void {
    const missing = missingTools(status);
    const key = missing.map((t) => `${t.name}@${t.version}`).sort().join(',');
    if (missing.length === 0) {
      this.considered.delete(status.file);
      return;
    }
    if (this.considered.get(status.file) === key) return;
    // One part of a fetch may land before the rest: what is still on its way is not news.
    const inFlight = this.fetching.get(status.file);
    if (inFlight && missing.every((t) => inFlight.has(`${t.name}@${t.version}`))) return;
    const { logger } = this.options;
    const names = missing.map((t) => `${t.name} ${t.version}`).join(', ');
    const file = vscode.workspace.asRelativePath(status.file);
    if (!this.options.trusted()) {
      logger.info(`${file} needs ${names}; not fetched automatically in an untrusted workspace`);
      this.considered.set(status.file, key);
      return;
    }
    const setting = this.options.setting(status.file);
    if (setting === 'never') return;
    this.considered.set(status.file, key);
    if (setting === 'always') {
      // Nobody asked just now: the status bar's spinner and the Toolchains view show it.
      void this.fetch(status, missing, names, false);
      return;
    }
    void vscode.window
      .showInformationMessage(`${file} declares ${names}, which ${missing.length === 1 ? 'is' : 'are'} not installed.`, 'Install', 'Always Install', 'Not Now')
      .then(async (choice) => {
        if (choice === 'Always Install') await vscode.workspace.getConfiguration('quartermaster').update('autoInstall', 'always', vscode.ConfigurationTarget.Global);
        // A click on Install: its progress shows where the click was, as a notification.
        if (choice === 'Install' || choice === 'Always Install') await this.fetch(status, missing, names, true);
      });
  }

  private async fetch(status: ManifestStatus, missing: ReturnType<typeof missingTools>, names: string, notify: boolean): Promise<void> {
    const file = vscode.workspace.asRelativePath(status.file);
    const bringing: ReadonlySet<string> = new Set(missing.map((t) => `${t.name}@${t.version}`));
    this.fetching.set(status.file, bringing);
    try {
      await this.options.jobs.run({ title: `Fetching ${names} for ${file}`, kind: 'auto-install', tools: missing.map((t) => t.request), notify });
      this.options.logger.info(`Fetched ${names} for ${file}`);
      await this.options.installed(status);
    } catch (error) {
      reportError(this.options.logger, `Fetching ${names} for ${file}`, error);
    } finally {
      if (this.fetching.get(status.file) === bringing) this.fetching.delete(status.file);
    }
  }
}
