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
  /** Why the spec could not be resolved (ENOVERSION, ENETWORK, ...). */
  error?: { code: string; message: string };
  /** The ToolSpec to send to the coordinator to install exactly this. */
  request: ToolSpec;
  /** Declared, not resolved yet: neither missing nor installed as far as anyone knows. */
  pending?: boolean;
}

export interface ManifestStatus {
  file: string;
  dir: string;
  tools: ToolStatus[];
  /** The manifest's first error (EMANIFEST), when it has one; tools are still listed. */
  error?: { code: string; message: string };
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
  const error = manifestError(manifest);
  const tools = manifest.tools.map((entry): ToolStatus => {
    const request = { name: entry.name, spec: entry.spec, ...(entry.options ? { options: entry.options } : {}) };
    return { name: entry.name, spec: entry.spec, installed: false, binPaths: [], locked: false, request, pending: true };
  });
  return { file: manifest.file, dir: manifest.dir, tools, ...(error ? { error: { code: error.code, message: error.message } } : {}) };
}

/**
 * The status of every tool a manifest declares: a matching qm.lock is followed exactly, as
 * `qm install` would; otherwise each spec is resolved on its own, so that one bad spec or an
 * unreachable index leaves the others' answers intact. `manifest` is a path (read here) or one
 * already read.
 */
export async function manifestStatus(manifestOrFile: Manifest | string, source: StatusSource, options: ManifestStatusOptions): Promise<ManifestStatus> {
  const manifest = typeof manifestOrFile === 'string' ? await loadManifest(manifestOrFile) : manifestOrFile;
  const error = manifestError(manifest);
  const lock = await readLockfile(lockPathFor(manifest)).catch(() => undefined);
  const followLock = lock !== undefined && lockMismatch(manifest, lock, options.platform) === undefined;
  const installed = await source.listInstalled();
  const tools = await Promise.all(
    manifest.tools.map((entry) => toolStatus(entry, followLock ? lock : undefined, installed, source, options)),
  );
  return { file: manifest.file, dir: manifest.dir, tools, ...(error ? { error: { code: error.code, message: error.message } } : {}) };
}

async function toolStatus(
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
  const unresolved = (code: string, message: string): ToolStatus => ({ ...base, installed: false, binPaths: [], locked: false, request, error: { code, message } });
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
