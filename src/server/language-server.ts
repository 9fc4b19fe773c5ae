import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  DidChangeWatchedFilesNotification,
  TextDocuments,
  TextDocumentSyncKind,
  type ClientCapabilities,
  type Connection,
  type Diagnostic,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { LOCK_FILE } from '../core/lockfile/qm-lock';
import type { Logger } from '../core/log';
import { currentPlatform, parsePlatform, platformId } from '../core/platform';
import { QM_VERSION } from '../core/version';
import { codeActions } from './code-actions';
import { codeLenses } from './code-lens';
import { SERVER_COMMANDS, ServerCommands } from './commands';
import { CompletionProvider } from './completion';
import { coordinatorLink } from './coordinator-link';
import { manifestDiagnostics } from './diagnostics';
import { DiagnosticsPublisher } from './diagnostics-publisher';
import { hover } from './hover';
import { LensRefresher } from './lens-refresher';
import { LockFiles } from './lock-files';
import { documentKind, ManifestDocuments, uriToPath } from './manifest-documents';
import { toolState } from './tool-state';
import { ToolchainView } from './toolchain-view';

/** What the client may pass in `initializationOptions`. */
export interface InitializationOptions {
  /** The platform qm.lock must match ("linux-x64"); default this machine's, or QM_PLATFORM. */
  platform?: string;
}

/**
 * Serves qm.toml (and, read-only, .tool-versions, .nvmrc and .node-version) on `connection`:
 * diagnostics, completion, hover, code actions, code lenses and two commands. Every question
 * about versions and installs goes to the client (see coordinator-link.ts); answers arrive in the
 * background and republish what they change.
 */
export function startLanguageServer(connection: Connection, env: NodeJS.ProcessEnv = process.env): void {
  const logger: Logger = {
    debug: (message) => connection.console.debug(message),
    info: (message) => connection.console.info(message),
    warn: (message) => connection.console.warn(message),
    error: (message) => connection.console.error(message),
  };
  const textDocuments = new TextDocuments(TextDocument);
  const documents = new ManifestDocuments(textDocuments);
  const link = coordinatorLink(connection);
  const view = new ToolchainView(link);
  const lockFiles = new LockFiles(documents);
  const completion = new CompletionProvider(view);
  let platform = defaultPlatform(env);
  let client: ClientCapabilities = {};

  const publisher = new DiagnosticsPublisher({
    documents,
    logger,
    send: (params) => void connection.sendDiagnostics(params).catch((error: unknown) => logger.error(`publishDiagnostics failed: ${String(error)}`)),
    compute: async (document): Promise<Diagnostic[]> => {
      const manifest = documents.manifest(document);
      if (!manifest) return [];
      const states = manifest.tools.map((entry) => toolState(entry, view));
      const lock = manifest.kind === 'qm.toml' ? await lockFiles.read(manifest.file) : undefined;
      const text = document.getText();
      const firstLineEnd = text.search(/[\r\n]/);
      const firstLine = { start: { line: 0, character: 0 }, end: { line: 0, character: firstLineEnd < 0 ? text.length : firstLineEnd } };
      return manifestDiagnostics({ manifest, states, ...(lock ? { lock } : {}), platform, firstLine });
    },
  });
  const lenses = new LensRefresher(
    () => connection.sendRequest(CodeLensRefreshRequest.type),
    (error) => logger.warn(`workspace/codeLens/refresh failed: ${String(error)}`),
  );
  const commands = new ServerCommands({
    documents,
    view,
    link,
    lockFiles,
    get platform() {
      return platform;
    },
    get canCreateFiles() {
      return client.workspace?.workspaceEdit?.resourceOperations?.includes('create') === true;
    },
    applyEdit: async (label, edit) => (await connection.workspace.applyEdit({ label, edit })).applied,
    lockChanged: (file) => {
      lockFiles.forget(file);
      publisher.refreshDir(path.dirname(file));
    },
  });

  connection.onInitialize((params): InitializeResult => {
    client = params.capabilities;
    const options = (params.initializationOptions ?? {}) as InitializationOptions;
    if (typeof options.platform === 'string') {
      try {
        platform = platformId(parsePlatform(options.platform));
      } catch (error) {
        logger.warn(`initializationOptions.platform: ${error instanceof Error ? error.message : String(error)}; using ${platform}`);
      }
    }
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        completionProvider: { triggerCharacters: ['"', "'", '.', '='], resolveProvider: false },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: SERVER_COMMANDS },
      },
      serverInfo: { name: 'quartermaster', version: QM_VERSION },
    };
  });

  connection.onInitialized(() => {
    // qm.lock edited outside the editor (qm lock, git checkout) must republish its manifest.
    if (client.workspace?.didChangeWatchedFiles?.dynamicRegistration === true) {
      void connection.client
        .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: `**/${LOCK_FILE}` }] })
        .catch((error: unknown) => logger.warn(`Could not watch ${LOCK_FILE} files: ${String(error)}`));
    }
  });

  textDocuments.onDidChangeContent(({ document }) => {
    const kind = documentKind(document.uri);
    if (kind === LOCK_FILE) publisher.refreshDir(path.dirname(uriToPath(document.uri)));
    else if (kind !== undefined) publisher.documentChanged(document.uri);
  });
  textDocuments.onDidClose(({ document }) => {
    const kind = documentKind(document.uri);
    if (kind === LOCK_FILE) publisher.refreshDir(path.dirname(uriToPath(document.uri)));
    else if (kind !== undefined) publisher.closed(document.uri);
  });
  connection.onDidChangeWatchedFiles(({ changes }) => {
    for (const change of changes) {
      if (documentKind(change.uri) !== LOCK_FILE) continue;
      const file = uriToPath(change.uri);
      lockFiles.forget(file);
      publisher.refreshDir(path.dirname(file));
    }
  });
  view.onDidChange((change) => {
    if (change === 'data') publisher.refreshAll();
    if (client.workspace?.codeLens?.refreshSupport === true) lenses.request(change === 'data');
  });

  connection.onCompletion(({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    if (!document || documentKind(document.uri) !== 'qm.toml') return null;
    const capabilities = client.textDocument?.completion;
    const options = { snippets: capabilities?.completionItem?.snippetSupport === true, defaultEditRange: capabilities?.completionList?.itemDefaults?.includes('editRange') === true };
    // Completion reads the text around the cursor; it never waits for a parse of a large file.
    return completion.complete(document, documents.parsedManifest(document), document.offsetAt(position), options);
  });
  connection.onHover(({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    const manifest = document && documents.manifest(document);
    return (manifest && hover(manifest, view, document.offsetAt(position))) ?? null;
  });
  connection.onCodeAction((params) => {
    const document = documents.get(params.textDocument.uri);
    const manifest = document && documents.manifest(document);
    if (!manifest) return [];
    return codeActions({ document, manifest, view, params, published: publisher.lastPublished(document.uri) });
  });
  connection.onCodeLens(({ textDocument }) => {
    const document = documents.get(textDocument.uri);
    const manifest = document && documents.manifest(document);
    return manifest ? codeLenses(document.uri, manifest, view) : [];
  });
  connection.onExecuteCommand(({ command, arguments: args }) => commands.execute(command, args));
  connection.onShutdown(() => lenses.dispose());

  textDocuments.listen(connection);
}

function defaultPlatform(env: NodeJS.ProcessEnv): string {
  try {
    return platformId(currentPlatform(env));
  } catch {
    return `${process.platform}-${process.arch}`;
  }
}
