import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { CoordinatorHost } from '../core/coordinator/host';
import { isQmError } from '../core/errors';
import type { Logger } from '../core/log';
import {
  ServerInstalledChangedNotification,
  ServerInstallRequest,
  ServerListInstalledRequest,
  ServerListRemoteRequest,
  ServerProgressNotification,
  ServerResolveRequest,
  type InstallParams,
  type ResolveParams,
} from '../shared/protocol';
import type { Jobs } from './jobs';

/** JSON-RPC error code for QmErrors (as on the coordinator's wire): the QmError code travels in `data`. */
const QM_ERROR = -32001;
const NOT_TRUSTED = 'this workspace is not trusted';

/** The documents the server answers for: manifests, lockfiles and version files. */
const SERVED_DOCUMENTS = [
  { scheme: 'file', language: 'qm-toml' },
  { scheme: 'file', language: 'qm-lock' },
  // The files only Quartermaster reads a version from; package.json and go.mod belong to other tools' servers.
  { scheme: 'file', pattern: '**/{.tool-versions,.nvmrc,.node-version,.python-version,.java-version,.sdkmanrc,rust-toolchain,rust-toolchain.toml}' },
];

/**
 * Resolves once a document the server answers for is open (at once if one is): until then a
 * server would have nothing to do, and starting it costs the window vscode-languageclient's
 * 450 KB and a Node process, at the moment the workspace is being scanned.
 */
export function untilServedDocumentOpen(): { opened: Promise<void>; dispose(): void } {
  const served = (document: vscode.TextDocument): boolean => vscode.languages.match(SERVED_DOCUMENTS, document) > 0;
  let markOpened!: () => void;
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const listener = vscode.workspace.onDidOpenTextDocument((document) => {
    if (!served(document)) return;
    listener.dispose();
    markOpened();
  });
  if (vscode.workspace.textDocuments.some(served)) {
    listener.dispose();
    markOpened();
  }
  return { opened, dispose: () => void listener.dispose() };
}

export interface QmLanguageClient {
  /** Tells the server that installed toolchains changed in a way progress did not show. */
  installedChanged(): void;
  /** A fresh server: after trust is granted, it must not keep answers refused while untrusted. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the qm.toml language server (out/server.js, over IPC) and is its way to the coordinator:
 * every qm/server/* request is forwarded to this window's coordinator host, installs run as
 * jobs (with a notification, since a person chose the quick fix), and every job's progress is
 * passed on. In an untrusted workspace only what qm.lock pins is resolved and no version list is
 * read, as for the workspace model: either would fetch indexes just because a qm.toml is open.
 * vscode-languageclient is loaded here, when the client starts, not at import: bundled, it is
 * out/vscode-languageclient.js (build.mjs keeps the import a run-time require).
 */
export async function startLanguageClient(options: {
  serverModule: string;
  host: CoordinatorHost;
  jobs: Jobs;
  logger: Logger;
  /** Whether indexes may be read (and fetched) for the server; default: the workspace is trusted. */
  trusted?: () => boolean;
}): Promise<QmLanguageClient> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a bundle of its own, loaded when the client starts
  const { LanguageClient: Client, TransportKind, ResponseError } = require('./vscode-languageclient') as typeof import('./vscode-languageclient');
  const { host, jobs } = options;
  const trusted = options.trusted ?? (() => vscode.workspace.isTrusted);
  const forward = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      const code = isQmError(error) ? error.code : 'EIO';
      throw new ResponseError(QM_ERROR, error instanceof Error ? error.message : String(error), { code, message: error instanceof Error ? error.message : String(error) });
    }
  };
  const untrusted = (): Promise<never> => Promise.reject(new ResponseError(QM_ERROR, NOT_TRUSTED, { code: 'EUNTRUSTED', message: NOT_TRUSTED }));
  const client: LanguageClient = new Client(
    'quartermaster',
    'Quartermaster Language Server',
    {
      run: { module: options.serverModule, transport: TransportKind.ipc },
      debug: { module: options.serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    },
    {
      documentSelector: [...SERVED_DOCUMENTS],
    },
  );
  client.onRequest(ServerResolveRequest.method, (params: ResolveParams) =>
    trusted() || params.tools.every((tool) => tool.locked) ? forward(() => host.api.resolve(params.tools)) : untrusted(),
  );
  client.onRequest(ServerListRemoteRequest.method, (params: { tool: string }) => (trusted() ? forward(() => host.api.listRemote(params.tool)) : untrusted()));
  client.onRequest(ServerListInstalledRequest.method, () => forward(() => host.api.listInstalled()));
  client.onRequest(ServerInstallRequest.method, (params: InstallParams) =>
    forward(() =>
      jobs.run({
        jobId: params.jobId,
        title: params.requester.label || `Installing ${params.tools.map((t) => `${t.name} ${t.spec}`).join(', ')}`,
        kind: 'language-server',
        tools: params.tools,
        notify: true,
      }),
    ),
  );
  await client.start();
  const progress = host.onProgress((p) => void client.sendNotification(ServerProgressNotification.method, p).catch(() => undefined));
  options.logger.info('Language server started');
  return {
    installedChanged: () => void client.sendNotification(ServerInstalledChangedNotification.method).catch(() => undefined),
    restart: () => client.restart(),
    stop: async () => {
      progress.dispose();
      await client.stop();
    },
  };
}
