import * as path from 'node:path';
import { QmError } from '../errors';
import type { Manifest } from '../manifest/types';
import { parseTomlStrict, tomlValueOf } from '../manifest/toml-parser';
import { checkProjectWrite, projectFileAt, readProjectText } from '../paths/project-files';
import { requireSafeName, requireSafeToolName, requireSha256, type InputSource } from '../paths/safe-names';
import type { ResolvedToolchain } from '../providers/types';
import { writeFileAtomic } from '../store/atomic-write';

export const LOCK_FILE = 'qm.lock';
const LOCK_VERSION = 1;

/** One tool resolved for one platform. */
export interface LockedTool {
  name: string;
  /** The manifest's spec this entry was resolved from; a changed spec makes the entry stale. */
  spec: string;
  /** Quartermaster's platform id ("linux-x64"), not the provider's spelling. */
  platform: string;
  version: string;
  url: string;
  sha256: string;
  size?: number;
}

export interface LockedArtifact {
  name: string;
  url: string;
  sha256: string;
}

export interface Lockfile {
  tools: LockedTool[];
  artifacts: LockedArtifact[];
}

export function lockPathFor(manifest: Pick<Manifest, 'dir'>): string {
  return path.join(manifest.dir, LOCK_FILE);
}

/**
 * The lockfile beside a manifest, or undefined when there is none. EMANIFEST when it is
 * malformed, EUNSAFEPATH when a name in it could leave its directory or it is not a regular file.
 */
export async function readLockfile(file: string): Promise<Lockfile | undefined> {
  const text = await readProjectText(file);
  return text === undefined ? undefined : parseLockfile(text, file);
}

/**
 * Reads qm.lock's text. A lockfile comes with a clone, so it is untrusted: every name that
 * reaches a path (tool, version, platform, digest) passes the door (paths/safe-names.ts), and a
 * refusal is EUNSAFEPATH naming this file, the line and the value. Malformed TOML or a missing
 * field is EMANIFEST.
 */
export function parseLockfile(text: string, file: string): Lockfile {
  let program: ReturnType<typeof parseTomlStrict>;
  try {
    program = parseTomlStrict(text);
  } catch (error) {
    // The parser counts columns from 0; people (and editors' "file:line:col") from 1.
    const where = error as { lineNumber?: number; column?: number; message?: string };
    throw new QmError('EMANIFEST', `${file}:${where.lineNumber ?? 1}:${(where.column ?? 0) + 1}: ${where.message ?? 'not valid TOML'}`, {
      path: file,
      ...(where.lineNumber !== undefined ? { line: where.lineNumber } : {}),
      cause: error,
    });
  }
  const data = tomlValueOf(program);
  const lines = entryLines(program);
  const bad = (what: string): QmError =>
    new QmError('EMANIFEST', `${file}: ${what}. Delete it and run "qm lock" to write a new one.`, { path: file });
  if (!isObject(data)) throw bad('not a lockfile');
  if (data.version !== LOCK_VERSION) throw bad(`lockfile version ${String(data.version)} is not supported (expected ${LOCK_VERSION})`);
  const tools = asArray(data.tool).map((entry, index): LockedTool => {
    if (!isObject(entry) || ![entry.name, entry.spec, entry.platform, entry.version, entry.url, entry.sha256].every((v) => typeof v === 'string')) {
      throw bad(`[[tool]] entry ${index + 1} needs name, spec, platform, version, url and sha256`);
    }
    const at = (key: string): InputSource => ({ file, ...lineOf(lines.tool[index], key), hint: TAMPERED });
    const name = requireSafeToolName(entry.name as string, at('name'));
    const size = typeof entry.size === 'number' || typeof entry.size === 'bigint' ? Number(entry.size) : undefined;
    return {
      name,
      spec: entry.spec as string,
      platform: requireSafeName('platform', entry.platform as string, at('platform'), name),
      version: requireSafeName('version', entry.version as string, at('version'), name),
      url: entry.url as string,
      sha256: requireSha256(entry.sha256 as string, at('sha256'), name),
      ...(size !== undefined ? { size } : {}),
    };
  });
  const artifacts = asArray(data.artifact).map((entry, index): LockedArtifact => {
    if (!isObject(entry) || ![entry.name, entry.url, entry.sha256].every((v) => typeof v === 'string')) {
      throw bad(`[[artifact]] entry ${index + 1} needs name, url and sha256`);
    }
    const at = (key: string): InputSource => ({ file, ...lineOf(lines.artifact[index], key), hint: TAMPERED });
    return { name: entry.name as string, url: entry.url as string, sha256: requireSha256(entry.sha256 as string, at('sha256'), `artifact ${entry.name as string}`) };
  });
  return { tools, artifacts };
}

