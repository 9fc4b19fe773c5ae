import { basename, join } from 'node:path';
import { isQmError, QmError } from '../errors';
import { readProjectText } from '../paths/project-files';
import { parseNodeVersionFile, parseToolVersions } from './legacy';
import { MANIFEST_FILE_NAMES, VERSION_FILE_NAMES, type VersionFileKind } from './names';
import { parseVersionFile, VERSION_FILE_TOOLS } from './version-files';
import { parseQmToml } from './qm-toml';
import type { Manifest, ManifestKind } from './types';

export { findManifest, type FindManifestOptions } from './locate';
export { MANIFEST_FILE_NAMES } from './names';

/** The manifest kind a file name stands for, or undefined for any other file. */
export function manifestKind(file: string): ManifestKind | undefined {
  const name = basename(file);
  return MANIFEST_FILE_NAMES.find((kind) => kind === name);
}

/** Parses manifest text by the file's name. Never throws for a manifest name; EUSAGE otherwise. */
export function parseManifest(text: string, file: string): Manifest {
  const kind = requireManifestKind(file);
  switch (kind) {
    case 'qm.toml':
      return parseQmToml(text, file);
    case '.tool-versions':
      return parseToolVersions(text, file);
    case '.nvmrc':
    case '.node-version':
      return parseNodeVersionFile(text, file, kind);
    default:
      return parseVersionFile(text, file, kind);
  }
}

/**
 * The version files beside `manifest` add the tools it does not declare, each tool and problem
 * naming its own file. A version file that cannot be read is passed over, as if absent.
 */
async function withVersionFiles(manifest: Manifest): Promise<Manifest> {
  const siblings = VERSION_FILE_NAMES.filter((name) => name !== manifest.kind);
  const read = await Promise.all(
    siblings.map(async (name) => {
      const file = join(manifest.dir, name);
      const text = await readProjectText(file).catch(() => undefined);
      return text === undefined ? undefined : parseVersionFile(text.startsWith('\uFEFF') ? text.slice(1) : text, file, name);
    }),
  );
  const tools = [...manifest.tools];
  const problems = [...manifest.problems];
  for (const sibling of read) {
    if (!sibling) continue;
    // A tool the manifest declares is the manifest's: the version file's entry and its mistakes do not count.
    if (manifest.tools.some((t) => t.name === VERSION_FILE_TOOLS[sibling.kind as VersionFileKind])) continue;
    for (const tool of sibling.tools) if (!tools.some((t) => t.name === tool.name)) tools.push({ ...tool, file: sibling.file });
    problems.push(...sibling.problems.map((problem) => ({ ...problem, file: sibling.file })));
  }
  return { ...manifest, tools, problems };
}

/**
 * Reads and parses a manifest. Throws EUSAGE for a file name that is not a manifest's,
 * EMANIFEST when the file cannot be read and EUNSAFEPATH when it is not a regular file (a FIFO
 * is never waited on); problems in its content do not throw.
 */
export async function loadManifest(file: string): Promise<Manifest> {
  requireManifestKind(file);
  let text: string | undefined;
  try {
    text = await readProjectText(file);
  } catch (error) {
    if (isQmError(error, 'EUNSAFEPATH')) throw error;
    const cause = isQmError(error) ? error.details.cause : error;
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause instanceof Error ? cause.message : String(cause));
    throw new QmError('EMANIFEST', `Cannot read ${file} (${reason})`, { path: file, cause });
  }
  if (text === undefined) throw new QmError('EMANIFEST', `Cannot read ${file} (ENOENT)`, { path: file });
  // Editors hide a byte-order mark; dropping it keeps offsets equal to the editor's.
  return withVersionFiles(parseManifest(text.startsWith('\uFEFF') ? text.slice(1) : text, file));
}

/**
 * The manifest's first error as the CLI reports it, `<file>:<line>:<column>: <message>`, or
 * undefined when nothing in it is an error (warnings do not stop anything).
 */
export function manifestError(manifest: Manifest): QmError | undefined {
  const problem = manifest.problems.find((candidate) => candidate.severity === 'error');
  if (!problem) return undefined;
  const { line, column } = problem.range.start;
  const file = problem.file ?? manifest.file;
  return new QmError('EMANIFEST', `${file}:${line}:${column}: ${problem.message}`, { path: file, line, column });
}

function requireManifestKind(file: string): ManifestKind {
  const kind = manifestKind(file);
  if (kind === undefined) {
    throw new QmError('EUSAGE', `${file} is not a manifest: expected one of ${MANIFEST_FILE_NAMES.join(', ')}`, { path: file });
  }
  return kind;
}

