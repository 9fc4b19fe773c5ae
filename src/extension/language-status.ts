import * as vscode from 'vscode';
import type { ManifestStatus } from '../core/workspace/manifest-status';
import type { Jobs } from './jobs';
import type { WorkspaceModel } from './workspace-model';

/** What the item shows, for tests and the API: its own fields, read back. */
export interface LanguageStatusSnapshot {
  text: string;
  detail: string;
  severity: 'information' | 'warning' | 'error';
  busy: boolean;
  /** The command its link runs. */
  command: string | undefined;
  /** The manifest whose versions are shown. */
  manifest?: string;
}

/** Which documents get the item: every manifest `qm` reads. */
export const MANIFEST_SELECTOR: vscode.DocumentSelector = [
  { language: 'qm-toml' },
  { scheme: 'file', pattern: '**/{.tool-versions,.nvmrc,.node-version}' },
];

/**
 * The `{}` entry beside the language mode while a manifest is open: the versions its specs
 * resolve to (as `qm install` would install them), marked when one is missing or unresolvable,
 * busy while the manifest is being resolved or something downloads, and a link to the log.
 */
export class ManifestLanguageStatus implements vscode.Disposable {
  private readonly item = vscode.languages.createLanguageStatusItem('quartermaster.manifest', MANIFEST_SELECTOR);
  private readonly subscriptions: vscode.Disposable[];
  private shown: LanguageStatusSnapshot | undefined;

  constructor(
    private readonly model: WorkspaceModel,
    private readonly jobs: Jobs,
  ) {
    this.item.name = 'Quartermaster Toolchains';
    this.item.command = { title: 'Show Log', command: 'quartermaster.showLog', tooltip: "Show Quartermaster's log" };
    this.subscriptions = [
      model.onDidChange(() => this.update()),
      jobs.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
    ];
    this.update();
  }

  snapshot(): LanguageStatusSnapshot | undefined {
    return this.shown && { ...this.shown };
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }

  private update(): void {
    // VS Code shows the item only beside a manifest; for any other editor it keeps what it said.
    const document = vscode.window.activeTextEditor?.document;
    if (!document || document.uri.scheme !== 'file' || vscode.languages.match(MANIFEST_SELECTOR, document) === 0) return;
    const status = this.model.get(document.uri.fsPath);
    const { text, detail, severity } = describe(status);
    this.item.text = text;
    this.item.detail = detail;
    this.item.severity = severity;
    this.item.busy = this.model.busy || this.jobs.active().length > 0;
    this.item.accessibilityInformation = { label: `Quartermaster: ${text}${detail ? `, ${detail}` : ''}` };
    const severityName = severity === vscode.LanguageStatusSeverity.Error ? 'error' : severity === vscode.LanguageStatusSeverity.Warning ? 'warning' : 'information';
    this.shown = { text, detail, severity: severityName, busy: this.item.busy, command: this.item.command?.command, ...(status ? { manifest: status.file } : {}) };
  }
}

function describe(status: ManifestStatus | undefined): { text: string; detail: string; severity: vscode.LanguageStatusSeverity } {
  if (!status) return { text: 'Toolchains: reading…', detail: '', severity: vscode.LanguageStatusSeverity.Information };
  if (status.tools.length === 0) {
    return { text: 'No toolchains declared', detail: status.error?.message ?? '', severity: status.error ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information };
  }
  const text = status.tools.map((t) => `${t.name} ${t.version ?? t.spec}`).join(', ');
  const missing = status.tools.filter((t) => !t.pending && !t.error && !t.installed).map((t) => t.name);
  const failed = status.tools.filter((t) => t.error).map((t) => `${t.name}: ${t.error!.message}`);
  const locked = status.tools.length > 0 && status.tools.every((t) => t.locked);
  const notes = [
    ...(status.error ? [status.error.message] : []),
    ...failed,
    ...(missing.length > 0 ? [`not installed: ${missing.join(', ')}`] : []),
    ...(status.tools.some((t) => t.pending) ? ['resolving…'] : []),
  ];
  const detail = notes.length > 0 ? notes.join('; ') : locked ? 'installed, as qm.lock pins them' : 'installed';
  const severity = status.error || failed.length > 0 ? vscode.LanguageStatusSeverity.Error : missing.length > 0 ? vscode.LanguageStatusSeverity.Warning : vscode.LanguageStatusSeverity.Information;
  return { text, detail, severity };
}
