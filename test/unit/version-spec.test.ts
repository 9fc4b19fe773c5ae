import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import {
  checkVersionSpec,
  normalizeVersion,
  parseVersionSpec,
  selectVersion,
  type VersionCandidate,
} from '../../src/core/resolve/version-spec';

describe('parseVersionSpec', () => {
  it('reads exact versions, with or without "v", including Go prereleases', () => {
    assert.deepEqual(parseVersionSpec('22.11.0'), { kind: 'exact', raw: '22.11.0', version: '22.11.0' });
    assert.deepEqual(parseVersionSpec('v22.11.0'), { kind: 'exact', raw: 'v22.11.0', version: '22.11.0' });
    assert.deepEqual(parseVersionSpec('1.23.4'), { kind: 'exact', raw: '1.23.4', version: '1.23.4' });
    assert.deepEqual(parseVersionSpec('0.13.0'), { kind: 'exact', raw: '0.13.0', version: '0.13.0' });
    assert.deepEqual(parseVersionSpec('1.22rc1'), { kind: 'exact', raw: '1.22rc1', version: '1.22.0-rc.1' });
    assert.deepEqual(parseVersionSpec('0.14.0-dev.1+abc'), { kind: 'exact', raw: '0.14.0-dev.1+abc', version: '0.14.0-dev.1' });
  });

  it('reads one or two numbers as a prefix', () => {
    assert.deepEqual(parseVersionSpec('22'), { kind: 'prefix', raw: '22', prefix: [22], range: '22.x' });
    assert.deepEqual(parseVersionSpec('22.11'), { kind: 'prefix', raw: '22.11', prefix: [22, 11], range: '22.11.x' });
    assert.deepEqual(parseVersionSpec('1.23'), { kind: 'prefix', raw: '1.23', prefix: [1, 23], range: '1.23.x' });
    assert.deepEqual(parseVersionSpec('v20'), { kind: 'prefix', raw: 'v20', prefix: [20], range: '20.x' });
  });

  it('reads any other valid semver range as a range', () => {
    assert.deepEqual(parseVersionSpec('^20.10'), { kind: 'range', raw: '^20.10', range: '>=20.10.0 <21.0.0-0' });
    assert.deepEqual(parseVersionSpec('>=18 <21'), { kind: 'range', raw: '>=18 <21', range: '>=18.0.0 <21.0.0-0' });
    assert.deepEqual(parseVersionSpec('~1.23'), { kind: 'range', raw: '~1.23', range: '>=1.23.0 <1.24.0-0' });
    assert.equal(parseVersionSpec('20.x || 22.x').kind, 'range');
  });

  it('reads lts, lts/*, lts/<codename> and the words for latest', () => {
    assert.deepEqual(parseVersionSpec('lts'), { kind: 'lts', raw: 'lts' });
    assert.deepEqual(parseVersionSpec('lts/*'), { kind: 'lts', raw: 'lts/*' });
    assert.deepEqual(parseVersionSpec('lts/Iron'), { kind: 'lts', raw: 'lts/Iron', codename: 'iron' });
    for (const word of ['latest', 'node', 'current']) assert.deepEqual(parseVersionSpec(word), { kind: 'latest', raw: word });
  });

  it('trims surrounding whitespace', () => {
    assert.equal(parseVersionSpec('  22 \n').kind, 'prefix');
  });

  it('throws EUSAGE with a message saying what to write for anything else', () => {
    for (const bad of ['', '   ', 'banana', 'lts/-1', 'lts/', '22.11.0.1', '022', '1.2.3rc', 'x'.repeat(300)]) {
      assert.throws(
        () => parseVersionSpec(bad),
        (error: unknown) => isQmError(error, 'EUSAGE') && error.message.length > 20,
        `expected ${JSON.stringify(bad)} to be rejected`,
      );
    }
    assert.match(checkVersionSpec('banana') ?? '', /"banana" is not a version spec: write an exact version \("22.11.0"\), a prefix \("22"\)/);
    assert.match(checkVersionSpec('') ?? '', /empty/);
    assert.match(checkVersionSpec('lts/-1') ?? '', /lts\/iron/);
  });

  it('checkVersionSpec returns undefined for valid specs and never throws', () => {
    for (const good of ['22', 'v22.11.0', '^20.10', 'lts/iron', 'latest', '1.22rc1']) assert.equal(checkVersionSpec(good), undefined);
    for (const odd of ['\u0000', '🦀', '>=', '|| ||', 'v', 'lts/**']) assert.equal(typeof checkVersionSpec(odd), 'string');
  });
});

