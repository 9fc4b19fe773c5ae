import * as yauzl from 'yauzl';
import { QmError, cancelledError, fsError, isQmError } from '../errors';
import { type AdmittedEntry, EntryGuard, type EntryHeader, type EntryKind, unsafeEntry } from './entry-guard';
import { TargetWriter } from './target-writer';
import { WritePool } from './write-pool';
import { type ExtractOptions, type ExtractResult, resolveLimits } from './types';

/** Deflate cannot beat ~1032:1, so a larger ratio in a header is a lie; a zip bomb either way. */
const MAX_COMPRESSION_RATIO = 1000;
/** Small entries (e.g. a file of zeros) may legitimately compress very well. */
const RATIO_CHECK_MIN_BYTES = 1024 * 1024;
const MAX_SYMLINK_TARGET_BYTES = 4096;
/** Size of a local file header before its name and extra field. */
const LOCAL_HEADER_BYTES = 30;

const S_IFMT = 0o170000;
const SPECIAL_TYPES: Record<number, string> = {
  0o010000: 'FIFO',
  0o020000: 'CharacterDevice',
  0o060000: 'BlockDevice',
  0o140000: 'Socket',
};

/**
 * Extracts a zip file into targetDir. The whole central directory is read and every entry
 * admitted before the first byte is written, so sizes, names and types are all checked up front;
 * the real bytes are counted again while writing.
 */
export async function extractZipFile(file: string, targetDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const { signal } = options;
  const what = 'Extracting the archive';
  if (signal?.aborted) throw cancelledError(signal, what);
  const limits = resolveLimits(options.limits);
  const guard = new EntryGuard(limits, options.stripComponents ?? 0);
  const pool = new WritePool();
  let zip: yauzl.ZipFile | undefined;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
    if (zip.entryCount > limits.maxEntries) {
      throw new QmError('EARCHIVE', `The zip archive has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`, { path: file });
    }
    const entries: yauzl.Entry[] = [];
    for await (const entry of zip.eachEntry()) entries.push(entry);
    refuseOverlaps(entries);
    const plan: Array<{ raw: yauzl.Entry; entry: AdmittedEntry | undefined }> = [];
    for (const raw of entries) {
      const header = zipHeader(raw);
      if (header.kind === 'symlink') header.linkName = await readSymlinkTarget(zip, raw, header.name);
      plan.push({ raw, entry: guard.admit(header) });
    }

    const writer = await TargetWriter.create(targetDir);
    for (const { raw, entry } of plan) {
      if (signal?.aborted) throw cancelledError(signal, what);
      if (entry === undefined) continue;
      await extractEntry({ zip, guard, writer, pool, signal }, raw, entry);
    }
    await pool.drain();
  } catch (error) {
    pool.stop(error);
    await pool.abort();
    if (signal?.aborted) throw cancelledError(signal, what);
    if (isQmError(error)) throw error;
    // errno codes (ENOENT, EACCES, EISDIR...) are about the file; zlib's Z_* and yauzl's uncoded errors about its bytes.
    if (/^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? '')) throw fsError(error, 'read', file);
    throw new QmError('EARCHIVE', `The zip archive is corrupt: ${(error as Error).message}`, { path: file, cause: error });
  } finally {
    if (zip !== undefined) await closeZip(zip);
  }
  return guard.result();
}

/** Closes the zip and waits for its descriptor to be released (after any read streams end). */
async function closeZip(zip: yauzl.ZipFile): Promise<void> {
  if (!zip.isOpen) return;
  const closed = new Promise((resolve) => {
    zip.once('close', resolve);
    zip.once('error', resolve);
  });
  zip.close();
  await closed;
}

interface ZipExtraction {
  zip: yauzl.ZipFile;
  guard: EntryGuard;
  writer: TargetWriter;
  pool: WritePool;
  signal: AbortSignal | undefined;
}

async function extractEntry({ zip, guard, writer, pool, signal }: ZipExtraction, raw: yauzl.Entry, entry: AdmittedEntry): Promise<void> {
  if (entry.kind === 'directory') return writer.directory(entry);
  if (entry.kind === 'symlink') return writer.symlink(entry, entry.linkTarget ?? '');
  await writer.prepare(entry);
  const data = await zip.openReadStreamPromise(raw);
  const file = pool.open(entry.path, () => writer.open(entry));
  for await (const chunk of data as AsyncIterable<Buffer>) {
    if (signal?.aborted) throw cancelledError(signal, 'Extracting the archive');
    guard.countBytes(entry, chunk.length);
    file.write(chunk);
    await pool.ready();
  }
  guard.checkComplete(entry);
  file.finish();
  await pool.ready();
}

/** A zip symlink's target is its data; read while checking, before anything is written. */
async function readSymlinkTarget(zip: yauzl.ZipFile, raw: yauzl.Entry, name: string): Promise<string> {
  if (raw.uncompressedSize > MAX_SYMLINK_TARGET_BYTES) {
    throw unsafeEntry(name, `symlink target is longer than ${MAX_SYMLINK_TARGET_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of (await zip.openReadStreamPromise(raw)) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function zipHeader(raw: yauzl.Entry): EntryHeader {
  const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, raw.fileNameRaw, raw.extraFields, false);
  const host = raw.versionMadeBy >> 8;
  // Unix mode bits live in the high half of the external attributes (hosts 3: Unix, 19: OS X).
  const mode = host === 3 || host === 19 ? raw.externalFileAttributes >>> 16 : 0;
  const type = mode & S_IFMT;
  const msDosDirectory = (raw.externalFileAttributes & 0x10) !== 0 && mode === 0;
  let kind: EntryKind | { unsupported: string };
  if (SPECIAL_TYPES[type] !== undefined) kind = { unsupported: SPECIAL_TYPES[type] };
  else if (type === 0o120000) kind = 'symlink';
  else if (type === 0o040000 || name.endsWith('/') || msDosDirectory) kind = 'directory';
  else if (type === 0 || type === 0o100000) kind = 'file';
  else kind = { unsupported: `file type 0o${type.toString(8)}` };

  if (kind === 'file' && raw.uncompressedSize > RATIO_CHECK_MIN_BYTES) {
    const ratio = raw.uncompressedSize / Math.max(1, raw.compressedSize);
    if (ratio > MAX_COMPRESSION_RATIO) {
      throw unsafeEntry(name, `compression ratio ${Math.round(ratio)}:1 exceeds ${MAX_COMPRESSION_RATIO}:1 (zip bomb?)`);
    }
  }
  return { name, kind, size: raw.uncompressedSize, mode };
}

/** Entries that share compressed bytes are the "overlapping files" zip bomb; real zips never do. */
function refuseOverlaps(entries: yauzl.Entry[]): void {
  const byOffset = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  let previous: yauzl.Entry | undefined;
  for (const entry of byOffset) {
    const end = previous && previous.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES + previous.compressedSize;
    previous = entry;
    if (end !== undefined && entry.relativeOffsetOfLocalHeader < end) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      throw unsafeEntry(name, 'its data overlaps another entry (zip bomb?)');
    }
  }
}
