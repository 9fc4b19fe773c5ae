import { isQmError } from '../errors';
import { lockMismatch, lockPathFor, readLockfile, type Lockfile } from '../lockfile/qm-lock';
import { loadManifest, manifestError } from '../manifest/find';
import type { Manifest } from '../manifest/types';
import type { InstalledTool, ResolvedTool, ToolSpec } from '../../shared/protocol';

/** One declared tool as an editor shows it: what the spec means now, and whether it is here. */
export interface ToolStatus {
  name: string;
  spec: string;
  /** The version the spec resolves to; undefined when it could not be resolved. */
  version?: string;
  installed: boolean;
  /** The install's bin directories, when installed. */
  binPaths: string[];
  /** Variables the install sets (JAVA_HOME), when installed. */
  env?: Record<string, string>;
  /** Followed from qm.lock (no index read). */
  locked: boolean;
  /** Why the spec could not be resolved (ENOVERSION, ENETWORK, ...), and where the spec is written. */
  error?: StatusError;
  /** The ToolSpec to send to the coordinator to install exactly this. */
  request: ToolSpec;
  /** Declared, not resolved yet: neither missing nor installed as far as anyone knows. */
  pending?: boolean;
}

export interface ManifestStatus {
  file: string;
  dir: string;
  tools: ToolStatus[];
  /**
   * The manifest's first error (EMANIFEST: it does not parse or holds a bad value; ENOVERSION: a
   * spec names no release), when it has one. With `heldBack`, `tools` are the last good ones.
   */
  error?: StatusError;
  /**
   * The file as written cannot be used, so the last version of it that could stays in force
   * (terminals, tasks, views): `tools` are that version's, until the file is fixed.
   */
  heldBack?: boolean;
}

/** An error with the place a person fixes it: file, 1-based line and column. */
export interface StatusError {
  code: string;
  /** A manifest's error: `<file>:<line>:<column>: <reason>`, as the CLI prints it; a spec's: the reason. */
  message: string;
  /** The message without the place. */
  reason?: string;
  at?: { file: string; line: number; column: number };
}

/** What a status needs from the coordinator: resolving specs and knowing what is installed. */
export interface StatusSource {
  resolve(tools: ToolSpec[], signal?: AbortSignal): Promise<ResolvedTool[]>;
  listInstalled(): Promise<InstalledTool[]>;
}

export interface ManifestStatusOptions {
  platform: string;
  /**
   * Resolve specs against the indexes (which may fetch them). When false, only qm.lock and the
   * installed toolchains are read: what an untrusted workspace may do.
   */
  network: boolean;
  signal?: AbortSignal;
}

/**
 * What a manifest declares, before anything is resolved: shown at once (the specs as written)
 * while `manifestStatus` asks the coordinator.
 */
export function declaredStatus(manifest: Manifest): ManifestStatus {
  const error = statusError(manifest);
  const tools = manifest.tools.map((entry): ToolStatus => {
    const request = { name: entry.name, spec: entry.spec, ...(entry.options ? { options: entry.options } : {}) };
    return { name: entry.name, spec: entry.spec, installed: false, binPaths: [], locked: false, request, pending: true };
  });
  return { file: manifest.file, dir: manifest.dir, tools, ...(error ? { error } : {}) };
}

/**
 * The status of every tool a manifest declares: a matching qm.lock is followed exactly, as
 * `qm install` would; otherwise each spec is resolved on its own, so that one bad spec or an
 * unreachable index leaves the others' answers intact. `manifest` is a path (read here) or one
 * already read.
 */
export async function manifestStatus(manifestOrFile: Manifest | string, source: StatusSource, options: ManifestStatusOptions): Promise<ManifestStatus> {
  const manifest = typeof manifestOrFile === 'string' ? await loadManifest(manifestOrFile) : manifestOrFile;
  const error = statusError(manifest);
  const lock = await readLockfile(lockPathFor(manifest)).catch(() => undefined);
  const followLock = lock !== undefined && lockMismatch(manifest, lock, options.platform) === undefined;
  const installed = await source.listInstalled();
  const tools = await Promise.all(
    manifest.tools.map((entry) => toolStatus(manifest, entry, followLock ? lock : undefined, installed, source, options)),
  );
  return { file: manifest.file, dir: manifest.dir, tools, ...(error ? { error } : {}) };
}

