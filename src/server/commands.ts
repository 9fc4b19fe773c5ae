import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ResponseError, type WorkspaceEdit } from 'vscode-languageserver/node';
import { formatLockfile, LOCK_FILE, lockMismatch, type LockedTool } from '../core/lockfile/qm-lock';
import type { Manifest } from '../core/manifest/types';
import type { InstallResult, ToolSpec } from '../shared/protocol';
import type { CoordinatorLink } from './coordinator-link';
import type { LockFiles, LockState } from './lock-files';
import { siblingUri, type ManifestDocuments } from './manifest-documents';
import { toolState } from './tool-state';
import type { ToolchainView } from './toolchain-view';

/** workspace/executeCommand: install a manifest's toolchains (all, or `tools`) through the coordinator. */
export const INSTALL_COMMAND = 'quartermaster.server.install';
/** workspace/executeCommand: rewrite qm.lock from the coordinator's resolutions, as `qm lock` would. */
export const UPDATE_LOCK_COMMAND = 'quartermaster.server.updateLock';
export const SERVER_COMMANDS = [INSTALL_COMMAND, UPDATE_LOCK_COMMAND];

export interface InstallArguments {
  uri: string;
  /** Tool names; default every tool the manifest declares. */
  tools?: string[];
}

export interface UpdateLockArguments {
  uri: string;
}

export interface UpdateLockResult {
  applied: boolean;
  uri: string;
}

/** JSON-RPC error code for a command that cannot run; `data.code` says why, as QmError codes do. */
const COMMAND_FAILED = -32001;

export interface CommandDeps {
  documents: ManifestDocuments;
  view: ToolchainView;
  link: CoordinatorLink;
  lockFiles: LockFiles;
  platform: string;
  /** workspace/applyEdit; resolves with whether the client applied it. */
  applyEdit(label: string, edit: WorkspaceEdit): Promise<boolean>;
  /** Whether the client can create files through a workspace edit. */
  canCreateFiles: boolean;
  /** qm.lock was edited: read it again and republish what depends on it. */
  lockChanged(file: string): void;
}

/** The commands the server runs for code actions and code lenses. */
export class ServerCommands {
  constructor(private readonly deps: CommandDeps) {}

  execute(command: string, args: unknown[] | undefined): Promise<unknown> {
    const first = args?.[0] as { uri?: unknown; tools?: unknown } | undefined;
    if (typeof first?.uri !== 'string') return Promise.reject(failure('EUSAGE', `${command} needs an argument { uri }`));
    if (command === INSTALL_COMMAND) {
      const tools = Array.isArray(first.tools) ? first.tools.filter((tool): tool is string => typeof tool === 'string') : undefined;
      return this.install({ uri: first.uri, ...(tools ? { tools } : {}) });
    }
    if (command === UPDATE_LOCK_COMMAND) return this.updateLock({ uri: first.uri });
    return Promise.reject(failure('EUSAGE', `Unknown command ${command}`));
  }

  /**
   * Installs through the client and the coordinator. What is installed is what the editor shows:
   * qm.lock's entries when it matches, else the resolution the view holds, else the spec.
   */
  async install(args: InstallArguments): Promise<InstallResult> {
    const manifest = this.manifestAt(args.uri);
    const lock = manifest.kind === 'qm.toml' ? await this.deps.lockFiles.read(manifest.file) : undefined;
    const followLock = lock?.kind === 'ok' && !hasErrors(manifest) && lockMismatch(manifest, lock.lock, this.deps.platform) === undefined;
    const wanted = manifest.tools.filter((tool) => (args.tools ?? [tool.name]).includes(tool.name) && toolState(tool, this.deps.view).kind !== 'invalid');
    if (wanted.length === 0) throw failure('EUSAGE', `Nothing to install in ${path.basename(manifest.file)}${args.tools ? ` for ${args.tools.join(', ')}` : ''}`);
    const tools = wanted.map((entry): ToolSpec => {
      const locked = followLock ? lock.lock.tools.find((t) => t.name === entry.name && t.platform === this.deps.platform) : undefined;
      const resolved = locked ?? this.deps.view.resolution(entry.name, entry.spec).resolved;
      if (!resolved) return { name: entry.name, spec: entry.spec };
      const { version, url, sha256, size } = resolved;
      return { name: entry.name, spec: entry.spec, locked: { version, url, sha256, ...(size !== undefined ? { size } : {}) } };
    });
    const label = `Install ${tools.map((tool) => `${tool.name}@${tool.spec}`).join(' ')} (${path.basename(manifest.file)})`;
    try {
      return await this.deps.link.install({
        jobId: `lsp-${process.pid}-${randomBytes(4).toString('hex')}`,
        requester: { kind: 'language-server', pid: process.pid, label },
        tools,
      });
    } finally {
      this.deps.view.installedChanged();
    }
  }

