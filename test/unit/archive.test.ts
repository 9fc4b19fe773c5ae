import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { archiveKindOf, extractArchiveFile, extractTarStream } from '../../src/core/archive';
import type { ExtractOptions } from '../../src/core/archive';
import { isQmError } from '../../src/core/errors';
import { openDescriptors } from '../helpers/open-descriptors';

const umask = process.umask();
const EXEC = 0o755 & ~umask;
const PLAIN = 0o644 & ~umask;
const DATA = randomBytes(300 * 1024);

let work: string;
let n = 0;

/** A fresh, empty parent directory; extraction goes to `<parent>/target`. */
async function freshTarget(): Promise<{ parent: string; target: string }> {
  const parent = path.join(work, `out-${++n}`);
  await fs.mkdir(parent);
  return { parent, target: path.join(parent, 'target') };
}

/** Files under the test directory and pipes (to xz) this process has open; off Linux the test says it cannot tell. */
function openFds(t: TestContext): string[] {
  return openDescriptors(t, (target) => target.startsWith(work) || target.startsWith('pipe:'));
}

/**
 * pkg/bin/tool          0o4755 (setuid must go, exec bit must stay)
 * pkg/bin/tool-link  -> ../lib/tool.js
 * pkg/lib/tool.js       0o666 (world-writable must go)
 * pkg/lib/tool-hard.js  hard link to tool.js
 * pkg/lib/data.bin      300 KiB of random bytes
 * pkg/empty/
 */
async function makeTree(root: string): Promise<void> {
  const pkg = path.join(root, 'pkg');
  await fs.mkdir(path.join(pkg, 'bin'), { recursive: true });
  await fs.mkdir(path.join(pkg, 'lib'));
  await fs.mkdir(path.join(pkg, 'empty'));
  await fs.writeFile(path.join(pkg, 'bin/tool'), '#!/bin/sh\necho tool\n');
  await fs.chmod(path.join(pkg, 'bin/tool'), 0o4755);
  await fs.writeFile(path.join(pkg, 'lib/tool.js'), 'console.log("tool")\n');
  await fs.chmod(path.join(pkg, 'lib/tool.js'), 0o666);
  await fs.link(path.join(pkg, 'lib/tool.js'), path.join(pkg, 'lib/tool-hard.js'));
  await fs.writeFile(path.join(pkg, 'lib/data.bin'), DATA);
  await fs.symlink('../lib/tool.js', path.join(pkg, 'bin/tool-link'));
}