const TAMPERED = `${LOCK_FILE} comes with the project and qm never writes this: check where it came from, or delete it and run "qm lock"`;

type KeyLines = Map<string, number>;

/** The line of each key in each [[tool]] and [[artifact]] table, in order, for errors that say where. */
function entryLines(program: ReturnType<typeof parseTomlStrict>): { tool: KeyLines[]; artifact: KeyLines[] } {
  const found: { tool: KeyLines[]; artifact: KeyLines[] } = { tool: [], artifact: [] };
  for (const item of program.body[0].body) {
    if (item.type !== 'TOMLTable' || item.kind !== 'array' || item.key.keys.length !== 1) continue;
    const [key] = item.key.keys;
    const name = key?.type === 'TOMLBare' ? key.name : key?.value;
    if (name !== 'tool' && name !== 'artifact') continue;
    const keys: KeyLines = new Map();
    for (const keyValue of item.body) {
      const first = keyValue.key.keys[0];
      if (keyValue.key.keys.length === 1 && first) keys.set(first.type === 'TOMLBare' ? first.name : first.value, keyValue.loc.start.line);
    }
    found[name].push(keys);
  }
  return found;
}

function lineOf(keys: KeyLines | undefined, key: string): { line?: number } {
  const line = keys?.get(key);
  return line === undefined ? {} : { line };
}

export function lockedToolFrom(spec: string, platform: string, toolchain: ResolvedToolchain): LockedTool {
  return {
    name: toolchain.tool,
    spec,
    platform,
    version: toolchain.version,
    url: toolchain.url,
    sha256: toolchain.sha256,
    ...(toolchain.size !== undefined ? { size: toolchain.size } : {}),
  };
}

/** Stable TOML: sorted entries, one table per tool and platform, so diffs stay small. */
export function formatLockfile(lock: Lockfile): string {
  const quote = (value: string): string => JSON.stringify(value);
  const lines = ['# Written by qm. Resolved versions, URLs and digests for qm.toml; commit it.', `version = ${LOCK_VERSION}`];
  const tools = [...lock.tools].sort((a, b) => a.name.localeCompare(b.name) || a.platform.localeCompare(b.platform));
  for (const tool of tools) {
    lines.push('', '[[tool]]', `name = ${quote(tool.name)}`, `spec = ${quote(tool.spec)}`, `platform = ${quote(tool.platform)}`);
    lines.push(`version = ${quote(tool.version)}`, `url = ${quote(tool.url)}`, `sha256 = ${quote(tool.sha256)}`);
    if (tool.size !== undefined) lines.push(`size = ${tool.size}`);
  }
  for (const artifact of [...lock.artifacts].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push('', '[[artifact]]', `name = ${quote(artifact.name)}`, `url = ${quote(artifact.url)}`, `sha256 = ${quote(artifact.sha256)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Replaces the lockfile atomically, so a reader never sees half of it; never through a symlink
 * or onto anything but a regular file (EUNSAFEPATH). Concurrent writers take its file lock
 * first (project/file-lock.ts).
 */
export async function writeLockfile(file: string, lock: Lockfile): Promise<void> {
  await checkProjectWrite(projectFileAt(file));
  await writeFileAtomic(file, formatLockfile(lock));
}

/**
 * Why the lockfile no longer matches the manifest for `platform`, or undefined when it does:
 * every declared tool has an entry with the same spec, and nothing else is locked.
 */
export function lockMismatch(
  manifest: Pick<Manifest, 'file' | 'artifacts'> & { tools: Array<{ name: string; spec: string }> },
  lock: Lockfile,
  platform: string,
): string | undefined {
  for (const tool of manifest.tools) {
    const entry = lock.tools.find((t) => t.name === tool.name && t.platform === platform);
    if (!entry) return `${tool.name} is not locked for ${platform}`;
    if (entry.spec !== tool.spec) return `${tool.name} is "${tool.spec}" in ${path.basename(manifest.file)} but was locked as "${entry.spec}"`;
  }
  const declared = new Set(manifest.tools.map((t) => t.name));
  const extra = lock.tools.find((t) => !declared.has(t.name));
  if (extra) return `${extra.name} is locked but no longer declared`;
  for (const artifact of manifest.artifacts) {
    const entry = lock.artifacts.find((a) => a.name === artifact.name);
    if (!entry) return `artifact ${artifact.name} is not locked`;
    if (entry.url !== artifact.url || entry.sha256 !== artifact.sha256) return `artifact ${artifact.name} changed since it was locked`;
  }
  const artifacts = new Set(manifest.artifacts.map((a) => a.name));
  const extraArtifact = lock.artifacts.find((a) => !artifacts.has(a.name));
  if (extraArtifact) return `artifact ${extraArtifact.name} is locked but no longer declared`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