  /**
   * Resolves every tool through the coordinator and replaces qm.lock's text with a workspace edit
   * (the editor applies and saves it), keeping other platforms' entries whose spec is unchanged.
   */
  async updateLock(args: UpdateLockArguments): Promise<UpdateLockResult> {
    const manifest = this.manifestAt(args.uri);
    if (manifest.kind !== 'qm.toml') throw failure('EUSAGE', `${LOCK_FILE} belongs to qm.toml, not ${path.basename(manifest.file)}`);
    const error = manifest.problems.find((problem) => problem.severity === 'error');
    if (error) throw failure('EMANIFEST', `Fix qm.toml first: line ${error.range.start.line}: ${error.message}`);
    const previous = await this.deps.lockFiles.read(manifest.file);
    if (previous.kind === 'bad') throw failure('EMANIFEST', previous.message);
    const resolved = manifest.tools.length > 0 ? await this.deps.link.resolve(manifest.tools.map(({ name, spec }) => ({ name, spec }))) : [];
    const platform = this.deps.platform;
    const current = manifest.tools.map((entry): LockedTool => {
      const found = resolved.find((r) => r.tool === entry.name);
      if (!found) throw failure('ECOORDINATOR', `The coordinator did not resolve ${entry.name}`);
      const { version, url, sha256, size } = found;
      return { name: entry.name, spec: entry.spec, platform, version, url, sha256, ...(size !== undefined ? { size } : {}) };
    });
    const kept = previous.kind === 'ok' ? previous.lock.tools.filter((old) => old.platform !== platform && manifest.tools.some((t) => t.name === old.name && t.spec === old.spec)) : [];
    const text = formatLockfile({ tools: [...current, ...kept], artifacts: manifest.artifacts.map(({ name, url, sha256 }) => ({ name, url, sha256 })) });
    const uri = this.deps.documents.openLock(previous.file)?.uri ?? siblingUri(args.uri, LOCK_FILE);
    const applied = await this.deps.applyEdit(`Update ${LOCK_FILE}`, this.lockEdit(uri, previous, text));
    this.deps.lockChanged(previous.file);
    return { applied, uri };
  }

  private lockEdit(uri: string, previous: Exclude<LockState, { kind: 'bad' }>, text: string): WorkspaceEdit {
    if (previous.kind === 'none') {
      if (!this.deps.canCreateFiles) throw failure('EUSAGE', `There is no ${LOCK_FILE} and this editor cannot create one from the language server; run "qm lock"`);
      return {
        documentChanges: [
          { kind: 'create', uri, options: { ignoreIfExists: true } },
          { textDocument: { uri, version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: text }] },
        ],
      };
    }
    // The whole text as read (the editor's when open), replaced.
    const old = TextDocument.create(uri, 'toml', 0, previous.text);
    return { changes: { [uri]: [{ range: { start: { line: 0, character: 0 }, end: old.positionAt(previous.text.length) }, newText: text }] } };
  }

  private manifestAt(uri: string): Manifest {
    const document = this.deps.documents.get(uri);
    const manifest = document ? this.deps.documents.manifest(document) : undefined;
    if (!manifest) throw failure('EUSAGE', `${uri} is not an open manifest`);
    return manifest;
  }
}

function hasErrors(manifest: Manifest): boolean {
  return manifest.problems.some((problem) => problem.severity === 'error');
}

function failure(code: string, message: string): ResponseError<{ code: string }> {
  return new ResponseError(COMMAND_FAILED, message, { code });
}