describe('normalizeVersion', () => {
  it('spells Go releases as semver: "1.20" is 1.20.0 and "1.22rc1" is 1.22.0-rc.1', () => {
    assert.equal(normalizeVersion('go', '1.20'), '1.20.0');
    assert.equal(normalizeVersion('go', '1.21.0'), '1.21.0');
    assert.equal(normalizeVersion('go', '1.23.4'), '1.23.4');
    assert.equal(normalizeVersion('go', 'go1.22rc1'), '1.22.0-rc.1');
    assert.equal(normalizeVersion('go', '1.9beta2'), '1.9.0-beta.2');
    assert.equal(normalizeVersion('go', 'banana'), undefined);
  });

  it('takes node and zig versions as semver, dropping a "v"', () => {
    assert.equal(normalizeVersion('node', 'v22.11.0'), '22.11.0');
    assert.equal(normalizeVersion('zig', '0.13.0'), '0.13.0');
    assert.equal(normalizeVersion('zig', '0.14.0-dev.2+abcdef'), '0.14.0-dev.2');
    assert.equal(normalizeVersion('node', '1.20'), undefined, 'a short version is not a node release');
  });
});

describe('selectVersion', () => {
  const node: VersionCandidate[] = [
    { version: 'v23.3.0', lts: false },
    { version: 'v22.11.0', lts: 'Jod' },
    { version: 'v22.10.0', lts: false },
    { version: 'v20.18.1', lts: 'Iron' },
    { version: 'v20.10.0', lts: 'Iron' },
    { version: 'v18.20.5', lts: 'Hydrogen' },
    { version: 'v24.0.0-rc.1', lts: false },
    { version: 'not a version' },
  ];
  const pick = (spec: string, candidates = node): string | undefined => selectVersion(spec, candidates)?.version;

  it('picks the newest stable match for prefixes, ranges and latest', () => {
    assert.equal(pick('22'), 'v22.11.0');
    assert.equal(pick('22.10'), 'v22.10.0');
    assert.equal(pick('^20.10'), 'v20.18.1');
    assert.equal(pick('>=18 <21'), 'v20.18.1');
    assert.equal(pick('latest'), 'v23.3.0');
    assert.equal(pick('node'), 'v23.3.0');
    assert.equal(pick('19'), undefined);
  });

  it('picks an exact version, and a prerelease only when named exactly', () => {
    assert.equal(pick('20.10.0'), 'v20.10.0');
    assert.equal(pick('v24.0.0-rc.1'), 'v24.0.0-rc.1');
    assert.equal(pick('24'), undefined);
    assert.equal(pick('>=24.0.0-rc.0'), undefined);
    assert.equal(pick('20.10.1'), undefined);
  });

  it('picks the newest LTS, or the newest of one LTS line by codename in any case', () => {
    assert.equal(pick('lts'), 'v22.11.0');
    assert.equal(pick('lts/*'), 'v22.11.0');
    assert.equal(pick('lts/iron'), 'v20.18.1');
    assert.equal(pick('lts/HYDROGEN'), 'v18.20.5');
    assert.equal(pick('lts/argon'), undefined);
  });

  it('reads Go spellings: "1.20" is the 1.20.0 release, rc builds are prereleases', () => {
    const go: VersionCandidate[] = [
      { version: '1.20' },
      { version: '1.20.14' },
      { version: '1.21.0' },
      { version: '1.22rc1' },
      { version: '1.21rc2' },
      { version: '1.9' },
    ];
    assert.equal(pick('1.20', go), '1.20.14');
    assert.equal(pick('1.20.0', go), '1.20');
    assert.equal(pick('latest', go), '1.21.0');
    assert.equal(pick('1.22rc1', go), '1.22rc1');
    assert.equal(pick('1.22', go), undefined);
    assert.equal(pick('<1.10', go), '1.9');
  });

  it('skips candidates the provider marks as prereleases unless named exactly', () => {
    const zig: VersionCandidate[] = [{ version: '0.14.0', prerelease: true }, { version: '0.13.0' }];
    assert.equal(pick('latest', zig), '0.13.0');
    assert.equal(pick('0.14.0', zig), '0.14.0');
  });

  it('accepts a parsed spec and returns the candidate object itself', () => {
    const candidates = [{ version: '1.0.0', extra: 'a' }, { version: '1.1.0', extra: 'b' }];
    assert.equal(selectVersion(parseVersionSpec('1'), candidates), candidates[1]);
  });

  it('throws EUSAGE for an invalid spec string', () => {
    assert.throws(() => selectVersion('banana', node), (error: unknown) => isQmError(error, 'EUSAGE'));
  });
});
