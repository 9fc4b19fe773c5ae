import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  ApplyWorkspaceEditRequest,
  CodeActionRequest,
  CodeLensRefreshRequest,
  CodeLensRequest,
  CompletionRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  ExitNotification,
  FileChangeType,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ApplyWorkspaceEditParams,
  type ClientCapabilities,
  type CodeAction,
  type CodeLens,
  type CompletionList,
  type Diagnostic,
  type Hover,
  type InitializeResult,
  type Position,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type Range,
  type Registration,
  type TextDocumentContentChangeEvent,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { toResponseError } from '../../src/core/coordinator/wire-errors';
import {
  ServerInstalledChangedNotification,
  ServerInstallRequest,
  ServerListInstalledRequest,
  ServerListRemoteRequest,
  ServerProgressNotification,
  ServerResolveRequest,
  type InstalledTool,
  type InstallParams,
  type InstallResult,
  type JobProgress,
  type RemoteVersion,
  type ResolvedTool,
  type ResolveParams,
} from '../../src/shared/protocol';
import { ROOT } from './child';

/** The extension's side of the qm/server/* requests (src/shared/protocol.ts). */
export interface ClientBackend {
  resolve(params: ResolveParams): Promise<ResolvedTool[]>;
  listRemote(params: { tool: string }): Promise<RemoteVersion[]>;
  listInstalled(): Promise<InstalledTool[]>;
  install(params: InstallParams): Promise<InstallResult>;
  /** Called once connected, with what the backend may tell the server. */
  attach?(server: ServerNotifier): { dispose(): void };
}

export interface ServerNotifier {
  progress(progress: JobProgress): void;
  installedChanged(): void;
}

export interface LspClientOptions {
  backend?: ClientBackend;
  env?: NodeJS.ProcessEnv;
  /** Run the esbuild bundle (out/server.js, after `npm run build`) instead of the TypeScript source. */
  bundle?: boolean;
  capabilities?: ClientCapabilities;
  initializationOptions?: unknown;
}

