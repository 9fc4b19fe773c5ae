import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isQmError } from '../../src/core/errors';
import { RawGunzip } from '../../src/core/archive/raw-gunzip';

/** Feeds `bytes` in pieces of `size` through a RawGunzip and returns what it inflates to. */
async function inflate(bytes: Buffer, size: number, chunkSize = 16 * 1024): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return buffer(Readable.from(pieces).pipe(new RawGunzip(chunkSize)));
}

async function rejectsArchive(bytes: Buffer, size: number, pattern: RegExp): Promise<void> {
  await assert.rejects(inflate(bytes, size), (error: unknown) => {
    assert.ok(isQmError(error, 'EARCHIVE') || /^Z_/.test((error as NodeJS.ErrnoException).code ?? ''), String(error));
    assert.match((error as Error).message, pattern);
    return true;
  });
}

// Half random (incompressible), half zeros: output far larger than input, several inflater callbacks.
const DATA = Buffer.concat([randomBytes(200_000), Buffer.alloc(300_000, 7)]);
const GZ = gzipSync(DATA);

describe('RawGunzip (gunzip without the CRC, for bytes verified by their SHA-256)', () => {
  it('inflates a member fed whole, in odd pieces, and byte by byte around the header and trailer', async () => {
    for (const size of [GZ.length, 65_536, 4093, 301, 1]) {
      const small = size === 1 ? gzipSync(DATA.subarray(0, 3000)) : GZ;
      assert.deepEqual(await inflate(small, size), size === 1 ? DATA.subarray(0, 3000) : DATA, `pieces of ${size}`);
    }
  });

  it('reads a header with extra field, name, comment and header CRC', async () => {
    const plain = gzipSync(Buffer.from('hello'));
    const extra = Buffer.from([6, 0, 1, 2, 3, 4, 5, 6]);
    const header = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3]), extra, Buffer.from('name\0comment\0'), Buffer.from([0, 0])]);
    const bytes = Buffer.concat([header, plain.subarray(10)]);
    for (const size of [bytes.length, 3, 1]) assert.equal((await inflate(bytes, size)).toString(), 'hello');
  });

  it('inflates concatenated members and accepts zero padding after the last', async () => {
    const bytes = Buffer.concat([gzipSync(Buffer.from('one ')), gzipSync(DATA), gzipSync(Buffer.from(' three')), Buffer.alloc(700)]);
    for (const size of [bytes.length, 5000, 997]) {
      assert.deepEqual(await inflate(bytes, size), Buffer.concat([Buffer.from('one '), DATA, Buffer.from(' three')]), `pieces of ${size}`);
    }
    const small = Buffer.concat([gzipSync(Buffer.from('one ')), gzipSync(Buffer.from('two')), Buffer.alloc(30)]);
    for (let size = 1; size <= 12; size++) assert.equal((await inflate(small, size)).toString(), 'one two', `pieces of ${size}`);
  });

  it('does not check the CRC (the SHA-256 does that job) but does check the length', async () => {
    const badCrc = Buffer.from(GZ);
    badCrc.writeUInt8(badCrc.readUInt8(badCrc.length - 8) ^ 1, badCrc.length - 8);
    assert.deepEqual(await inflate(badCrc, 65_536), DATA);
    const badSize = Buffer.from(GZ);
    badSize.writeUInt32LE(DATA.length + 1, badSize.length - 4);
    await rejectsArchive(badSize, 65_536, /says it holds 500001 bytes/);
  });

  it('refuses what is not gzip, cut short, or followed by other bytes', async () => {
    await rejectsArchive(Buffer.from('PK\x03\x04 a zip file'), 4, /not gzip/);
    await rejectsArchive(Buffer.alloc(0), 4, /empty/);
    await rejectsArchive(GZ.subarray(0, 6), 4, /inside a gzip header/);
    await rejectsArchive(GZ.subarray(0, GZ.length - 3), 4096, /inside a gzip trailer/);
    await rejectsArchive(GZ.subarray(0, GZ.length - 5000), 4096, /unexpected end of file/);
    await rejectsArchive(Buffer.concat([GZ, Buffer.from('trailing junk')]), 4096, /not gzip follow/);
    const garbled = Buffer.from(GZ);
    garbled[10] = 0xff; // the first deflate block header: block type 3 does not exist
    await rejectsArchive(garbled, 4096, /invalid block type/);
  });
});
