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
  /** The manifest's status now (undefined once it is gone): what a prompt is checked against. */
  current: (file: string) => ManifestStatus | undefined;
}

/** The command the prompt's Install and Always Install links run (not in the palette). */
export const ANSWER_PROMPT_COMMAND = 'quartermaster.answerInstallPrompt';

interface PromptAnswer {
  file: string;
  key: string;
  always: boolean;
}

/** An open "declares X, which is not installed" prompt: closed as soon as it no longer applies. */
interface OpenPrompt {
  key: string;
  close: () => void;
}

/**
 * Fetches what a manifest declares and lacks when it is opened or changed, per
 * `quartermaster.autoInstall`: always, after asking (default), or never. Never in an untrusted
 * workspace. Each manifest is considered once per set of missing versions: declining, or a
 * failure, is not asked again until the manifest asks for something else.
 *
 * The prompt is a notification VS Code lets us close (a progress notification whose Install
 * links are command links; its Cancel is "not now"): it goes away the moment it no longer
 * applies (installed by a quick fix, the CLI, another window; the manifest changed or went).
 * VS Code offers no way to close a plain message, which would linger and do nothing when clicked.
 */
export class AutoInstaller implements vscode.Disposable {
  private readonly considered = new Map<string, string>();
  private readonly prompts = new Map<string, OpenPrompt>();
  private readonly command: vscode.Disposable;
  /** Per manifest, the tool@version a fetch started here is still bringing. */
  private readonly fetching = new Map<string, ReadonlySet<string>>();

  constructor(private readonly options: AutoInstallOptions) {
    this.command = vscode.commands.registerCommand(ANSWER_PROMPT_COMMAND, (answer: PromptAnswer) => this.answer(answer));
  }

  dispose(): void {
    this.command.dispose();
    for (const prompt of this.prompts.values()) prompt.close();
  }

  /** Called with every refreshed manifest status (undefined: one went away); starts at most one job per manifest state. */
  consider(status: ManifestStatus | undefined): void {
    this.closeStalePrompts();
    if (!status) return;
    const missing = missingTools(status);
    const key = missingKey(status);
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
    this.prompt(status.file, key, `${file} declares ${names}, which ${missing.length === 1 ? 'is' : 'are'} not installed`);
  }

  private prompt(file: string, key: string, question: string): void {
    this.prompts.get(file)?.close();
    const link = (label: string, always: boolean): string => `[${label}](command:${ANSWER_PROMPT_COMMAND}?${encodeURIComponent(JSON.stringify([{ file, key, always }]))})`;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: question, cancellable: true }, (progress, token) => {
      // An increment of 0 turns the endless progress bar into an empty one: nothing is running yet.
      progress.report({ message: `${link('Install', false)} · ${link('Always Install', true)}`, increment: 0 });
      return new Promise<void>((resolve) => {
        const prompt: OpenPrompt = {
          key,
          close: () => {
            if (this.prompts.get(file) === prompt) this.prompts.delete(file);
            resolve();
          },
        };
        this.prompts.set(file, prompt);
        token.onCancellationRequested(prompt.close);
      });
    });
  }

  /** An Install link: from an open prompt, or from one that went stale a moment before the click. */
  private async answer(answer: PromptAnswer): Promise<void> {
    const open = this.prompts.get(answer.file);
    if (open?.key === answer.key) open.close();
    if (answer.always) await vscode.workspace.getConfiguration('quartermaster').update('autoInstall', 'always', vscode.ConfigurationTarget.Global);
    const status = this.options.current(answer.file);
    const missing = status ? missingTools(status) : [];
    const file = vscode.workspace.asRelativePath(answer.file);
    if (!status || missing.length === 0) {
      // Never a click that silently does nothing.
      void vscode.window.showInformationMessage(status ? `Nothing to install: everything ${file} declares is installed now.` : `Nothing to install: ${file} is gone.`);
      return;
    }
    // A person's click: its progress is a notification with Cancel, where the click was.
    await this.fetch(status, missing, missing.map((t) => `${t.name} ${t.version}`).join(', '), true);
  }

  private closeStalePrompts(): void {
    for (const [file, prompt] of this.prompts) {
      const status = this.options.current(file);
      if (!status || missingKey(status) !== prompt.key) prompt.close();
    }
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

/** The missing tool@version set of a status, as one comparable string. */
function missingKey(status: ManifestStatus): string {
  return missingTools(status).map((t) => `${t.name}@${t.version}`).sort().join(',');
}
