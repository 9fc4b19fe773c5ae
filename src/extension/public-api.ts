/**
 * The part of Quartermaster's API meant for other extensions, self-contained (it imports only
 * VS Code's types) so that a consumer can copy this one file. Usage, and what each call does, is in
 * docs/extension.md ("The API for other extensions"):
 *
 *   const qm = await vscode.extensions.getExtension<QuartermasterToolchainsApi>('quartermaster.quartermaster')?.activate();
 *   const node = await qm.acquire({ tool: 'node', uri: folder.uri, requestingExtensionId: 'me.my-extension' });
 *   spawn(path.join(node.binPaths[0], 'node'), ['--version'], { env: { ...process.env, ...node.env, PATH: node.path } });
 *
 * Only additions are made within one `apiVersion`.
 */
import type * as vscode from 'vscode';

export const QUARTERMASTER_API_VERSION = 1;

export interface AcquireRequest {
  /** The tool as the manifest names it: 'node', 'go', 'python', 'github:owner/repo', ... */
  tool: string;
  /**
   * A file or folder (a `file:` URI) whose manifest decides the version: the nearest qm.toml,
   * .tool-versions, .nvmrc or .node-version in its directory or above, as `qm` finds it.
   * Default: the first workspace folder.
   */
  uri?: vscode.Uri;
  /** Install it when it is declared but missing (through the shared coordinator, with a notification the user can cancel). Default true. */
  install?: boolean;
  /** Who is asking: shown in the progress notification and the log. */
  requestingExtensionId: string;
}

/** One declared toolchain, resolved for a folder, and where it lives. */
export interface AcquiredToolchain {
  tool: string;
  /** The exact version in force, e.g. '22.12.0'. */
  version: string;
  /** The spec as the manifest writes it, e.g. '22' or 'lts'. */
  spec: string;
  /** The manifest that declares it. */
  manifest: vscode.Uri;
  /** Quartermaster's platform id, e.g. 'linux-x64'. */
  platform: string;
  /** The installed tree (QM_HOME/toolchains/<tool>/<version>-<platform>). */
  dir: string;
  /** Its directories of programs, first first. */
  binPaths: string[];
  /** The variables the toolchain sets where it is used (JAVA_HOME), absolute; often empty. */
  env: Record<string, string>;
  /** binPaths in front of this extension host's PATH, joined with the platform's delimiter: a ready PATH value. */
  path: string;
}

/** The toolchains one manifest puts in force changed: a version, an install, an uninstall, or the manifest itself. */
export interface ToolchainsChangeEvent {
  manifest: vscode.Uri;
  /** What it now declares, each with its resolved version (when known) and whether it is installed; empty when the manifest went away. */
  tools: ReadonlyArray<{ tool: string; spec: string; version: string | undefined; installed: boolean }>;
}

/**
 * Why `acquire` failed, as `error.code` (errors are `Error`s with a `code`):
 * ENOMANIFEST no manifest applies to the URI; ENOTDECLARED the manifest does not declare the tool;
 * ENOTINSTALLED it is missing and `install` was false; EUNTRUSTED it is missing and the workspace
 * is not trusted (nothing is installed for an extension there); ENOVERSION, EMANIFEST, ENETWORK, ...
 * the spec could not be resolved or the install failed (as `qm` reports it); ECANCELLED cancelled.
 */
export type AcquireErrorCode = 'ENOMANIFEST' | 'ENOTDECLARED' | 'ENOTINSTALLED' | 'EUNTRUSTED' | 'ECANCELLED' | (string & {});

export interface QuartermasterToolchainsApi {
  readonly apiVersion: typeof QUARTERMASTER_API_VERSION;
  /**
   * The version the folder's manifest declares for `tool`, installed if needed (and allowed),
   * and where it is. Every install goes through the one coordinator the machine's windows and
   * `qm` processes share: asking twice, or from two windows, downloads once.
   */
  acquire(request: AcquireRequest, token?: vscode.CancellationToken): Promise<AcquiredToolchain>;
  /**
   * Keeps an installed toolchain from `qm gc` and Uninstall while the returned Disposable lives
   * (and, with `pid`, while that process runs too): for extensions that start programs from it.
   */
  hold(toolchain: AcquiredToolchain, purpose: string, pid?: number): Promise<vscode.Disposable>;
  /** Fires when what a manifest puts in force changes (a new version, an install, an uninstall). */
  readonly onDidChangeToolchains: vscode.Event<ToolchainsChangeEvent>;
}
