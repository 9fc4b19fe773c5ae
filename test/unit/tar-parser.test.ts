import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Header, Pax } from 'tar';
import type { EntryHeader } from '../../src/core/archive/entry-guard';
import { MAX_META_BYTES, TarParser } from '../../src/core/archive/tar-parser';
import { isQmError } from '../../src/core/errors';

interface Seen {
  name: string;
  kind: EntryHeader['kind'];
  size: number;
  mode: number | undefined;
  linkName: string | undefined;
  body: Buffer;
}

/** Parses `tar` fed in pieces of `piece` bytes; returns every entry with its data, and the bytes after the end. */
function parse(tar: Buffer, piece: number): { entries: Seen[]; trailing: number; endMarker: boolean } {
  const entries: Seen[] = [];
  let parts: Buffer[] = [];
  let open = false;
  const parser = new TarParser({
    onEntry: (header) => {
      assert.equal(open, false, 'an entry starts only after the last one ended');
      open = true;
      parts = [];
      entries.push({ name: header.name, kind: header.kind, size: header.size, mode: header.mode, linkName: header.linkName, body: Buffer.alloc(0) });
    },
    onData: (chunk) => void parts.push(Buffer.from(chunk)),
    onEntryEnd: () => {
      open = false;
      entries.at(-1)!.body = Buffer.concat(parts);
    },
  });
  let trailing = 0;
  for (let at = 0; at < tar.length; at += piece) trailing += parser.write(tar.subarray(at, at + piece));
  parser.end();
  return { entries, trailing, endMarker: parser.endMarker || parser.ended };
}

function rejects(tar: Buffer, pattern: RegExp): void {
  assert.throws(() => parse(tar, 4096), (error: unknown) => isQmError(error, 'EARCHIVE') && pattern.test((error as Error).message));
}

/** A header as node-tar writes it, then the data and its padding. */
function member(fields: ConstructorParameters<typeof Header>[0], data = Buffer.alloc(0)): [header: Buffer, data: Buffer, padding: Buffer] {
  const header = Buffer.alloc(512);
  new Header({ uid: 0, gid: 0, mtime: new Date(0), mode: 0o644, size: data.length, ...fields }).encode(header, 0);
  return [header, data, Buffer.alloc((512 - (data.length % 512)) % 512)];
}

const END = Buffer.alloc(1024);
const PIECES = [1, 511, 512, 513, 7919, 1 << 20];