/**
 * What is in force for a manifest just read, given the last version of it that could be used.
 * A file that does not parse or holds a bad value (any error in it), or a spec that names no
 * release (ENOVERSION), keeps `lastGood` in force: its tools, resolved afresh, with the new
 * file's first error and `heldBack`. Otherwise the file as read is in force and becomes the
 * last good one. With no last good version, the file as read is shown with its error.
 */
export async function statusInForce(
  manifest: Manifest,
  lastGood: Manifest | undefined,
  source: StatusSource,
  options: ManifestStatusOptions,
): Promise<{ status: ManifestStatus; good: Manifest | undefined }> {
  const error = statusError(manifest);
  if (error) return lastGood ? { status: await heldBack(lastGood, manifest, error, source, options), good: lastGood } : { status: await manifestStatus(manifest, source, options), good: undefined };
  const status = await manifestStatus(manifest, source, options);
  const noRelease = status.tools.find((tool) => tool.error?.code === 'ENOVERSION');
  if (!noRelease?.error) return { status, good: manifest };
  if (!lastGood) return { status: { ...status, error: noRelease.error }, good: undefined };
  return { status: await heldBack(lastGood, manifest, noRelease.error, source, options), good: lastGood };
}

async function heldBack(lastGood: Manifest, manifest: Manifest, error: StatusError, source: StatusSource, options: ManifestStatusOptions): Promise<ManifestStatus> {
  const status = await manifestStatus(lastGood, source, options);
  return { ...status, file: manifest.file, dir: manifest.dir, error, heldBack: true };
}

/** The manifest's first error with its place, as the status bar and the CLI name it. */
function statusError(manifest: Manifest): StatusError | undefined {
  const error = manifestError(manifest);
  if (!error) return undefined;
  const { path, line, column } = error.details as { path?: string; line?: number; column?: number };
  const at = path !== undefined && line !== undefined && column !== undefined ? { file: path, line, column } : undefined;
  const reason = at ? error.message.slice(`${at.file}:${at.line}:${at.column}: `.length) : error.message;
  return { code: error.code, message: error.message, reason, ...(at ? { at } : {}) };
}

async function toolStatus(
  manifest: Manifest,
  entry: Manifest['tools'][number],
  lock: Lockfile | undefined,
  installed: InstalledTool[],
  source: StatusSource,
  options: ManifestStatusOptions,
): Promise<ToolStatus> {
  const base = { name: entry.name, spec: entry.spec, ...(entry.options ? { options: entry.options } : {}) };
  const pinned = lock?.tools.find((t) => t.name === entry.name && t.platform === options.platform);
  const request: ToolSpec = pinned
    ? { ...base, locked: { version: pinned.version, url: pinned.url, sha256: pinned.sha256, ...(pinned.size !== undefined ? { size: pinned.size } : {}) } }
    : base;
  const { line, column } = entry.specRange.start;
  const at = { file: entry.file ?? manifest.file, line, column };
  const unresolved = (code: string, message: string): ToolStatus => ({
    ...base,
    installed: false,
    binPaths: [],
    locked: false,
    request,
    error: { code, message, at },
  });
  // A locked tool resolves without any index; an unlocked one may need to fetch one.
  if (!pinned && !options.network) return unresolved('EUNTRUSTED', 'not resolved: this workspace is not trusted');
  try {
    const [resolved] = await source.resolve([request], options.signal);
    if (!resolved) return unresolved('EIO', `the coordinator resolved nothing for ${entry.name}`);
    const match = installed.find((t) => t.tool === resolved.tool && t.version === resolved.version && t.platform === resolved.platform);
    return { ...base, version: resolved.version, installed: resolved.installed, binPaths: match?.binPaths ?? [], ...(match?.env ? { env: match.env } : {}), locked: pinned !== undefined, request };
  } catch (error) {
    const code = isQmError(error) ? error.code : ((error as { code?: string }).code ?? 'EIO');
    return unresolved(code, (error as Error).message);
  }
}

/** The tools that are declared, resolvable, and not installed: what "install everything" fetches. */
export function missingTools(status: ManifestStatus): ToolStatus[] {
  return status.tools.filter((t) => !t.installed && t.version !== undefined);
}
