import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nearestSpecs, releaseLine, releasesForPicker, specForms } from '../../src/core/resolve/spec-suggestions';
import type { VersionCandidate } from '../../src/core/resolve/version-spec';

// Newest first, as the providers list them; a release candidate above the newest stable release.
const NODE: VersionCandidate[] = [
  { version: '23.3.0', lts: false },
  { version: '22.12.0', lts: 'Jod' },
  { version: '22.11.0', lts: 'Jod' },
  { version: '20.18.1', lts: 'Iron' },
  { version: '20.17.0', lts: 'Iron' },
  { version: '18.20.5', lts: 'Hydrogen' },
];
const GO: VersionCandidate[] = [
  { version: '1.24rc1', prerelease: true },
  { version: '1.23.4' },
  { version: '1.23.3' },
  { version: '1.22.10' },
];
const ZIG: VersionCandidate[] = [{ version: '0.14.0-dev.2+abc' }, { version: '0.13.0' }, { version: '0.12.1' }];

describe('releasesForPicker', () => {
  it('puts every stable release first and the prereleases after, flagged or tagged', () => {
    const go = releasesForPicker('go', GO);
    assert.deepEqual(go.stable.map((r) => r.version), ['1.23.4', '1.23.3', '1.22.10']);
    assert.deepEqual(go.prereleases.map((r) => r.version), ['1.24rc1']);
    // Zig's dev builds carry no flag: the semver tag says it.
    const zig = releasesForPicker('zig', ZIG);
    assert.deepEqual(zig.stable.map((r) => r.version), ['0.13.0', '0.12.1']);
    assert.deepEqual(zig.prereleases.map((r) => r.version), ['0.14.0-dev.2+abc']);
  });
});

describe('releaseLine', () => {
  it('is the major, or major.minor for Go and 0.x', () => {
    assert.equal(releaseLine('node', 'v22.12.0'), '22');
    assert.equal(releaseLine('go', '1.23.4'), '1.23');
    assert.equal(releaseLine('zig', '0.13.0'), '0.13');
    assert.equal(releaseLine('node', 'nonsense'), undefined);
  });
});

describe('nearestSpecs', () => {
  it('for an exact version that does not exist: the newest of its major, exact; the latest LTS; the latest', () => {
    assert.deepEqual(nearestSpecs('node', '22.99.0', NODE), [
      { spec: '22.12.0', version: '22.12.0', reason: 'the newest 22.x release' },
      { spec: 'lts', version: '22.12.0', reason: 'the latest LTS release' },
      { spec: 'latest', version: '23.3.0', reason: 'the latest release' },
    ]);
  });

  it('for a prefix or range: the line as a prefix', () => {
    assert.deepEqual(nearestSpecs('node', '20.99', NODE).map((s) => s.spec), ['20', 'lts', 'latest']);
    assert.deepEqual(nearestSpecs('node', '^20.30', NODE).map((s) => [s.spec, s.version]), [['20', '20.18.1'], ['lts', '22.12.0'], ['latest', '23.3.0']]);
  });

  it('for a major with no release: LTS and latest only; no LTS offered for tools without LTS lines', () => {
    assert.deepEqual(nearestSpecs('node', '99', NODE).map((s) => s.spec), ['lts', 'latest']);
    assert.deepEqual(nearestSpecs('go', '1.99', GO).map((s) => [s.spec, s.version]), [['latest', '1.23.4']]);
    assert.deepEqual(nearestSpecs('go', '1.23.99', GO).map((s) => [s.spec, s.version]), [['1.23.4', '1.23.4'], ['latest', '1.23.4']]);
  });

  it('for a bad spec: its first number read as a line, then LTS and latest', () => {
    assert.deepEqual(nearestSpecs('node', '20.x.y', NODE).map((s) => s.spec), ['20', 'lts', 'latest']);
    assert.deepEqual(nearestSpecs('node', 'lts/nonsense', NODE).map((s) => s.spec), ['lts', 'latest']);
  });

  it('offers nothing when the versions are unknown', () => {
    assert.deepEqual(nearestSpecs('node', '99', []), []);
  });
});

describe('specForms', () => {
  const release = (version: string): VersionCandidate => NODE.find((r) => r.version === version)!;
  const forms = (current: string | undefined, version: string): string[][] => specForms('node', current, release(version), NODE).map((s) => [s.spec, s.version]);

  it('keeps a prefix a prefix: 22 → 20, 22.11 → 20.18', () => {
    assert.deepEqual(forms('22', '20.18.1'), [['20', '20.18.1'], ['20.18.1', '20.18.1'], ['^20.18.1', '20.18.1'], ['lts/iron', '20.18.1']]);
    assert.deepEqual(forms('22.11', '20.18.1')[0], ['20.18', '20.18.1']);
  });

  it('says what a form picks now, which may be newer than the release chosen', () => {
    assert.deepEqual(forms('22', '20.17.0')[0], ['20', '20.18.1']);
    assert.deepEqual(forms('20.18.1', '20.17.0')[0], ['20.17.0', '20.17.0']);
  });

  it('keeps an LTS spec an LTS spec: "lts" while the release is the latest LTS, else its line', () => {
    assert.deepEqual(forms('lts', '22.12.0')[0], ['lts', '22.12.0']);
    assert.deepEqual(forms('lts', '20.18.1')[0], ['lts/iron', '20.18.1']);
    assert.deepEqual(forms('lts/jod', '20.18.1')[0], ['lts/iron', '20.18.1']);
  });

  it("keeps a range's operator", () => {
    assert.deepEqual(forms('^22.1', '20.18.1')[0], ['^20.18.1', '20.18.1']);
    assert.deepEqual(forms('~22.1.0', '20.18.1')[0], ['~20.18.1', '20.18.1']);
    assert.deepEqual(forms('>=18 <21', '20.18.1')[0], ['^20.18.1', '20.18.1']);
  });

  it('keeps an exact pin first, and offers latest only for the newest release', () => {
    assert.deepEqual(forms('22.11.0', '23.3.0'), [['23.3.0', '23.3.0'], ['23', '23.3.0'], ['^23.3.0', '23.3.0'], ['latest', '23.3.0']]);
    assert.deepEqual(forms('latest', '23.3.0')[0], ['latest', '23.3.0']);
    assert.equal(forms('latest', '22.12.0')[0]![0], '22.12.0');
    assert.equal(forms(undefined, '22.12.0')[0]![0], '22.12.0');
  });

  it('writes a prerelease only exactly', () => {
    assert.deepEqual(specForms('go', '1.23', GO[0]!, GO).map((s) => s.spec), ['1.24rc1']);
    assert.deepEqual(specForms('go', '1.22', GO[1]!, GO).map((s) => s.spec), ['1.23', '1.23.4', '^1.23.4', 'latest']);
  });
});