describe('TarParser (ustar, pax and GNU tar streams, in any pieces)', () => {
  let work: string;
  let tree: string;
  // Within ustar's limits (a 155-byte prefix, a 100-byte name), over its 100-byte name field.
  const longDir = `${'d'.repeat(70)}/${'e'.repeat(70)}`;
  const longName = `${longDir}/${'f'.repeat(90)}.txt`;
  const longTarget = `${'t'.repeat(150)}/target`;
  const big = randomBytes(300_000);

  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-tar-parser-'));
    tree = path.join(work, 'tree');
    await fs.mkdir(path.join(tree, 'top', longDir), { recursive: true });
    await fs.writeFile(path.join(tree, 'top', longName), 'long\n');
    await fs.writeFile(path.join(tree, 'top', 'big.bin'), big);
    await fs.writeFile(path.join(tree, 'top', 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await fs.writeFile(path.join(tree, 'top', 'empty'), '');
    await fs.symlink(longTarget, path.join(tree, 'top', 'link'));
    await fs.link(path.join(tree, 'top', 'run.sh'), path.join(tree, 'top', 'hard'));
  });
  after(async () => fs.rm(work, { recursive: true, force: true }));

  for (const format of ['gnu', 'pax', 'ustar']) {
    it(`reads what GNU tar --format=${format} writes, fed in pieces of ${PIECES.join(', ')} bytes`, () => {
      // ustar cannot hold the 150-byte link target: that format gets a tree without it.
      const names = format === 'ustar' ? ['top/big.bin', 'top/empty', 'top/hard', 'top/run.sh', `top/${longName}`] : ['top'];
      const tar = execFileSync('tar', ['--create', `--format=${format}`, '--sort=name', '--owner=0', '--group=0', '-C', tree, ...names], { maxBuffer: 64 << 20 });
      for (const piece of PIECES) {
        const { entries, endMarker } = parse(tar, piece);
        assert.ok(endMarker, 'the end marker is seen');
        const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e]));
        assert.deepEqual(byName.get(`top/${longName}`)?.body.toString(), 'long\n', `${format}, pieces of ${piece}: the long name`);
        assert.ok(byName.get('top/big.bin')?.body.equals(big), 'the data, whole and in order');
        assert.equal(byName.get('top/big.bin')?.size, big.length);
        assert.equal((byName.get('top/hard')?.mode ?? 0) & 0o777, 0o755);
        assert.equal(byName.get('top/empty')?.body.length, 0);
        // Sorted by name, `hard` comes first and `run.sh` is the link to it.
        assert.deepEqual(byName.get('top/run.sh')?.kind, 'hardlink');
        assert.equal(byName.get('top/run.sh')?.linkName, 'top/hard');
        if (format !== 'ustar') {
          assert.deepEqual(byName.get('top/link')?.kind, 'symlink');
          assert.equal(byName.get('top/link')?.linkName, longTarget, 'the long link target');
          assert.deepEqual(byName.get(`top/${longDir}`)?.kind, 'directory');
        }
      }
    });
  }

  it('takes path and linkpath from a pax header for the next entry only, and no path from a global one', () => {
    const data = Buffer.from('0123456789');
    const tar = Buffer.concat([
      new Pax({ path: 'ignored-global-path' }, true).encode(),
      new Pax({ path: 'pax/named.txt' }).encode(),
      ...member({ path: 'short', type: 'File' }, data),
      new Pax({ linkpath: 'pax/named.txt' }).encode(),
      ...member({ path: 'l', type: 'SymbolicLink', linkpath: 'x' }),
      ...member({ path: 'after', type: 'File' }, data),
      END,
    ]);
    const { entries } = parse(tar, 100);
    assert.deepEqual(
      entries.map((e) => [e.name, e.linkName, e.body.toString()]),
      [
        ['pax/named.txt', undefined, '0123456789'],
        ['l', 'pax/named.txt', ''],
        ['after', undefined, '0123456789'],
      ],
    );
  });

  it('reads base-256 numbers (GNU, for sizes over 8 GiB) and octal with spaces', () => {
    const [header, data, padding] = member({ path: 'b256', type: 'File' }, Buffer.from('abc'));
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header[135] = 3;
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const { entries } = parse(Buffer.concat([header, data, padding, END]), 512);
    assert.equal(entries[0]?.body.toString(), 'abc');
  });

  it('names types it does not write by the names node-tar gives them', () => {
    const { entries } = parse(Buffer.concat([...member({ path: 'fifo', type: 'FIFO' }), END]), 512);
    assert.deepEqual(entries[0]?.kind, { unsupported: 'FIFO' });
  });

  it('counts what follows the second zero block as trailing, and one zero block is an end marker too', () => {
    const one = parse(Buffer.concat([...member({ path: 'a', type: 'File' }), Buffer.alloc(512)]), 512);
    assert.equal(one.endMarker, true);
    const trailing = parse(Buffer.concat([...member({ path: 'a', type: 'File' }), END, Buffer.alloc(3000, 1)]), 700);
    assert.equal(trailing.trailing, 3000);
    assert.equal(parse(Buffer.concat([...member({ path: 'a', type: 'File' })]), 512).endMarker, false);
  });

  it('refuses a bad checksum, a malformed pax record, an oversized pax header, links without targets and truncation', () => {
    const bad = Buffer.concat([...member({ path: 'a', type: 'File' }), END]);
    bad[20] = 0x41;
    rejects(bad, /checksum failure/);
    const pax = new Pax({ path: 'p' }).encode();
    pax.write('99', 512, 'latin1'); // the record's length no longer matches it
    const paxHeader = pax.subarray(0, 512);
    rejects(Buffer.concat([paxHeader, pax.subarray(512), ...member({ path: 'a', type: 'File' }), END]), /pax header record is malformed/);
    const [huge] = member({ path: 'PaxHeader', type: 'ExtendedHeader' }, Buffer.alloc(MAX_META_BYTES + 1));
    rejects(Buffer.concat([huge, Buffer.alloc(MAX_META_BYTES + 512)]), /header larger than/);
    rejects(Buffer.concat([...member({ path: 'l', type: 'SymbolicLink', linkpath: '' }), END]), /link without a target/);
    rejects(Buffer.concat([...member({ path: 'f', type: 'File', linkpath: 'x' }), END]), /with a link target/);
    const cut = Buffer.concat([...member({ path: 'a', type: 'File' }, Buffer.alloc(2000, 1))]).subarray(0, 1500);
    rejects(cut, /truncated inside an entry/);
  });
});
