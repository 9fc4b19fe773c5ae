import { posix, win32 } from 'node:path';
import { QmError } from '../errors';

/**
 * The one door for untrusted names (STYLE.md habit 13). A string from a manifest, qm.lock, a
 * version file, a provider's index or a coordinator request becomes part of a path only after
 * one of these checks: tool names, versions and platforms are single path components, digests
 * are 64 hex digits, an artifact's dest is a relative path that stays in the project. A refusal
 * is EUNSAFEPATH naming the input (file and line, URL or request) and the value.
 *
 * A provider whose upstream names do not fit (a tag "release/1.2", an asset "a b.tar.gz") maps
 * them to a safe spelling itself; `isSafeComponent` filters index entries, `requireSafeName`
 * refuses a whole input.
 */

/** Where an untrusted value came from, as an error names it. */
export interface InputSource {
  /** The project file it was read from (qm.lock, qm.toml, .nvmrc, ...). */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** The index it was read from. */
  url?: string;
  /** Anything else: "a coordinator request". */
  description?: string;
  /** What to do about it, appended to the message. */
  hint?: string;
}

/** What a value is, for messages: `version "../x" of node`. */
export type NameKind = 'tool name' | 'version' | 'platform' | 'file name' | 'sha256';

// Long enough for any real version or platform; short enough that tool/version-platform stays
// far below PATH_MAX and NAME_MAX (255 bytes) with the temp names added around it.
const MAX_COMPONENT_LENGTH = 128;
const COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
// Windows opens a device for these names, whatever the extension ("nul.txt" is NUL).
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\.|$)/i;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Why `value` cannot be one directory or file name inside QM_HOME, or undefined when it can:
 * letters, digits, ".", "_", "+" and "-", not starting with "." (so never "." or ".."), not
 * ending with "." (Windows drops it), no device name, at most 128 characters.
 */
export function componentProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value.length > MAX_COMPONENT_LENGTH) return `is longer than ${MAX_COMPONENT_LENGTH} characters`;
  if (value === '.' || value === '..') return 'names a directory, not a name inside one';
  if (/[/\\]/.test(value)) return 'contains a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains a control character';
  if (value.startsWith('.')) return 'starts with "."';
  if (!COMPONENT.test(value)) return 'may hold only letters, digits, ".", "_", "+" and "-"';
  if (value.endsWith('.')) return 'ends with "."';
  if (WINDOWS_DEVICE.test(value)) return 'is a Windows device name';
  return undefined;
}

export function isSafeComponent(value: unknown): value is string {
  return typeof value === 'string' && componentProblem(value) === undefined;
}

/** Why `value` is not a SHA-256 digest as Quartermaster stores it (64 hexadecimal digits), or undefined. */
export function sha256Problem(value: string): string | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
  if (/^sha256[:-]/i.test(value)) return 'must be only the 64 hexadecimal characters of the digest, without a "sha256:" prefix';
  if (value.length === 64) return 'must be 64 hexadecimal characters (0-9, a-f)';
  return `must be 64 hexadecimal characters (got ${value.length})`;
}

/**
 * Why an artifact's `dest` cannot name a file in the project, or undefined when it can: a
 * relative path that, once normalized, stays below the project directory. (Symlinks on the way
 * are the writer's to refuse: see project-files.ts.)
 */
export function projectPathProblem(dest: string): string | undefined {
  if (dest.trim() === '') return 'must name a file inside the project (got an empty path)';
  if (dest.includes('\0')) return 'must not contain a NUL character';
  if (posix.isAbsolute(dest) || win32.isAbsolute(dest) || /^[a-zA-Z]:/.test(dest)) {
    return `must be a path relative to the project, not absolute ("${dest}")`;
  }
  const normalized = normalizeProjectPath(dest);
  if (normalized === '..' || normalized.startsWith('../')) return `must stay inside the project ("${dest}" leads outside it)`;
  if (normalized === '.') return 'must name a file inside the project, not the project directory itself';
  return undefined;
}

/** A relative project path in one spelling ("/" separators, no "." or "x/.."), to compare and to walk. */
export function normalizeProjectPath(dest: string): string {
  return posix.normalize(dest.replaceAll('\\', '/')).replace(/\/+$/, '') || '.';
}

