import { ResponseError, type Connection } from 'vscode-languageserver/node';
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
  type ToolSpec,
  type WireError,
} from '../shared/protocol';

/**
 * The server's only way to the coordinator: requests to its client, which forwards them
 * (src/shared/protocol.ts, qm/server/*). vscode-languageserver bundles an older vscode-jsonrpc
 * than the protocol file's, so the typed messages travel here by method name.
 */
export interface CoordinatorLink {
  resolve(tools: ToolSpec[]): Promise<ResolvedTool[]>;
  listRemote(tool: string): Promise<RemoteVersion[]>;
  listInstalled(): Promise<InstalledTool[]>;
  install(params: InstallParams): Promise<InstallResult>;
  onProgress(listener: (progress: JobProgress) => void): void;
  onInstalledChanged(listener: () => void): void;
}

export function coordinatorLink(connection: Connection): CoordinatorLink {
  return {
    resolve: (tools) => connection.sendRequest<ResolvedTool[]>(ServerResolveRequest.method, { tools }),
    listRemote: (tool) => connection.sendRequest<RemoteVersion[]>(ServerListRemoteRequest.method, { tool }),
    listInstalled: () => connection.sendRequest<InstalledTool[]>(ServerListInstalledRequest.method),
    install: (params) => connection.sendRequest<InstallResult>(ServerInstallRequest.method, params),
    onProgress: (listener) => connection.onNotification(ServerProgressNotification.method, (progress: JobProgress) => listener(progress)),
    onInstalledChanged: (listener) => connection.onNotification(ServerInstalledChangedNotification.method, () => listener()),
  };
}

/** What a failed request said: the coordinator's QmError code when the client passed it on. */
export function wireErrorOf(error: unknown): WireError {
  if (error instanceof ResponseError) {
    const data = error.data as Partial<WireError> | undefined;
    return { code: typeof data?.code === 'string' ? data.code : `JSONRPC${error.code}`, message: error.message };
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  return { code: typeof code === 'string' ? code : 'EIO', message: error instanceof Error ? error.message : String(error) };
}
