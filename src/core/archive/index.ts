import { createReadStream } from 'node:fs';
import { fsError } from '../errors';
import { extractTarStream } from './tar-extract';
import type { ArchiveKind, ExtractOptions, ExtractResult } from './types';
import { extractZipFile } from './zip-extract';

export { extractTarStream, TarExtraction } from './tar-extract';
export { DEFAULT_EXTRACT_LIMITS } from './types';
export type { ArchiveKind, ExtractLimits, ExtractOptions, ExtractResult } from './types';

const SUFFIXES: ReadonlyArray<[string, ArchiveKind]> = [
  ['.tar.gz', 'tar.gz'],
  ['.tgz', 'tar.gz'],
  ['.tar.xz', 'tar.xz'],
  ['.txz', 'tar.xz'],
  ['.zip', 'zip'],
];

/** The archive kind a file name or URL ends with (query and fragment ignored), if any. */
export function archiveKindOf(fileNameOrUrl: string): ArchiveKind | undefined {
  let name = fileNameOrUrl;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    try {
      name = new URL(name).pathname;
    } catch {
      // not a URL after all: use the text as it is
    }
  }
  name = name.toLowerCase();
  return SUFFIXES.find(([suffix]) => name.endsWith(suffix))?.[1];
}

/** Extracts an archive file of any kind into targetDir (zip needs random access, so a file). */
export async function extractArchiveFile(
  file: string,
  kind: ArchiveKind,
  targetDir: string,
  options?: ExtractOptions,
): Promise<ExtractResult> {
  if (kind === 'zip') return extractZipFile(file, targetDir, options);
  const input = createReadStream(file, { highWaterMark: 1024 * 1024 });
  let readError: unknown;
  input.once('error', (error) => (readError = error));
  try {
    return await extractTarStream(input, kind, targetDir, options);
  } catch (error) {
    throw error === readError ? fsError(error, 'read', file) : error;
  }
}
