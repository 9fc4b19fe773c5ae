/**
 * Every message between Quartermaster's processes, typed once. Each says who sends it:
 *   client → coordinator: any process using the shared cache (a VS Code window that does not
 *     host the coordinator, a `qm` CLI, a task) asks the coordinator to do work.
 *   coordinator → client: the coordinator reports on work, to every connected client.
 * The coordinator is the one process per QM_HOME that owns downloads and installs; see
 * src/core/coordinator. Requests are cancelled with JSON-RPC's own $/cancelRequest, and a
 * client's jobs are cancelled when its connection closes.
 */
import { NotificationType, NotificationType0, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { ToolOptions } from '../core/tools/options';

/** Bumped on any incompatible change; a client refuses a coordinator with another. */
export const PROTOCOL_VERSION = 1;

/** Who asked for a job, shown in progress views and `qm doctor`. */
export interface Requester {
  kind: 'command' | 'language-server' | 'task' | 'cli' | 'auto-install' | 'extension';
  pid: number;
  /** "Install Toolchain…", "qm install node@22", ... */
  label: string;
}

export interface ToolSpec {
  name: string;
  spec: string;
  /** Exactly this build, as qm.lock records it: the coordinator then reads no index. */
  locked?: {
    version: string;
    url: string;
    sha256: string;
    size?: number;
    /**
     * The client read this digest from a cached index, not from qm.lock: if the download does
     * not match, the coordinator may fetch that index afresh once and install what it says now.
     */
    fromIndex?: boolean;
  };
  /** A GitHub release's asset, bin and checksums names (qm.toml's inline-table form). */
  options?: ToolOptions;
}

/** A toolchain resolved for the coordinator's platform. */
export interface ResolvedTool {
  tool: string;
  version: string;
  platform: string;
  url: string;
  sha256: string;
  size?: number;
  installed: boolean;
}

export interface HelloParams {
  protocol: number;
  pid: number;
  /** Must equal the coordinator's: clients of another cache are turned away. */
  home: string;
}

export interface HelloResult {
  protocol: number;
  pid: number;
  home: string;
  version: string;
}

/** client → coordinator: the first request on every connection. */
export const HelloRequest = new RequestType<HelloParams, HelloResult, void>('qm/hello');

export interface ResolveParams {
  tools: ToolSpec[];
}

/**
 * client → coordinator: resolve specs against the (cached) indexes; never downloads archives,
 * except the first download of a GitHub release that publishes no checksum (trust on first use).
 */
export const ResolveRequest = new RequestType<ResolveParams, ResolvedTool[], void>('qm/resolve');

export interface InstallParams {
  /** Chosen by the client, unique per client; progress notifications carry it. */
  jobId: string;
  requester: Requester;
  tools: ToolSpec[];
}

export interface InstalledTool {
  tool: string;
  version: string;
  platform: string;
  dir: string;
  binPaths: string[];
  /** Variables the toolchain sets where it is used (JAVA_HOME), absolute; absent when none. */
  env?: Record<string, string>;
  /** True when this job unpacked it; false when it was already there or another job did. */
  installed: boolean;
}

export interface InstallResult {
  jobId: string;
  tools: InstalledTool[];
}

/** client → coordinator: install toolchains; answers when every one is installed (or fails). */
export const InstallRequest = new RequestType<InstallParams, InstallResult, void>('qm/install');

/** client → coordinator: every installed toolchain. */
export const ListInstalledRequest = new RequestType0<InstalledTool[], void>('qm/listInstalled');

export interface RemoteVersion {
  version: string;
  date?: string;
  lts: string | false;
  prerelease: boolean;
  installed: boolean;
}

/** client → coordinator: the versions a tool offers, newest first. */
export const ListRemoteRequest = new RequestType<{ tool: string }, RemoteVersion[], void>('qm/listRemote');

export type JobPhase = 'queued' | 'waiting' | 'downloading' | 'extracting' | 'publishing' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  jobId: string;
  requester: Requester;
  tool: string;
  version: string;
  phase: JobPhase;
  received: number;
  total?: number;
  bytesPerSecond: number;
  /** While waiting on another process's lock: whom. */
  waitingFor?: { pid: number; host: string; purpose: string };
  /** With 'failed': the error's code and message. */
  error?: { code: string; message: string };
}

/** coordinator → every client: how each job's toolchains are getting on. */
export const ProgressNotification = new NotificationType<JobProgress>('qm/progress');

export interface StatusResult {
  pid: number;
  home: string;
  jobs: JobProgress[];
  clients: number;
}

/** client → coordinator: what is going on now. */
export const StatusRequest = new RequestType0<StatusResult, void>('qm/status');

/**
 * client → coordinator: are you there? Answered at once. A client waiting on a request that has
 * heard nothing from its coordinator for a few seconds asks this; one that still hears nothing
 * (a coordinator stopped with SIGSTOP, or hung) gives up on it and works alone. Any answer, an
 * error from a coordinator that does not know the method included, counts as alive.
 */
export const PingRequest = new RequestType0<null, void>('qm/ping');

/** The error codes crossing the wire are QmError codes; the message is the QmError's. */
export interface WireError {
  code: string;
  message: string;
}

/*
 * The language server (src/server) and its client (the extension's vscode-languageclient).
 * The server never downloads and keeps no cache of indexes or installs of its own: it asks its
 * client, which forwards each request to the coordinator above and answers with the
 * coordinator's result. A failure comes back as a JSON-RPC error whose `data` is a WireError
 * (e.g. ENOVERSION when a spec matches no release). The client also tells the server what the
 * coordinator reports, so the server's view follows installs made by anyone.
 */

/** server → client: resolve specs; the client forwards to the coordinator (qm/resolve). */
export const ServerResolveRequest = new RequestType<ResolveParams, ResolvedTool[], WireError>('qm/server/resolve');

/** server → client: the versions a tool offers, newest first; the client forwards to the coordinator (qm/listRemote). */
export const ServerListRemoteRequest = new RequestType<{ tool: string }, RemoteVersion[], WireError>('qm/server/listRemote');

/** server → client: every installed toolchain; the client forwards to the coordinator (qm/listInstalled). */
export const ServerListInstalledRequest = new RequestType0<InstalledTool[], WireError>('qm/server/listInstalled');

/**
 * server → client: install toolchains (the requester's kind is 'language-server'); the client
 * forwards to the coordinator (qm/install) and answers when the job ends.
 */
export const ServerInstallRequest = new RequestType<InstallParams, InstallResult, WireError>('qm/server/install');

/** client → server: every qm/progress the coordinator reports, for any requester's job. */
export const ServerProgressNotification = new NotificationType<JobProgress>('qm/server/progress');

/**
 * client → server: the installed toolchains changed in a way progress does not show (e.g. a
 * `qm install` or `qm gc` that ran without the coordinator); the server asks qm/server/listInstalled again.
 */
export const ServerInstalledChangedNotification = new NotificationType0('qm/server/installedChanged');