async function assertTree(root: string, { hardlink = true } = {}): Promise<void> {
  const mode = async (p: string): Promise<number> => (await fs.lstat(path.join(root, p))).mode & 0o7777;
  assert.equal(await fs.readFile(path.join(root, 'bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
  assert.equal(await mode('bin/tool'), EXEC, 'exec bit kept, setuid dropped');
  assert.equal(await mode('lib/tool.js'), PLAIN, 'world-writable bit dropped');
  assert.equal(await mode('empty'), EXEC);
  assert.deepEqual(await fs.readFile(path.join(root, 'lib/data.bin')), DATA);
  assert.equal(await fs.readlink(path.join(root, 'bin/tool-link')), '../lib/tool.js');
  assert.equal(await fs.readFile(path.join(root, 'bin/tool-link'), 'utf8'), 'console.log("tool")\n');
  assert.deepEqual(await fs.readdir(path.join(root, 'empty')), []);
  if (hardlink) {
    const [a, b] = await Promise.all([fs.stat(path.join(root, 'lib/tool.js')), fs.stat(path.join(root, 'lib/tool-hard.js'))]);
    assert.equal(a.ino, b.ino, 'hard link shares the inode');
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isQmError(error), `expected a QmError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Resolves once `file` exists, waiting on file-system events rather than a clock. */
async function waitForFile(file: string): Promise<void> {
  const dir = path.dirname(file);
  if (!existsSync(dir)) await waitForFile(dir);
  // fs.watch (not fs.promises.watch, which starts lazily) watches before the existence check.
  await new Promise<void>((resolve, reject) => {
    const watcher = watch(dir, () => {
      if (!existsSync(file)) return;
      watcher.close();
      resolve();
    });
    watcher.on('error', (error) => {
      watcher.close();
      reject(error);
    });
    if (existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}

let tarFile: string;
let tgzFile: string;
let txzFile: string;
let zipFile: string;

before(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'qm-archive-'));
  const src = path.join(work, 'src');
  await makeTree(src);
  tarFile = path.join(work, 'pkg.tar');
  // GNU tar, not tar.c: node-tar 7.5's Pack misbehaves on hard links (isaacs/node-tar#460).
  execFileSync('tar', ['-cf', tarFile, '-C', src, 'pkg']);
  tgzFile = path.join(work, 'pkg.tar.gz');
  await fs.writeFile(tgzFile, gzipSync(await fs.readFile(tarFile)));
  txzFile = path.join(work, 'pkg.tar.xz');
  await fs.writeFile(txzFile, execFileSync('xz', ['--compress', '--stdout', tarFile], { maxBuffer: 64 * 1024 * 1024 }));
  zipFile = path.join(work, 'pkg.zip');
  execFileSync('zip', ['-q', '-r', '-y', zipFile, 'pkg'], { cwd: src });
});

after(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('archiveKindOf', () => {
  it('recognises the supported suffixes in names and URLs', () => {
    assert.equal(archiveKindOf('node-v20.0.0-linux-x64.tar.gz'), 'tar.gz');
    assert.equal(archiveKindOf('x.TGZ'), 'tar.gz');
    assert.equal(archiveKindOf('/tmp/node-v20.0.0-linux-x64.tar.xz'), 'tar.xz');
    assert.equal(archiveKindOf('x.txz'), 'tar.xz');
    assert.equal(archiveKindOf('C:\\dl\\go1.22.windows-amd64.zip'), 'zip');
    assert.equal(archiveKindOf('https://example.com/dist/zig-0.13.tar.xz?sig=abc#frag'), 'tar.xz');
    assert.equal(archiveKindOf('https://example.com/dist/file.zip/'), undefined);
    assert.equal(archiveKindOf('x.tar'), undefined);
    assert.equal(archiveKindOf('x.gz'), undefined);
    assert.equal(archiveKindOf('x.tar.bz2'), undefined);
  });
});

describe('extracting good archives', () => {
  it('tar.gz: contents, modes, symlinks and hard links', async () => {
    const { target } = await freshTarget();
    const result = await extractArchiveFile(tgzFile, 'tar.gz', target);
    await assertTree(path.join(target, 'pkg'));
    assert.deepEqual(result, { entries: 9, bytes: DATA.length + 40, files: 4, dirs: 4, symlinks: 1 });
  });

  it('tar.xz with the system xz', async () => {
    const { target } = await freshTarget();
    await extractArchiveFile(txzFile, 'tar.xz', target, { xzCommand: '/usr/bin/xz' });
    await assertTree(path.join(target, 'pkg'));
  });

  it('tar.xz with the built-in WebAssembly decoder', async () => {
    const { target } = await freshTarget();
    await extractArchiveFile(txzFile, 'tar.xz', target, { xzCommand: false });
    await assertTree(path.join(target, 'pkg'));
  });

  it('zip built by the zip program: contents, modes and symlinks', async () => {
    const { target } = await freshTarget();
    const result = await extractArchiveFile(zipFile, 'zip', target);
    await assertTree(path.join(target, 'pkg'), { hardlink: false });
    assert.equal(result.symlinks, 1);
    assert.equal(result.files, 4);
  });

  for (const [kind, file] of [['tar.gz', () => tgzFile], ['zip', () => zipFile]] as const) {
    it(`${kind}: stripComponents drops leading directories and skips what is left empty`, async () => {
      const { target } = await freshTarget();
      await extractArchiveFile(file(), kind, target, { stripComponents: 1 });
      await assertTree(target, { hardlink: kind !== 'zip' });
      assert.deepEqual((await fs.readdir(target)).sort(), ['bin', 'empty', 'lib']);

      // Two components deeper, bin/tool-link -> ../lib/tool.js would point above the target.
      await rejectsWith(extractArchiveFile(file(), kind, (await freshTarget()).target, { stripComponents: 2 }), 'EARCHIVE');
    });
  }

  it('an empty target directory that already exists is fine', async () => {
    const { target } = await freshTarget();
    await fs.mkdir(target);
    await extractArchiveFile(tgzFile, 'tar.gz', target);
    await assertTree(path.join(target, 'pkg'));
  });
});

describe('streaming', () => {
  /** A tar.gz whose first entry is small and whose second is large, so the first lands early. */
  async function twoFileArchive(compress: (tar: Buffer) => Buffer): Promise<Buffer> {
    const src = path.join(work, `stream-src-${++n}`);
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'first.txt'), 'first\n');
    await fs.writeFile(path.join(src, 'second.bin'), randomBytes(512 * 1024));
    const chunks: Buffer[] = [];
    for await (const chunk of tar.c({ cwd: src }, ['first.txt', 'second.bin']) as AsyncIterable<Buffer>) chunks.push(chunk);
    return compress(Buffer.concat(chunks));
  }
  const xz = (data: Buffer): Buffer => execFileSync('xz', ['--compress', '--stdout'], { input: data, maxBuffer: 64 * 1024 * 1024 });

  const cases: Array<[string, 'tar.gz' | 'tar.xz', (data: Buffer) => Buffer, ExtractOptions]> = [
    ['tar.gz', 'tar.gz', gzipSync, {}],
    ['tar.xz (system xz)', 'tar.xz', xz, {}],
    ['tar.xz (WebAssembly)', 'tar.xz', xz, { xzCommand: false }],
  ];

  for (const [label, kind, compress, options] of cases) {
    it(`${label}: extracts while small chunks are still arriving`, { timeout: 30_000 }, async () => {
      const archive = await twoFileArchive(compress);
      const { target } = await freshTarget();
      const half = Math.floor(archive.length / 2);
      // Hands over the first half in 997-byte chunks, then waits until first.txt exists on disk
      // before sending the rest: this only finishes if extraction overlaps the input.
      async function* slowly(): AsyncGenerator<Buffer> {
        for (let i = 0; i < archive.length; i += 997) {
          if (i <= half && i + 997 > half) await waitForFile(path.join(target, 'first.txt'));
          yield archive.subarray(i, i + 997);
          await nextTurn();
        }
      }
      const result = await extractTarStream(Readable.from(slowly()), kind, target, options);
      assert.equal(await fs.readFile(path.join(target, 'first.txt'), 'utf8'), 'first\n');
      assert.equal((await fs.stat(path.join(target, 'second.bin'))).size, 512 * 1024);
      assert.equal(result.files, 2);
    });

    it(`${label}: cancellation mid-way rejects with ECANCELLED and leaves no descriptor open`, { timeout: 30_000 }, async (t) => {
      const archive = await twoFileArchive(compress);
      const { target } = await freshTarget();
      const fdsBefore = openFds(t);
      const input = new PassThrough();
      const controller = new AbortController();
      const extraction = extractTarStream(input, kind, target, { ...options, signal: controller.signal });
      input.write(archive.subarray(0, Math.floor(archive.length / 2))); // and never the rest
      await waitForFile(path.join(target, 'first.txt'));
      controller.abort();
      await rejectsWith(extraction, 'ECANCELLED');
      assert.ok(input.destroyed, 'the input is released');
      assert.deepEqual(openFds(t), fdsBefore);
    });
  }

  it('zip: cancellation mid-way rejects with ECANCELLED and leaves no descriptor open', { timeout: 30_000 }, async (t) => {
    const src = path.join(work, `zip-src-${++n}`);
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'big.bin'), randomBytes(16 * 1024 * 1024));
    const zip = path.join(work, `big-${n}.zip`);
    execFileSync('zip', ['-q', '-0', zip, 'big.bin'], { cwd: src });
    const { target } = await freshTarget();
    const fdsBefore = openFds(t);
    const controller = new AbortController();
    const extraction = extractArchiveFile(zip, 'zip', target, { signal: controller.signal });
    await waitForFile(path.join(target, 'big.bin')); // created at once, written 64 KiB at a time
    controller.abort();
    await rejectsWith(extraction, 'ECANCELLED');
    assert.deepEqual(openFds(t), fdsBefore);
    await rejectsWith(extractArchiveFile(zip, 'zip', target, { signal: AbortSignal.abort() }), 'ECANCELLED');
  });

  it('an already aborted signal rejects before reading', async () => {
    const { target } = await freshTarget();
    const input = createReadStream(tgzFile);
    await rejectsWith(extractTarStream(input, 'tar.gz', target, { signal: AbortSignal.abort() }), 'ECANCELLED');
    assert.ok(input.destroyed);
  });

  it('an error from the input stream is passed through unchanged', async () => {
    const { target } = await freshTarget();
    const failure = new Error('connection reset by test');
    async function* failing(): AsyncGenerator<Buffer> {
      yield (await fs.readFile(tgzFile)).subarray(0, 1000);
      throw failure;
    }
    await assert.rejects(extractTarStream(Readable.from(failing()), 'tar.gz', target), (error) => error === failure);
  });
});

describe('broken input', () => {
  it('data that is not gzip, xz or zip rejects with EARCHIVE', async () => {
    const junk = path.join(work, 'junk.bin');
    await fs.writeFile(junk, randomBytes(4096));
    await rejectsWith(extractArchiveFile(junk, 'tar.gz', (await freshTarget()).target), 'EARCHIVE');
    await rejectsWith(extractArchiveFile(junk, 'tar.xz', (await freshTarget()).target), 'EARCHIVE');
    await rejectsWith(extractArchiveFile(junk, 'tar.xz', (await freshTarget()).target, { xzCommand: false }), 'EARCHIVE');
    await rejectsWith(extractArchiveFile(junk, 'zip', (await freshTarget()).target), 'EARCHIVE');
  });

  it('truncated archives reject with EARCHIVE', async () => {
    for (const [file, kind] of [[tgzFile, 'tar.gz'], [txzFile, 'tar.xz']] as const) {
      const bytes = await fs.readFile(file);
      const cut = path.join(work, `cut-${++n}.${kind}`);
      await fs.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await rejectsWith(extractArchiveFile(cut, kind, (await freshTarget()).target), 'EARCHIVE');
      await rejectsWith(extractArchiveFile(cut, kind, (await freshTarget()).target, { xzCommand: false }), 'EARCHIVE');
    }
  });

  it('a tar without its end-of-archive marker rejects with EARCHIVE', async () => {
    const bytes = await fs.readFile(tarFile);
    // node-tar ends with two zero blocks, padded to a record; drop every trailing zero block
    let end = bytes.length;
    while (end >= 512 && bytes.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    const input = Readable.from([gzipSync(bytes.subarray(0, end))]);
    await rejectsWith(extractTarStream(input, 'tar.gz', (await freshTarget()).target), 'EARCHIVE');
  });

  it('a missing archive file rejects with EIO naming it', async () => {
    const missing = path.join(work, 'missing.tar.gz');
    await assert.rejects(extractArchiveFile(missing, 'tar.gz', (await freshTarget()).target), (error) => {
      assert.ok(isQmError(error, 'EIO'));
      assert.equal(error.details.path, missing);
      return true;
    });
    await rejectsWith(extractArchiveFile(missing, 'zip', (await freshTarget()).target), 'EIO');
  });
});

describe('limits', () => {
  for (const [kind, file] of [['tar.gz', () => tgzFile], ['zip', () => zipFile]] as const) {
    it(`${kind}: too many entries, too large an entry, too many bytes`, async () => {
      await rejectsWith(extractArchiveFile(file(), kind, (await freshTarget()).target, { limits: { maxEntries: 5 } }), 'EARCHIVE');
      await rejectsWith(extractArchiveFile(file(), kind, (await freshTarget()).target, { limits: { maxEntryBytes: 1000 } }), 'EARCHIVE');
      await rejectsWith(extractArchiveFile(file(), kind, (await freshTarget()).target, { limits: { maxTotalBytes: DATA.length } }), 'EARCHIVE');
      // exactly enough is enough
      const { target } = await freshTarget();
      await extractArchiveFile(file(), kind, target, { limits: { maxEntries: 10, maxEntryBytes: DATA.length, maxTotalBytes: DATA.length + 60 } });
    });
  }

  it('bad option values reject with EUSAGE', async () => {
    await rejectsWith(extractArchiveFile(tgzFile, 'tar.gz', (await freshTarget()).target, { limits: { maxEntries: -1 } }), 'EUSAGE');
    await rejectsWith(extractArchiveFile(zipFile, 'zip', (await freshTarget()).target, { stripComponents: 1.5 }), 'EUSAGE');
  });
});
