import { QmError } from '../errors';
import type { EntryHeader, EntryKind } from './entry-guard';

const BLOCK = 512;
/** A pax header or GNU long name larger than this is refused (node-tar's limit too): no real archive needs more. */
export const MAX_META_BYTES = 1024 * 1024;

/** Type flags by the names node-tar gives them, for messages. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  '0': 'File', '': 'OldFile', '1': 'Link', '2': 'SymbolicLink', '3': 'CharacterDevice', '4': 'BlockDevice',
  '5': 'Directory', '6': 'FIFO', '7': 'ContiguousFile', g: 'GlobalExtendedHeader', x: 'ExtendedHeader',
  A: 'SolarisACL', D: 'GNUDumpDir', I: 'Inode', K: 'NextFileHasLongLinkpath', L: 'NextFileHasLongPath',
  M: 'ContinuationFile', N: 'OldGnuLongPath', S: 'SparseFile', V: 'TapeVolumeHeader', X: 'OldExtendedHeader',
};
const KINDS: Readonly<Record<string, EntryKind>> = { '0': 'file', '': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };
/** Headers that describe the next entry (or all later ones: 'g') instead of being one. */
const META = new Set(['x', 'X', 'g', 'L', 'N', 'K']);

/** What pax headers and GNU long names may say about an entry. */
interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** Receives a tar stream's entries in order: `entry`, then exactly its declared size in `onData` chunks, then `onEntryEnd`. */
export interface TarEntrySink {
  onEntry(header: EntryHeader): void;
  /** A slice of the input (not copied: the input's buffers must not be reused). */
  onData(chunk: Buffer): void;
  onEntryEnd(): void;
}

/**
 * Reads a tar stream (ustar, pax and GNU long names) and hands its entries to a sink: one pass,
 * no copies of data, no object per entry beyond its header. Checks every header's checksum and
 * shape and throws EARCHIVE on anything malformed; whether an entry may be written is the
 * EntryGuard's call, not this parser's.
 */
export class TarParser {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Body bytes of the current entry (or pax/long-name record) still to come. */
  private bodyLeft = 0;
  /** Padding after the current body, skipped once the body is done. */
  private paddingAfter = 0;
  private paddingLeft = 0;
  private meta: { flag: string; parts: Buffer[] } | undefined;
  private next: Overrides = {};
  private readonly global: Overrides = {};
  /** The last block read where a header belongs was zeros: the archive may end here. */
  endMarker = false;
  /** Two zero blocks: the archive has ended, and what follows is not tar. */
  ended = false;

  constructor(private readonly sink: TarEntrySink) {}