/** Where `source` is, as an error message starts: "/p/qm.lock:7", "the index at https://…". */
export function describeSource(source: InputSource): string {
  if (source.file !== undefined) return source.line !== undefined ? `${source.file}:${source.line}` : source.file;
  if (source.url !== undefined) return `the index at ${source.url}`;
  return source.description ?? 'untrusted input';
}

function refuse(source: InputSource, message: string, found: string): QmError {
  return new QmError('EUNSAFEPATH', `${describeSource(source)}: ${message}${source.hint ? `. ${source.hint}` : ''}`, {
    found,
    ...(source.file !== undefined ? { path: source.file } : {}),
    ...(source.line !== undefined ? { line: source.line } : {}),
    ...(source.url !== undefined ? { url: source.url } : {}),
  });
}

/**
 * `value` when it is a safe single path component; EUNSAFEPATH naming `source` otherwise.
 * `owner` says whose value it is ("of node").
 */
export function requireSafeName(kind: Exclude<NameKind, 'sha256'>, value: string, source: InputSource, owner?: string): string {
  const problem = componentProblem(value);
  if (problem === undefined) return value;
  const whose = owner === undefined ? '' : ` of ${owner}`;
  throw refuse(source, `${kind} ${JSON.stringify(value)}${whose} cannot be used as a name in a path: it ${problem}`, value);
}

/** `github:owner/repo`: owner as GitHub allows it, repository letters, digits, ".", "_", "-". */
export const GITHUB_TOOL = /^github:([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

/** A well-formed `github:owner/repo` (never "." or ".." as the repository). */
export function isGithubToolName(name: string): boolean {
  const match = GITHUB_TOOL.exec(name);
  return match !== null && match[2] !== '.' && match[2] !== '..';
}

/**
 * A tool's name as one path segment (toolchains/<segment>/, lock names): `github:owner/repo`
 * becomes `github+owner+repo` ('+' is in no GitHub owner or repository name); others are as is,
 * and are checked as they are.
 */
export function toolPathSegment(tool: string): string {
  return isGithubToolName(tool) ? `github+${tool.slice('github:'.length).replace('/', '+')}` : tool;
}

/** A tool's name, checked as the one path segment it is stored under (`github:owner/repo` as github+owner+repo). */
export function requireSafeToolName(name: string, source: InputSource): string {
  requireSafeName('tool name', toolPathSegment(name), source);
  return name;
}

/** The digest in lower case when it is one; EUNSAFEPATH naming `source` otherwise. */
export function requireSha256(value: string, source: InputSource, owner?: string): string {
  const problem = sha256Problem(value);
  if (problem === undefined) return value.toLowerCase();
  const whose = owner === undefined ? '' : ` of ${owner}`;
  throw refuse(source, `sha256 ${JSON.stringify(value)}${whose} ${problem}`, value);
}

/**
 * Checks the names a toolchain's paths and lock keys are built from (tool, version, platform;
 * its digest names its blob). Fields left out are not checked.
 */
export function requireSafeToolchain(
  toolchain: { tool: string; version?: string; platform?: string; sha256?: string },
  source: InputSource,
): void {
  requireSafeToolName(toolchain.tool, source);
  if (toolchain.version !== undefined) requireSafeName('version', toolchain.version, source, toolchain.tool);
  if (toolchain.platform !== undefined) requireSafeName('platform', toolchain.platform, source, toolchain.tool);
  if (toolchain.sha256 !== undefined) requireSha256(toolchain.sha256, source, toolchain.tool);
}

/** Tool requests as a coordinator client sends them: every name, and every locked build's version and digest. */
export function requireSafeToolRequests(
  tools: ReadonlyArray<{ name: string; locked?: { version: string; sha256: string } }>,
  source: InputSource,
): void {
  for (const tool of tools) {
    requireSafeToolchain({ tool: tool.name, ...(tool.locked ? { version: tool.locked.version, sha256: tool.locked.sha256 } : {}) }, source);
  }
}

/**
 * Defence in depth for path builders (HomeLayout): a name that did not pass the door is refused
 * here too, as a bug rather than as bad input, so no caller can forget the check.
 */
export function assertComponent(kind: NameKind, value: string): string {
  if (kind === 'sha256' ? SHA256.test(value) : componentProblem(value) === undefined) return value;
  throw new QmError('EUNSAFEPATH', `Refusing to build a path from ${kind} ${JSON.stringify(value)}: it was not checked as untrusted input`, { found: value });
}
