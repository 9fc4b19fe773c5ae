import * as path from 'node:path';
import { DiagnosticSeverity, type Diagnostic, type PublishDiagnosticsParams } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Logger } from '../core/log';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { uriToPath, type ManifestDocuments } from './manifest-documents';

export interface PublisherDeps {
  documents: ManifestDocuments;
  compute(document: TextDocument): Promise<Diagnostic[]>;
  send(params: PublishDiagnosticsParams): void;
  logger: Logger;
}

/**
 * Publishes each open manifest's diagnostics, one document at a time in the order asked. An edit
 * always gets a publish for its version (a client waits for one); fresher coordinator answers
 * republish only the documents whose diagnostics changed. A version superseded while it was
 * being computed is dropped: its successor is already queued.
 */
export class DiagnosticsPublisher {
  private readonly published = new Map<string, { version: number; key: string; diagnostics: Diagnostic[] }>();
  /** uri → whether to publish even when nothing changed. */
  private readonly pending = new Map<string, boolean>();
  private draining = false;

  constructor(private readonly deps: PublisherDeps) {}

  /** An edit (or open): publish for this version whatever the result. */
  documentChanged(uri: string): void {
    this.queue(uri, true);
  }

  /** Fresher answers: republish what they change. */
  refreshAll(): void {
    for (const document of this.deps.documents.manifests()) this.queue(document.uri, false);
  }

  /** Something beside the manifests in `dir` changed (qm.lock). */
  refreshDir(dir: string): void {
    for (const document of this.deps.documents.manifests()) {
      if (path.dirname(uriToPath(document.uri)) === dir) this.queue(document.uri, false);
    }
  }

  closed(uri: string): void {
    this.pending.delete(uri);
    if (this.published.delete(uri)) this.deps.send({ uri, diagnostics: [] });
  }

  /** What the client was last told about `uri`. */
  lastPublished(uri: string): Diagnostic[] {
    return this.published.get(uri)?.diagnostics ?? [];
  }

  private queue(uri: string, force: boolean): void {
    this.pending.set(uri, force || this.pending.get(uri) === true);
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.pending.entries().next(); next.done !== true; next = this.pending.entries().next()) {
        const [uri, force] = next.value;
        this.pending.delete(uri);
        await this.publish(uri, force);
      }
    } finally {
      this.draining = false;
    }
  }

  private async publish(uri: string, force: boolean): Promise<void> {
    const document = this.deps.documents.get(uri);
    if (!document) return;
    let diagnostics: Diagnostic[];
    try {
      diagnostics = await this.deps.compute(document);
    } catch (error) {
      // Never leave a document without diagnostics: say the server failed on it, and carry on.
      this.deps.logger.error(`Diagnostics for ${uri} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      const message = `Quartermaster could not check this file: ${error instanceof Error ? error.message : String(error)}`;
      diagnostics = [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: DiagnosticSeverity.Error, source: DIAGNOSTIC_SOURCE, message }];
    }
    if (this.deps.documents.get(uri)?.version !== document.version) return;
    const key = JSON.stringify(diagnostics);
    const last = this.published.get(uri);
    if (!force && last?.version === document.version && last.key === key) return;
    this.published.set(uri, { version: document.version, key, diagnostics });
    this.deps.send({ uri, version: document.version, diagnostics });
  }
}
