import { QmError } from '../errors';
import type { ExtractLimits, ExtractResult } from './types';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink';

/** One archive entry as its header describes it, before any check. */
export interface EntryHeader {
  /** The name stored in the archive. */
  name: string;
  /** What the entry is, or the archive's own name for a type that is never extracted. */
  kind: EntryKind | { unsupported: string };
  /** Declared data size in bytes. */
  size: number;
  mode: number | undefined;
  /** Symlink or hard-link target as stored; a zip symlink's target comes later, from its data. */
  linkName?: string;
}

/** An entry that passed every check, with the relative path it is written to. */
export interface AdmittedEntry {
  readonly name: string;
  readonly kind: EntryKind;
  /** Relative to the target directory, '/'-separated, normalised, stripComponents applied. */
  readonly path: string;
  /** 0o755 or 0o644: the executable bit survives; setuid, setgid, sticky and o+w do not. */
  readonly mode: number;
  /** Declared size of a regular file (0 for the other kinds). */
  readonly size: number;
  /** Symlink: target text to write. Hard link: relative path of the file it links to. */
  linkTarget?: string;
  /** Bytes written so far. */
  written: number;
}

export function unsafeEntry(name: string, rule: string): QmError {
  return new QmError('EARCHIVE', `Refusing archive entry "${name}": ${rule}`, { path: name });
}

const ABSOLUTE = /^(?:\/|[A-Za-z]:)/;

/**
 * Decides, entry by entry and before anything is written, whether an archive may put it on disk,
 * and remembers what it let through so later entries cannot write through an earlier symlink,
 * duplicate a path, or link outside the target. Pure bookkeeping: no I/O.
 */
export class EntryGuard {
  private readonly dirs = new Set<string>();
  private readonly files = new Set<string>();
  private readonly symlinks = new Set<string>();
  private entries = 0;
  private declaredBytes = 0;
  private writtenBytes = 0;
  private readonly counts = { files: 0, dirs: 0, symlinks: 0 };

  constructor(
    private readonly limits: ExtractLimits,
    private readonly stripComponents = 0,
    /** Case-insensitive file systems make `A` and `a` one path; compare keys accordingly. */
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    if (!Number.isSafeInteger(stripComponents) || stripComponents < 0) {
      throw new QmError('EUSAGE', `stripComponents must be a non-negative integer, got ${stripComponents}`);
    }
  }

  /** Checks one entry; undefined when stripComponents leaves nothing of its path (skip it). */
  admit(header: EntryHeader): AdmittedEntry | undefined {
    const { name } = header;
    this.entries++;
    if (this.entries > this.limits.maxEntries) {
      throw unsafeEntry(name, `the archive has more than ${this.limits.maxEntries} entries`);
    }
    if (typeof header.kind !== 'string') {
      throw unsafeEntry(name, `entry type ${header.kind.unsupported} is not supported (only files, directories and links are extracted)`);
    }
    const kind = header.kind;
    const segments = this.splitPath(header.name, 'path', name).slice(this.stripComponents);
    if (segments.length === 0) return undefined;
    const path = segments.join('/');

    const size = kind === 'file' ? header.size : 0;
    if (!Number.isSafeInteger(header.size) || header.size < 0) {
      throw unsafeEntry(name, `declared size ${header.size} is not a valid size`);
    }
    if (size > this.limits.maxEntryBytes) {
      throw unsafeEntry(name, `declared size ${size} bytes exceeds the per-entry limit of ${this.limits.maxEntryBytes} bytes`);
    }
    if (this.declaredBytes + size > this.limits.maxTotalBytes) {
      throw unsafeEntry(name, `declared sizes add up to more than the limit of ${this.limits.maxTotalBytes} bytes`);
    }

    // A known directory's ancestors are known directories too (nothing else may take their paths
    // later), so only an entry in a directory not seen before has its ancestors checked.
    const slash = path.lastIndexOf('/');
    const knownParent = slash < 0 || this.dirs.has(this.key(path.slice(0, slash)));
    const parents = knownParent ? [] : this.parentsOf(segments);
    if (!knownParent) {
      for (const parent of parents) {
        const parentKey = this.key(parent);
        if (this.symlinks.has(parentKey)) {
          throw unsafeEntry(name, `its parent "${parent}" is a symlink from this archive; writing through links is refused`);
        }
        if (this.files.has(parentKey)) throw unsafeEntry(name, `its parent "${parent}" is a file`);
      }
    }
    const pathKey = this.key(path);
    const taken = this.files.has(pathKey) || this.symlinks.has(pathKey) || (kind !== 'directory' && this.dirs.has(pathKey));
    if (taken) throw unsafeEntry(name, `"${path}" appears twice in the archive`);

    const mode = kind === 'directory' || ((header.mode ?? 0) & 0o111) !== 0 ? 0o755 : 0o644;
    const entry: AdmittedEntry = { name, kind, path, mode, size, written: 0 };
    if (kind === 'hardlink') entry.linkTarget = this.hardlinkTarget(entry, header.linkName);
    if (kind === 'symlink' && header.linkName !== undefined) entry.linkTarget = this.symlinkTarget(entry, header.linkName);

    if (!knownParent) for (const parent of parents) this.dirs.add(this.key(parent));
    this.declaredBytes += size;
    if (kind === 'directory') {
      this.dirs.add(pathKey);
      this.counts.dirs++;
    } else if (kind === 'symlink') {
      this.symlinks.add(pathKey);
      this.counts.symlinks++;
    } else {
      this.files.add(pathKey);
      this.counts.files++;
    }
    return entry;
  }