  /** Consumes `chunk`; returns how many of its bytes come after the archive's end. Throws on malformed input. */
  write(chunk: Buffer): number {
    const length = chunk.length;
    let at = 0;
    while (at < length) {
      if (this.ended) return length - at;
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, length - at);
        const part = chunk.subarray(at, at + take);
        if (this.meta) this.meta.parts.push(part);
        else this.sink.onData(part);
        this.bodyLeft -= take;
        at += take;
        if (this.bodyLeft === 0) this.bodyDone();
      } else if (this.paddingLeft > 0) {
        const skip = Math.min(this.paddingLeft, length - at);
        this.paddingLeft -= skip;
        at += skip;
      } else if (this.headerFill === 0 && length - at >= BLOCK) {
        this.readHeader(chunk.subarray(at, at + BLOCK));
        at += BLOCK;
      } else {
        const take = Math.min(BLOCK - this.headerFill, length - at);
        chunk.copy(this.header, this.headerFill, at, at + take);
        this.headerFill += take;
        at += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader(this.header);
        }
      }
    }
    return 0;
  }

  /** The input ended: throws unless it ended between entries. */
  end(): void {
    if (this.ended) return;
    if (this.headerFill > 0 || this.bodyLeft > 0 || this.paddingLeft > 0 || this.meta !== undefined) {
      throw malformed('it is truncated inside an entry');
    }
  }

  private readHeader(block: Buffer): void {
    if (isZeroBlock(block)) {
      if (this.endMarker) this.ended = true;
      this.endMarker = true;
      return;
    }
    this.endMarker = false;
    if (checksum(block) !== readNumber(block, 148, 8)) throw malformed('checksum failure');
    const flag = block[156] === 0 ? '' : String.fromCharCode(block[156]!);
    const type = TYPE_NAMES[flag] ?? flag;
    const declared = readNumber(block, 124, 12);
    if (declared === undefined) throw malformed(`an entry of type ${type} has no valid size`);
    if (META.has(flag)) {
      if (declared > MAX_META_BYTES) throw new QmError('EARCHIVE', `The tar archive has a ${type} header larger than ${MAX_META_BYTES} bytes`);
      this.meta = { flag, parts: [] };
      this.startBody(declared);
      return;
    }

    let path = readString(block, 0, 100);
    // POSIX ustar: the leading directories of a long name are in the prefix field.
    if (block.toString('latin1', 257, 265) === 'ustar\u000000') {
      const prefix = readString(block, 345, 155);
      if (prefix !== '') path = `${prefix}/${path}`;
    }
    let linkpath = readString(block, 157, 100);
    let size = declared;
    // A global pax header's path and linkpath are not any one entry's (node-tar ignores them too).
    if (this.global.size !== undefined) size = this.global.size;
    const next = this.next;
    this.next = {};
    if (next.path !== undefined) path = next.path;
    if (next.linkpath !== undefined) linkpath = next.linkpath;
    if (next.size !== undefined) size = next.size;

    const link = flag === '1' || flag === '2';
    if (path === '') throw malformed('an entry has no path');
    if (link && linkpath === '') throw malformed(`${path}: a link without a target`);
    if (!link && linkpath !== '') throw malformed(`${path}: a ${type} entry with a link target`);
    this.sink.onEntry({
      name: path,
      kind: KINDS[flag] ?? { unsupported: type },
      size,
      mode: readNumber(block, 100, 8),
      ...(linkpath !== '' ? { linkName: linkpath } : {}),
    });
    this.startBody(size);
  }

  private startBody(size: number): void {
    this.paddingAfter = (BLOCK - (size % BLOCK)) % BLOCK;
    this.bodyLeft = size;
    if (size === 0) this.bodyDone();
  }

  private bodyDone(): void {
    this.paddingLeft = this.paddingAfter;
    const meta = this.meta;
    if (meta === undefined) {
      this.sink.onEntryEnd();
      return;
    }
    this.meta = undefined;
    const body = meta.parts.length === 1 ? meta.parts[0]! : Buffer.concat(meta.parts);
    if (meta.flag === 'L' || meta.flag === 'N') this.next.path = readString(body, 0, body.length);
    else if (meta.flag === 'K') this.next.linkpath = readString(body, 0, body.length);
    else parsePax(body, meta.flag === 'g' ? this.global : this.next);
  }
}

/**
 * pax records, `<length> <key>=<value>\n` each: path, linkpath and size are taken, the rest
 * (times, owners, charset) ignored. A record that does not parse is an error.
 */
function parsePax(body: Buffer, into: Overrides): void {
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break; // NUL padding after the last record
    const space = body.indexOf(0x20, at);
    const digits = space < 0 ? '' : body.toString('latin1', at, space);
    const length = /^[1-9][0-9]*$/.test(digits) ? Number(digits) : NaN;
    if (!(length <= body.length - at) || body[at + length - 1] !== 0x0a) throw malformed('a pax header record is malformed');
    const record = body.toString('utf8', space + 1, at + length - 1);
    const equals = record.indexOf('=');
    if (equals <= 0) throw malformed('a pax header record has no key');
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'path') into.path = value;
    else if (key === 'linkpath') into.linkpath = value;
    else if (key === 'size') {
      if (!/^[0-9]+$/.test(value)) throw malformed(`a pax header gives size "${value}"`);
      into.size = Number(value);
    }
    at += length;
  }
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The header's checksum as tar computes it: every byte summed, the checksum field counted as spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  return sum;
}

/** A NUL-terminated UTF-8 field. */
function readString(block: Buffer, offset: number, length: number): string {
  const nul = block.indexOf(0, offset);
  const end = nul < 0 || nul > offset + length ? offset + length : nul;
  return block.toString('utf8', offset, end);
}

/** An octal field (spaces and NULs around it; none at all is 0), or GNU base-256 when its first byte has the top bit set; undefined if neither. */
function readNumber(block: Buffer, offset: number, length: number): number | undefined {
  const first = block[offset]!;
  if (first & 0x80) {
    if (first === 0xff) return undefined; // negative
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const end = offset + length;
  let i = offset;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let value = 0;
  for (; i < end; i++) {
    const byte = block[i]!;
    if (byte < 0x30 || byte > 0x37) break;
    value = value * 8 + (byte - 0x30);
  }
  for (; i < end; i++) if (block[i] !== 0x20 && block[i] !== 0) return undefined;
  return value;
}

function malformed(why: string): QmError {
  return new QmError('EARCHIVE', `The tar archive is malformed: ${why}`);
}
