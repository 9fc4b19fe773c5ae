import type * as vscode from 'vscode';
import type { ManifestStatus } from '../core/workspace/manifest-status';
import type { DownloadRow } from './jobs';
import type { LanguageStatusSnapshot } from './language-status';
import type { QuartermasterToolchainsApi } from './public-api';
import type { StatusBarSnapshot } from './status-bar';

export type * from './public-api';

/**
 * What `activate` returns: for other extensions, the toolchains API of public-api.ts (acquire,
 * hold, change events); for the integration tests, the extension's state, which they read
 * instead of scraping the UI (read-only; actions go through the commands).
 */
export interface QuartermasterApi extends QuartermasterToolchainsApi {
  /** The shared cache (QM_HOME) this window uses. */
  readonly home: string;
  /** The coordinator's socket (or pipe) that terminals and tasks are given as QM_COORDINATOR. */
  readonly endpoint: string;
  /** 'leader' when this window serves the coordinator, 'client' when another process does. */
  role(): 'leader' | 'client' | 'standalone';
  statusBar(): StatusBarSnapshot;
  /** The language status item of the manifest in the active editor; undefined before one was shown. */
  languageStatus(): LanguageStatusSnapshot | undefined;
  manifests(): ManifestStatus[];
  /** Downloads in flight, anyone's. */
  downloads(): DownloadRow[];
  /** Fires when a manifest's status, a download or the status bar changed. */
  readonly onDidChange: vscode.Event<void>;
  /** Resolves once the workspace's manifests are known, no refresh runs and no download is in flight. */
  whenIdle(): Promise<void>;
}