  /**
   * Checks a symlink target and returns the text to write. Only `../`* then names is accepted,
   * with no more `..` than the link's depth: with `..` only before names, every link resolves
   * inside the target even when it passes through other links from the archive.
   */
  symlinkTarget(entry: AdmittedEntry, raw: string): string {
    const what = `symlink target "${raw}"`;
    if (raw === '') throw unsafeEntry(entry.name, 'symlink target is empty');
    if (raw.includes('\0')) throw unsafeEntry(entry.name, `${what} contains a NUL byte`);
    const target = raw.replace(/\\/g, '/');
    if (ABSOLUTE.test(target)) throw unsafeEntry(entry.name, `${what} is absolute`);
    let ups = 0;
    const names: string[] = [];
    for (const segment of target.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment !== '..') {
        names.push(segment);
      } else if (names.length > 0) {
        throw unsafeEntry(entry.name, `${what} has ".." after a name; only leading ".." is accepted`);
      } else {
        ups++;
      }
    }
    if (ups > entry.path.split('/').length - 1) {
      throw unsafeEntry(entry.name, `${what} points outside the target directory`);
    }
    return [...Array<string>(ups).fill('..'), ...names].join('/') || '.';
  }

  /** Counts bytes about to be written for a file; headers can lie, so the real bytes are capped too. */
  countBytes(entry: AdmittedEntry, bytes: number): void {
    entry.written += bytes;
    this.writtenBytes += bytes;
    if (entry.written > entry.size) {
      throw unsafeEntry(entry.name, `it holds more data than its declared size of ${entry.size} bytes`);
    }
    if (this.writtenBytes > this.limits.maxTotalBytes) {
      throw unsafeEntry(entry.name, `extracted data exceeds the limit of ${this.limits.maxTotalBytes} bytes`);
    }
  }

  /** A file's data ended: it must have been exactly as long as declared. */
  checkComplete(entry: AdmittedEntry): void {
    if (entry.written !== entry.size) {
      throw unsafeEntry(entry.name, `it holds ${entry.written} bytes but declares ${entry.size} (truncated archive?)`);
    }
  }

  result(): ExtractResult {
    return { entries: this.entries, bytes: this.writtenBytes, ...this.counts };
  }

  private hardlinkTarget(entry: AdmittedEntry, raw: string | undefined): string {
    if (!raw) throw unsafeEntry(entry.name, 'hard link has no target');
    const segments = this.splitPath(raw, `hard link target "${raw}"`, entry.name).slice(this.stripComponents);
    const target = segments.join('/');
    if (segments.length === 0 || !this.files.has(this.key(target))) {
      throw unsafeEntry(entry.name, `hard link target "${raw}" is not a file extracted earlier from this archive`);
    }
    return target;
  }

  /** 'a', 'a/b', ... for the segments of 'a/b/c': every proper ancestor. */
  private parentsOf(segments: string[]): string[] {
    const parents: string[] = [];
    let parent = '';
    for (let i = 0; i < segments.length - 1; i++) {
      parent = i === 0 ? segments[0]! : `${parent}/${segments[i]!}`;
      parents.push(parent);
    }
    return parents;
  }

  /** Normalises an archive path into segments, refusing absolute paths, NUL and escaping "..". */
  private splitPath(raw: string, what: string, name: string): string[] {
    if (raw.includes('\0')) throw unsafeEntry(name, `${what} contains a NUL byte`);
    // Backslash is a separator on Windows, so it is one everywhere: one archive, one meaning.
    const normalised = raw.replace(/\\/g, '/');
    if (ABSOLUTE.test(normalised)) throw unsafeEntry(name, `${what} is absolute`);
    const segments: string[] = [];
    for (const segment of normalised.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (segments.pop() === undefined) throw unsafeEntry(name, `${what} escapes the target directory through ".."`);
        continue;
      }
      if (this.platform === 'win32' && segment.includes(':')) {
        throw unsafeEntry(name, `${what} contains ":", which Windows reads as a drive or an alternate data stream`);
      }
      segments.push(segment);
    }
    return segments;
  }

  private key(path: string): string {
    return this.platform === 'win32' || this.platform === 'darwin' ? path.normalize('NFC').toLowerCase() : path;
  }
}
