import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';
import { DEFAULT_EXTRACT_LIMITS, extractArchiveFile, extractTarStream } from '../../src/core/archive';
import type { ExtractOptions } from '../../src/core/archive';
import { EntryGuard } from '../../src/core/archive/entry-guard';
import { isQmError } from '../../src/core/errors';
import { noDescriptorList, openDescriptors } from '../helpers/open-descriptors';

let work: string;
let n = 0;

before(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'qm-archive-safety-'));
});

after(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A fresh parent directory; extraction goes to `<parent>/target` and nothing else may appear. */
async function freshTarget(): Promise<{ parent: string; target: string }> {
  const parent = path.join(work, `out-${++n}`);
  await fs.mkdir(parent);
  return { parent, target: path.join(parent, 'target') };
}

async function assertNothingOutside(parent: string): Promise<void> {
  const names = await fs.readdir(parent);
  assert.ok(names.every((name) => name === 'target'), `written outside the target: ${names.join(', ')}`);
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

async function rejectsUnsafe(promise: Promise<unknown>, entry: string, rule: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isQmError(error, 'EARCHIVE'), `expected EARCHIVE, got ${String(error)}`);
    assert.equal(error.details.path, entry, error.message);
    assert.match(error.message, rule);
    assert.ok(error.message.includes(entry), 'the message names the entry');
    return true;
  });
}

/** Files under the test directory and pipes (to xz) this process has open; off Linux the test says it cannot tell. */
function openFds(t: TestContext): string[] {
  return openDescriptors(t, (target) => target.startsWith(work) || target.startsWith('pipe:'));
}

// ---------------------------------------------------------------------------------------------
// Hand-made tar: node-tar's Header writes exactly the headers we ask for, hostile ones included.

interface RawTarEntry {
  path: string;
  type?: HeaderData['type'];
  data?: string | Buffer;
  /** Declared size when it should differ from the data. */
  size?: number;
  mode?: number;
  linkpath?: string;
}

function rawTar(entries: RawTarEntry[], { endMarker = true } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    const header = Buffer.alloc(512);
    new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      size: entry.size ?? data.length,
      mode: entry.mode ?? 0o644,
      linkpath: entry.linkpath,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    }).encode(header, 0);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (endMarker) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const xz = (data: Buffer): Buffer => execFileSync('xz', ['--compress', '--stdout'], { input: data, maxBuffer: 64 * 1024 * 1024 });

type TarVariant = readonly [label: string, kind: 'tar.gz' | 'tar.xz', compress: (tar: Buffer) => Buffer, options: ExtractOptions];
const TAR_VARIANTS: readonly TarVariant[] = [
  ['tar.gz', 'tar.gz', gzipSync, {}],
  ['tar.xz', 'tar.xz', xz, {}],
];

function extractTar(variant: TarVariant, tar: Buffer, target: string, options: ExtractOptions = {}): Promise<unknown> {
  const [, kind, compress, base] = variant;
  return extractTarStream(Readable.from([compress(tar)]), kind, target, { ...base, ...options });
}

// ---------------------------------------------------------------------------------------------
// Hand-made zip: local headers, central directory and end record, with any name, mode or size.

interface RawZipEntry {
  name: string | Buffer;
  data?: string | Buffer;
  /** Unix mode including the file type, stored in the external attributes. */
  mode?: number;
  deflate?: boolean;
  /** Central-directory entry that points at the same local header as entry number `sameAs`. */
  sameAs?: number;
}

