import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesHash, nameHash, shortNameHash, uniqueSuffix } from '../../src/core/paths/name-hash';

describe('nameHash and uniqueSuffix: names made without node:crypto', () => {
  it('nameHash is 128-bit FNV-1a over UTF-8 (the published test vectors)', () => {
    assert.equal(nameHash(''), '6c62272e07bb014262b821756295c58d');
    assert.equal(nameHash('a'), 'd228cb696f1a8caf78912b704e4a8964');
    assert.equal(nameHash('foobar'), '343e1662793c64bf6f0d3597ba446f18');
    // UTF-8 bytes, not UTF-16 code units: "é" is two bytes.
    assert.notEqual(nameHash('/home/é/qm.toml'), nameHash('/home/\u00e9/qm.toml'.normalize('NFD')));
    assert.match(nameHash('/a/very/long/path/'.repeat(40)), /^[0-9a-f]{32}$/);
  });

  it('shortNameHash tells apart names that differ only in their last character (host tags)', () => {
    assert.notEqual(shortNameHash('build-7'), shortNameHash('build-9'));
    const tags = new Set(Array.from({ length: 2000 }, (_, i) => shortNameHash(`host-${i}`)));
    assert.equal(tags.size, 2000);
    for (const tag of [...tags].slice(0, 50)) assert.match(tag, /^[0-9a-f]{8}$/);
  });

  it('bytesHash depends on the bytes alone (not where they sit in memory), and on every one of them', () => {
    const data = Buffer.from(Array.from({ length: 1027 }, (_, i) => (i * 7) % 256));
    const shifted = Buffer.concat([Buffer.from([9]), data]).subarray(1);
    assert.equal(shifted.byteOffset % 4, 1);
    assert.equal(bytesHash(shifted), bytesHash(data));
    assert.match(bytesHash(data), /^[0-9a-f]{16}$/);
    for (const at of [0, 1, 2, 3, 511, 1023, 1024, 1026]) {
      const flipped = Buffer.from(data);
      flipped[at] = flipped[at]! ^ 0x01;
      assert.notEqual(bytesHash(flipped), bytesHash(data), `a flip at ${at}`);
    }
  });

  it('uniqueSuffix is 16 hex digits, different every time', () => {
    const seen = new Set(Array.from({ length: 10_000 }, () => uniqueSuffix()));
    assert.equal(seen.size, 10_000);
    for (const suffix of [...seen].slice(0, 100)) assert.match(suffix, /^[0-9a-f]{16}$/);
  });
});