/** What a client that supports everything the server offers says it can do. */
export const FULL_CAPABILITIES: ClientCapabilities = {
  textDocument: {
    synchronization: { dynamicRegistration: false },
    completion: { completionItem: { snippetSupport: true, labelDetailsSupport: true }, completionList: { itemDefaults: ['editRange'] } },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor.rewrite'] } } },
    publishDiagnostics: { versionSupport: true },
  },
  workspace: {
    applyEdit: true,
    workspaceEdit: { documentChanges: true, resourceOperations: ['create'] },
    codeLens: { refreshSupport: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    executeCommand: {},
  },
};

/**
 * A language client for tests: starts the real server as a child process over stdio, speaks LSP
 * through vscode-languageserver-protocol, mirrors the documents it opened (so edits can be given
 * as ranges), keeps the latest diagnostics per document and answers the server's requests the
 * way VS Code does (applyEdit writes through to open documents or to disk).
 */
export class LspTestClient {
  readonly process: ChildProcess;
  readonly connection: ProtocolConnection;
  readonly stderr: string[] = [];
  readonly logs: string[] = [];
  readonly registrations: Registration[] = [];
  readonly appliedEdits: ApplyWorkspaceEditParams[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** How many times the server asked for code lenses to be fetched again. */
  lensRefreshes = 0;
  private readonly documents = new Map<string, TextDocument>();
  private readonly latest = new Map<string, PublishDiagnosticsParams>();
  private readonly events = new EventEmitter();
  private backendSubscription: { dispose(): void } | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(options: LspClientOptions) {
    const entry = options.bundle ? [path.join(ROOT, 'out', 'server.js')] : ['--import', 'tsx', path.join(ROOT, 'src', 'server', 'server.ts')];
    this.process = spawn(process.execPath, [...entry, '--stdio'], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) =>
      this.process.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.events.emit('exit');
        resolve({ code, signal });
      }),
    );
    this.events.setMaxListeners(0);
    this.connection = createProtocolConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.latest.set(params.uri, params);
      this.events.emit('diagnostics', params);
    });
    this.connection.onNotification(LogMessageNotification.type, ({ message }) => {
      this.logs.push(message);
    });
    this.connection.onRequest(CodeLensRefreshRequest.type, () => {
      this.lensRefreshes++;
      this.events.emit('lensRefresh');
    });
    this.connection.onRequest(RegistrationRequest.type, ({ registrations }) => {
      this.registrations.push(...registrations);
    });
    this.connection.onRequest(ApplyWorkspaceEditRequest.type, async (params) => {
      this.appliedEdits.push(params);
      await this.applyWorkspaceEdit(params);
      return { applied: true };
    });
    const backend = options.backend;
    if (backend) {
      const answer = <P, R>(handler: (params: P) => Promise<R>) => async (params: P): Promise<R> => {
        try {
          return await handler(params);
        } catch (error) {
          throw toResponseError(error);
        }
      };
      this.connection.onRequest(ServerResolveRequest, answer((params: ResolveParams) => backend.resolve(params)));
      this.connection.onRequest(ServerListRemoteRequest, answer((params: { tool: string }) => backend.listRemote(params)));
      this.connection.onRequest(ServerListInstalledRequest, answer(() => backend.listInstalled()));
      this.connection.onRequest(ServerInstallRequest, answer((params: InstallParams) => backend.install(params)));
      this.backendSubscription = backend.attach?.({
        progress: (progress) => void this.connection.sendNotification(ServerProgressNotification, progress).catch(() => undefined),
        installedChanged: () => void this.connection.sendNotification(ServerInstalledChangedNotification).catch(() => undefined),
      });
    }
    this.connection.onError(() => undefined);
    this.connection.listen();
  }

  /** Starts the server and completes initialize/initialized. */
  static async start(options: LspClientOptions = {}): Promise<{ client: LspTestClient; initialize: InitializeResult }> {
    const client = new LspTestClient(options);
    const initialize = await client.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: options.capabilities ?? FULL_CAPABILITIES,
      initializationOptions: options.initializationOptions,
    });
    await client.connection.sendNotification(InitializedNotification.type, {});
    return { client, initialize };
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  text(uri: string): string {
    return this.document(uri).getText();
  }

  version(uri: string): number {
    return this.document(uri).version;
  }

  /** The position of the `nth` occurrence of `needle` in the document, plus `shift` characters. */
  positionOf(uri: string, needle: string, shift = 0, nth = 0): Position {
    const text = this.text(uri);
    let at = -1;
    for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" is not in ${uri}`);
    return this.document(uri).positionAt(at + shift);
  }

  async open(uri: string, text: string, languageId = path.basename(uri) === 'qm.toml' ? 'qm-toml' : 'plaintext'): Promise<void> {
    const document = TextDocument.create(uri, languageId, 1, text);
    this.documents.set(uri, document);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Sends incremental changes (ranges against the text as each change finds it). */
  async edit(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const document = TextDocument.update(this.document(uri), changes, this.version(uri) + 1);
    this.documents.set(uri, document);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: document.version }, contentChanges: changes });
    return document.version;
  }

  /** Replaces the whole text with one incremental change. */
  replace(uri: string, text: string): Promise<number> {
    const document = this.document(uri);
    return this.edit(uri, [{ range: { start: { line: 0, character: 0 }, end: document.positionAt(document.getText().length) }, text }]);
  }

  async close(uri: string): Promise<void> {
    this.documents.delete(uri);
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  /** As the extension does when installs change behind the coordinator's back (a standalone `qm`). */
  async installedChanged(): Promise<void> {
    await this.connection.sendNotification(ServerInstalledChangedNotification);
  }

  async fileChanged(uri: string, type: FileChangeType = FileChangeType.Changed): Promise<void> {
    await this.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri, type }] });
  }

  /** The latest diagnostics published for `uri` that satisfy `accept` (already received or the next ones). */
  diagnostics(uri: string, accept: (params: PublishDiagnosticsParams) => boolean = () => true): Promise<PublishDiagnosticsParams> {
    const seen = this.latest.get(uri);
    if (seen && accept(seen)) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onDiagnostics = (params: PublishDiagnosticsParams): void => {
        if (params.uri !== uri || !accept(params)) return;
        stop();
        resolve(params);
      };
      const onExit = (): void => {
        stop();
        reject(new Error(`the server exited (${JSON.stringify(this.exitInfo)}) before diagnostics for ${uri} came; stderr:\n${this.stderr.join('')}`));
      };
      const stop = (): void => {
        this.events.off('diagnostics', onDiagnostics);
        this.events.off('exit', onExit);
      };
      this.events.on('diagnostics', onDiagnostics);
      this.events.on('exit', onExit);
      if (!this.alive) onExit();
    });
  }

  /** Diagnostics for the document's current version that satisfy `accept`. */
  current(uri: string, accept: (diagnostics: Diagnostic[]) => boolean = () => true): Promise<Diagnostic[]> {
    const version = this.version(uri);
    return this.diagnostics(uri, (params) => params.version === version && accept(params.diagnostics)).then((params) => params.diagnostics);
  }

  /** Resolves at the next workspace/codeLens/refresh; rejects if the server exits first. */
  nextLensRefresh(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onRefresh = (): void => {
        this.events.off('exit', onExit);
        resolve();
      };
      const onExit = (): void => {
        this.events.off('lensRefresh', onRefresh);
        reject(new Error(`the server exited before asking for a code lens refresh; stderr:\n${this.stderr.join('')}`));
      };
      this.events.once('lensRefresh', onRefresh);
      this.events.once('exit', onExit);
    });
  }

  /** The document's code lenses once they satisfy `accept`, asking again at each refresh the server requests. */
  async lensesUntil(uri: string, accept: (lenses: CodeLens[]) => boolean): Promise<CodeLens[]> {
    for (;;) {
      const next = this.nextLensRefresh();
      const lenses = await this.codeLenses(uri);
      if (accept(lenses)) {
        next.catch(() => undefined);
        return lenses;
      }
      await next;
    }
  }

  completion(uri: string, position: Position): Promise<CompletionList> {
    return this.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position }) as Promise<CompletionList>;
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  }

  async codeActions(uri: string, range: Range, diagnostics: Diagnostic[] = []): Promise<CodeAction[]> {
    const actions = await this.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range, context: { diagnostics } });
    return (actions ?? []) as CodeAction[];
  }

  async codeLenses(uri: string): Promise<CodeLens[]> {
    return (await this.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
  }

  executeCommand(command: string, args: unknown[]): Promise<unknown> {
    return this.connection.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }) as Promise<unknown>;
  }

  /** Applies the edit for `uri` from a code action to the mirrored document and sends it. */
  async applyTextEdits(uri: string, edits: TextEdit[]): Promise<number> {
    const document = this.document(uri);
    const text = TextDocument.applyEdits(document, edits);
    return this.replace(uri, text);
  }

  /** shutdown, exit, and the process's exit code. */
  async shutdown(): Promise<number | null> {
    this.backendSubscription?.dispose();
    if (!this.alive) return (await this.exited).code;
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    const { code } = await this.exited;
    this.connection.dispose();
    return code;
  }

  kill(): Promise<unknown> {
    this.backendSubscription?.dispose();
    if (this.alive) this.process.kill('SIGKILL');
    return this.exited;
  }

  private document(uri: string): TextDocument {
    const document = this.documents.get(uri);
    if (!document) throw new Error(`${uri} is not open`);
    return document;
  }

  /** As VS Code does: open documents are edited (and the server told), other files written to disk (and the watcher told). */
  private async applyWorkspaceEdit({ edit }: ApplyWorkspaceEditParams): Promise<void> {
    const perFile: Array<{ uri: string; edits: TextEdit[] }> = Object.entries(edit.changes ?? {}).map(([uri, edits]) => ({ uri, edits }));
    for (const change of edit.documentChanges ?? []) {
      if ('textDocument' in change) perFile.push({ uri: change.textDocument.uri, edits: change.edits.filter((e): e is TextEdit => 'range' in e) });
      else if (change.kind === 'create') {
        const file = fileURLToPath(change.uri);
        await fs.writeFile(file, '', { flag: change.options?.ignoreIfExists ? 'a' : 'w' });
      }
    }
    for (const { uri, edits } of perFile) {
      if (this.documents.has(uri)) {
        await this.applyTextEdits(uri, edits);
        continue;
      }
      const file = fileURLToPath(uri);
      const old = await fs.readFile(file, 'utf8').catch(() => '');
      await fs.writeFile(file, TextDocument.applyEdits(TextDocument.create(uri, 'plaintext', 0, old), edits));
      await this.fileChanged(pathToFileURL(file).href);
    }
  }
}