function rawZip(entries: RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = Buffer.from(entry.data ?? '');
    const stored = entry.deflate ? deflateRawSync(data, { level: 9 }) : data;
    const crc = crc32(data);
    const method = entry.deflate ? 8 : 0;
    const localOffset = entry.sameAs === undefined ? offset : offsets[entry.sameAs]!;
    offsets.push(localOffset);
    if (entry.sameAs === undefined) {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0x800, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(stored.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      locals.push(local, name, stored);
      offset += 30 + name.length + stored.length;
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(localOffset, 42);
    centrals.push(central, name);
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

async function extractZip(zip: Buffer, target: string, options: ExtractOptions = {}): Promise<unknown> {
  const file = path.join(work, `archive-${++n}.zip`);
  await fs.writeFile(file, zip);
  return extractArchiveFile(file, 'zip', target, options);
}

// ---------------------------------------------------------------------------------------------

interface Case {
  title: string;
  /** The entry the error must name. */
  entry: string;
  rule: RegExp;
  /** Paths (relative to the target) that must not exist afterwards. */
  absent?: string[];
  options?: ExtractOptions;
}

interface TarCase extends Case {
  entries: (parent: string) => RawTarEntry[];
}

const file = (p: string, data: string | Buffer = 'x'): RawTarEntry => ({ path: p, data });
const symlink = (p: string, linkpath: string): RawTarEntry => ({ path: p, type: 'SymbolicLink', linkpath });
const hardlink = (p: string, linkpath: string): RawTarEntry => ({ path: p, type: 'Link', linkpath });
const dir = (p: string): RawTarEntry => ({ path: p, type: 'Directory', mode: 0o755 });

const TAR_CASES: TarCase[] = [
  { title: '"../evil"', entries: () => [file('../evil')], entry: '../evil', rule: /escapes the target/ },
  { title: '"pkg/../../evil"', entries: () => [file('pkg/../../evil')], entry: 'pkg/../../evil', rule: /escapes the target/ },
  { title: '"..\\evil" (backslash)', entries: () => [file('..\\evil')], entry: '..\\evil', rule: /escapes the target/ },
  { title: 'an absolute path into the parent', entries: (parent) => [file(`${parent}/abs-evil`)], entry: '<parent>/abs-evil', rule: /is absolute/ },
  { title: '"C:\\evil"', entries: () => [file('C:\\evil')], entry: 'C:\\evil', rule: /is absolute/ },
  { title: '"\\\\server\\share\\evil"', entries: () => [file('\\\\server\\share\\evil')], entry: '\\\\server\\share\\evil', rule: /is absolute/ },
  { title: 'a symlink to /etc', entries: () => [symlink('etc', '/etc'), file('etc/evil')], entry: 'etc', rule: /is absolute/, absent: ['etc'] },
  { title: 'a symlink to "../outside"', entries: () => [symlink('out', '../outside')], entry: 'out', rule: /points outside/, absent: ['out'] },
  {
    title: 'symlink "a -> .." then "a/evil"',
    entries: () => [symlink('a', '..'), file('a/evil')],
    entry: 'a',
    rule: /points outside/,
    absent: ['a'],
  },
  {
    title: 'symlink "d/a -> .." (inside) then "d/a/evil" written through it',
    entries: () => [dir('d/'), symlink('d/a', '..'), file('d/a/evil')],
    entry: 'd/a/evil',
    rule: /parent "d\/a" is a symlink/,
    absent: ['evil'],
  },
  {
    title: 'a chain of symlinks that escapes only when followed ("l2 -> d/l1/../..")',
    entries: () => [symlink('d/l1', '..'), symlink('l2', 'd/l1/../..')],
    entry: 'l2',
    rule: /"\.\." after a name/,
    absent: ['l2'],
  },
  { title: 'a hard link to "../outside"', entries: () => [hardlink('hl', '../outside')], entry: 'hl', rule: /escapes the target/, absent: ['hl'] },
  { title: 'a hard link to /etc/passwd', entries: () => [hardlink('hl', '/etc/passwd')], entry: 'hl', rule: /is absolute/, absent: ['hl'] },
  { title: 'a hard link to a file not in the archive', entries: () => [hardlink('hl', 'missing')], entry: 'hl', rule: /not a file extracted earlier/ },
  {
    title: 'a hard link to a symlink',
    entries: () => [symlink('s', 'f'), hardlink('hl', 's')],
    entry: 'hl',
    rule: /not a file extracted earlier/,
    absent: ['hl'],
  },
  { title: 'a hard link to a directory', entries: () => [dir('d/'), hardlink('hl', 'd')], entry: 'hl', rule: /not a file extracted earlier/ },
  { title: 'a character device', entries: () => [{ path: 'null', type: 'CharacterDevice' }], entry: 'null', rule: /CharacterDevice is not supported/, absent: ['null'] },
  { title: 'a block device', entries: () => [{ path: 'sda', type: 'BlockDevice' }], entry: 'sda', rule: /BlockDevice is not supported/, absent: ['sda'] },
  { title: 'a FIFO', entries: () => [{ path: 'fifo', type: 'FIFO' }], entry: 'fifo', rule: /FIFO is not supported/, absent: ['fifo'] },
  { title: 'a type node-tar does not know (sparse file)', entries: () => [{ path: 'sparse', type: 'SparseFile' }], entry: 'sparse', rule: /SparseFile is not supported/, absent: ['sparse'] },
  {
    title: 'a 2 GiB declared size over the per-entry limit',
    entries: () => [{ path: 'big', size: 2 * 1024 ** 3, data: 'tiny' }],
    entry: 'big',
    rule: /declared size 2147483648 bytes exceeds/,
    options: { limits: { maxEntryBytes: 1024 ** 3 } },
    absent: ['big'],
  },
  {
    title: 'declared sizes adding up past the total limit',
    entries: () => [file('a', 'x'.repeat(600)), file('b', 'y'.repeat(600))],
    entry: 'b',
    rule: /add up to more than/,
    options: { limits: { maxTotalBytes: 1000 } },
    absent: ['b'],
  },
  { title: 'too many entries', entries: () => [file('a'), file('b'), file('c')], entry: 'c', rule: /more than 2 entries/, options: { limits: { maxEntries: 2 } }, absent: ['c'] },
  { title: 'the same file twice', entries: () => [file('a'), file('a', 'second')], entry: 'a', rule: /appears twice/ },
  { title: 'a file where a directory was', entries: () => [dir('a/'), file('a')], entry: 'a', rule: /appears twice/ },
  { title: 'a file inside a file', entries: () => [file('a'), file('a/b')], entry: 'a/b', rule: /parent "a" is a file/ },
];

describe('hostile tar archives are refused with EARCHIVE before anything is written for the entry', () => {
  for (const variant of TAR_VARIANTS) {
    for (const c of TAR_CASES) {
      it(`${variant[0]}: ${c.title}`, async (t) => {
        const { parent, target } = await freshTarget();
        const entry = c.entry.replace('<parent>', parent);
        const fds = openFds(t);
        await rejectsUnsafe(extractTar(variant, rawTar(c.entries(parent)), target, c.options), entry, c.rule);
        assert.deepEqual(openFds(t), fds, 'no descriptor left open');
        await assertNothingOutside(parent);
        for (const absent of c.absent ?? []) assert.equal(await exists(path.join(target, absent)), false, `${absent} was written`);
      });
    }
  }

  it('a 2 GiB declared size within the limits fails on the missing data and writes only what is there', async () => {
    const { parent, target } = await freshTarget();
    const tar = rawTar([{ path: 'big', size: 2 * 1024 ** 3, data: 'tiny' }]);
    await assert.rejects(extractTar(TAR_VARIANTS[0]!, tar, target), (error) => isQmError(error, 'EARCHIVE'));
    assert.ok((await fs.stat(path.join(target, 'big')).catch(() => ({ size: 0 }))).size <= tar.length);
    await assertNothingOutside(parent);
  });

  it('a header with a bad checksum is an error, not a skipped entry', async () => {
    const tar = rawTar([file('a'), file('b')]);
    tar[1024 + 10] = tar[1024 + 10]! ^ 0xff; // inside the second header's name field
    await assert.rejects(extractTar(TAR_VARIANTS[0]!, tar, (await freshTarget()).target), (error) => isQmError(error, 'EARCHIVE') && /checksum/.test(error.message));
  });

  it('much more than padding after the end marker is an error; padding is fine', async () => {
    const padded = Buffer.concat([rawTar([file('a')]), Buffer.alloc(9 * 1024)]);
    await extractTar(TAR_VARIANTS[0]!, padded, (await freshTarget()).target);
    const trailing = Buffer.concat([rawTar([file('a')]), Buffer.alloc(2 * 1024 * 1024, 1)]);
    await assert.rejects(extractTar(TAR_VARIANTS[0]!, trailing, (await freshTarget()).target), (error) => isQmError(error, 'EARCHIVE') && /after its end marker/.test(error.message));
  });

  it('a failure while big files are still being written leaves no descriptor open', { skip: noDescriptorList }, async (t) => {
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    const tar = rawTar([file('one.bin', big), file('two.bin', big), file('../evil')]);
    const before = openFds(t);
    await rejectsUnsafe(extractTar(TAR_VARIANTS[0]!, tar, (await freshTarget()).target), '../evil', /escapes/);
    assert.deepEqual(openFds(t), before);
  });

  it('what is allowed: links that stay inside, and modes without setuid, setgid, sticky or o+w', async () => {
    const { target } = await freshTarget();
    const tar = rawTar([
      { path: 'bin/tool', data: '#!/bin/sh\n', mode: 0o4755 },
      { path: 'bin/group-tool', data: '#!/bin/sh\n', mode: 0o2775 },
      { path: 'lib/data', data: 'data', mode: 0o666 },
      { path: 'tmp/', type: 'Directory', mode: 0o1777 },
      symlink('bin/data-link', '../lib/data'),
      symlink('bin/self', '.'),
      symlink('a/b/c/top', '../../../lib'),
      symlink('dangling', 'not/there'),
      hardlink('lib/data-hard', 'lib/data'),
      file('./dot/./file', 'dot'),
      file('x/../y', 'normalised'),
    ]);
    const result = await extractTar(TAR_VARIANTS[0]!, tar, target);
    const umask = process.umask();
    const mode = async (p: string): Promise<number> => (await fs.lstat(path.join(target, p))).mode & 0o7777;
    assert.equal(await mode('bin/tool'), 0o755 & ~umask);
    assert.equal(await mode('bin/group-tool'), 0o755 & ~umask);
    assert.equal(await mode('lib/data'), 0o644 & ~umask);
    assert.equal(await mode('tmp'), 0o755 & ~umask);
    assert.equal(await fs.readFile(path.join(target, 'bin/data-link'), 'utf8'), 'data');
    assert.equal(await fs.readlink(path.join(target, 'a/b/c/top')), '../../../lib');
    assert.equal((await fs.stat(path.join(target, 'lib/data-hard'))).ino, (await fs.stat(path.join(target, 'lib/data'))).ino);
    assert.equal(await fs.readFile(path.join(target, 'dot/file'), 'utf8'), 'dot');
    assert.equal(await fs.readFile(path.join(target, 'y'), 'utf8'), 'normalised');
    assert.deepEqual(result, { entries: 11, bytes: 10 + 10 + 4 + 3 + 10, files: 6, dirs: 1, symlinks: 4 });
  });
});

// ---------------------------------------------------------------------------------------------

interface ZipCase extends Case {
  entries: (parent: string) => RawZipEntry[];
}

const S_IFLNK = 0o120000;
const zipFile = (name: string | Buffer, data = 'x'): RawZipEntry => ({ name, data });
const zipLink = (name: string, target: string): RawZipEntry => ({ name, data: target, mode: S_IFLNK | 0o777 });

const ZIP_CASES: ZipCase[] = [
  { title: '"../evil"', entries: () => [zipFile('../evil')], entry: '../evil', rule: /escapes the target/ },
  { title: '"..\\evil" (backslash)', entries: () => [zipFile('..\\evil')], entry: '../evil', rule: /escapes the target/ },
  { title: 'an absolute path into the parent', entries: (parent) => [zipFile(`${parent}/abs-evil`)], entry: '<parent>/abs-evil', rule: /is absolute/ },
  { title: '"C:\\evil"', entries: () => [zipFile('C:\\evil')], entry: 'C:/evil', rule: /is absolute/ },
  { title: 'a NUL byte in the name', entries: () => [zipFile(Buffer.from('a\0b'))], entry: 'a\0b', rule: /NUL byte/ },
  { title: 'a symlink to /etc', entries: () => [zipLink('etc', '/etc')], entry: 'etc', rule: /is absolute/, absent: ['etc'] },
  { title: 'symlink "a -> .." then "a/evil"', entries: () => [zipLink('a', '..'), zipFile('a/evil')], entry: 'a', rule: /points outside/, absent: ['a'] },
  {
    title: 'symlink "d/a -> .." (inside) then "d/a/evil" written through it',
    entries: () => [zipLink('d/a', '..'), zipFile('d/a/evil')],
    entry: 'd/a/evil',
    rule: /parent "d\/a" is a symlink/,
    absent: ['d', 'evil'],
  },
  { title: 'a FIFO', entries: () => [{ name: 'fifo', mode: 0o010644 }], entry: 'fifo', rule: /FIFO is not supported/ },
  { title: 'a character device', entries: () => [{ name: 'null', mode: 0o020666 }], entry: 'null', rule: /CharacterDevice is not supported/ },
  {
    title: 'a zip bomb entry (20 MiB of zeros, ratio > 1000)',
    entries: () => [{ name: 'bomb', data: Buffer.alloc(20 * 1024 * 1024), deflate: true }],
    entry: 'bomb',
    rule: /compression ratio/,
  },
  {
    title: 'entries sharing their compressed data (overlapping zip bomb)',
    entries: () => [zipFile('one', 'x'.repeat(100)), { name: 'two', data: 'x'.repeat(100), sameAs: 0 }],
    entry: 'two',
    rule: /overlaps another entry/,
  },
  { title: 'a size over the per-entry limit', entries: () => [zipFile('big', 'x'.repeat(2000))], entry: 'big', rule: /exceeds the per-entry limit/, options: { limits: { maxEntryBytes: 1000 } } },
  { title: 'the same name twice', entries: () => [zipFile('a'), zipFile('a', 'y')], entry: 'a', rule: /appears twice/ },
];

describe('hostile zip archives are refused with EARCHIVE before anything is written', () => {
  for (const c of ZIP_CASES) {
    it(c.title, async (t) => {
      const { parent, target } = await freshTarget();
      const entry = c.entry.replace('<parent>', parent);
      // A good first entry: zip entries are all checked before the first byte is written.
      const entries = [zipFile('first.txt'), ...c.entries(parent)].map((e) => (e.sameAs === undefined ? e : { ...e, sameAs: e.sameAs + 1 }));
      const fds = openFds(t);
      await rejectsUnsafe(extractZip(rawZip(entries), target, c.options), entry, c.rule);
      assert.deepEqual(openFds(t), fds, 'no descriptor left open');
      await assertNothingOutside(parent);
      assert.equal(await exists(target), false, 'nothing at all was written');
    });
  }

  it('more entries than the limit, from the end record alone', async () => {
    const { parent, target } = await freshTarget();
    const zip = rawZip([zipFile('a'), zipFile('b'), zipFile('c')]);
    await assert.rejects(extractZip(zip, target, { limits: { maxEntries: 2 } }), (error) => isQmError(error, 'EARCHIVE') && /more than the limit of 2/.test(error.message));
    await assertNothingOutside(parent);
  });

  it('a zip from the hand-made builder extracts when it is benign', async () => {
    const { target } = await freshTarget();
    const result = await extractZip(rawZip([zipFile('bin/tool', '#!/bin/sh\n'), zipLink('bin/link', 'tool'), { name: 'empty/', mode: 0o040755 }]), target);
    assert.equal(await fs.readFile(path.join(target, 'bin/link'), 'utf8'), '#!/bin/sh\n');
    assert.deepEqual(result, { entries: 3, bytes: 10, files: 1, dirs: 1, symlinks: 1 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('EntryGuard on other platforms', () => {
  const limits = { ...DEFAULT_EXTRACT_LIMITS };
  const header = (name: string, kind: 'file' | 'symlink' | 'directory' = 'file', linkName?: string) => ({ name, kind, size: 0, mode: 0o644, linkName });

  it('Windows: ":" (drive-relative paths, alternate data streams) is refused', () => {
    const guard = new EntryGuard(limits, 0, 'win32');
    assert.throws(() => guard.admit(header('file.txt:stream')), (error) => isQmError(error, 'EARCHIVE') && /alternate data stream/.test(error.message));
    assert.throws(() => guard.admit(header('C:relative')), (error) => isQmError(error, 'EARCHIVE'));
    assert.ok(new EntryGuard(limits, 0, 'linux').admit(header('file.txt:stream')));
  });

  it('macOS and Windows: a symlink cannot be written through under another letter case', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const guard = new EntryGuard(limits, 0, platform);
      guard.admit(header('Sub/', 'directory'));
      guard.admit(header('Sub/Link', 'symlink', '..'));
      assert.throws(() => guard.admit(header('sub/link/evil')), (error) => isQmError(error, 'EARCHIVE') && /is a symlink/.test(error.message));
      assert.throws(() => guard.admit(header('SUB/LINK', 'file')), (error) => isQmError(error, 'EARCHIVE') && /twice/.test(error.message));
    }
  });

  it('symlink targets: only leading "..", never above the target', () => {
    const guard = new EntryGuard(limits);
    const link = guard.admit(header('a/b/link', 'symlink', 'x'))!;
    assert.equal(guard.symlinkTarget(link, '../../top/./file'), '../../top/file');
    assert.equal(guard.symlinkTarget(link, '.'), '.');
    assert.equal(guard.symlinkTarget(link, 'x\\y'), 'x/y');
    for (const bad of ['../../../x', '/abs', 'C:\\abs', '\\\\server\\x', 'x/../..', 'x/../y', '', 'a\0b']) {
      assert.throws(() => guard.symlinkTarget(link, bad), (error) => isQmError(error, 'EARCHIVE'), bad);
    }
  });
});
