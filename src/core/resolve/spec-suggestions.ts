import semver from 'semver';
import { normalizeVersion, parseVersionSpec, selectVersion, type VersionCandidate, type VersionSpec } from './version-spec';

/**
 * What the editor offers a person choosing a version or a spec: releases in the order a picker
 * shows them, the nearest specs that do match when a spec matches nothing, and the ways to write
 * a chosen release that keep the form of the spec it replaces. Pure: the callers bring the list.
 */

/** A spec offered to a person: what to write, what it picks now, and why it is offered. */
export interface SpecSuggestion {
  spec: string;
  /** The release the spec selects now (as the provider spells it). */
  version: string;
  /** Why: "the newest 22.x", "the latest LTS", "exactly this release". */
  reason: string;
}

/** Whether a release is a prerelease: flagged by its provider, or a semver prerelease tag. */
export function isPrerelease(tool: string, release: VersionCandidate): boolean {
  if (release.prerelease === true) return true;
  const version = normalizeVersion(tool, release.version);
  return version !== undefined && semver.prerelease(version) !== null;
}

/**
 * Releases as a picker lists them: every stable release first (in the given order, newest first),
 * then the prereleases. The first stable release is the one a picker may preselect; a prerelease
 * never is, so Enter alone never installs a release candidate.
 */
export function releasesForPicker<R extends VersionCandidate>(tool: string, releases: readonly R[]): { stable: R[]; prereleases: R[] } {
  const stable: R[] = [];
  const prereleases: R[] = [];
  for (const release of releases) (isPrerelease(tool, release) ? prereleases : stable).push(release);
  return { stable, prereleases };
}

/**
 * The release line a version belongs to, as the spec writing it: the major ("22"), or for Go and
 * 0.x versions, whose major never moves, major.minor ("1.23", "0.13").
 */
export function releaseLine(tool: string, version: string): string | undefined {
  const normalized = normalizeVersion(tool, version);
  if (normalized === undefined) return undefined;
  const parsed = semver.parse(normalized);
  if (parsed === null) return undefined;
  return tool === 'go' || parsed.major === 0 ? `${parsed.major}.${parsed.minor}` : String(parsed.major);
}

/**
 * For a spec that matches no release (or is not a spec at all): the nearest specs that do, in
 * this order: the newest release in the line the spec names (exact when the spec was an exact
 * version, else the line's prefix), the latest LTS (for tools with LTS lines), and the latest.
 * Specs that select nothing, and repeats, are left out. `versions` is newest first.
 */
export function nearestSpecs(tool: string, spec: string, versions: readonly VersionCandidate[]): SpecSuggestion[] {
  const suggestions: SpecSuggestion[] = [];
  const offer = (candidate: string, reason: string): void => {
    if (candidate === spec.trim() || suggestions.some((s) => s.spec === candidate)) return;
    const picked = selectVersion(candidate, versions);
    if (picked) suggestions.push({ spec: candidate, version: picked.version, reason });
  };
  const parsed = tryParse(spec);
  const line = lineNamedBy(tool, spec, parsed);
  if (line !== undefined) {
    const newestInLine = selectVersion(line, versions);
    if (newestInLine) {
      const exact = parsed?.kind === 'exact';
      offer(exact ? plainVersion(tool, newestInLine.version) : line, `the newest ${line}.x release`);
    }
  }
  if (versions.some((v) => typeof v.lts === 'string' && v.lts !== '')) offer('lts', 'the latest LTS release');
  offer('latest', 'the latest release');
  return suggestions;
}

/**
 * The ways to write `release` in place of `current` (the spec in the manifest now), the one of
 * the same form first: a prefix stays a prefix of as many numbers (`22` → `20`), a range keeps
 * its operator (`^22.1` → `^20.18.1`), an LTS spec names the release's LTS line, `latest` stays
 * when the release is the newest; then the exact pin, and the other forms. Each says what it
 * selects now, which may be newer than `release` (`20` picks the newest 20.x).
 */
export function specForms(tool: string, current: string | undefined, release: VersionCandidate, versions: readonly VersionCandidate[]): SpecSuggestion[] {
  const version = plainVersion(tool, release.version);
  const parsed = current === undefined ? undefined : tryParse(current);
  const line = releaseLine(tool, release.version);
  const forms: Array<{ kind: VersionSpec['kind']; spec: string; reason: string }> = [];
  forms.push({ kind: 'exact', spec: version, reason: 'exactly this release' });
  if (line !== undefined && !isPrerelease(tool, release)) {
    const numbers = semver.parse(normalizeVersion(tool, release.version))!;
    const prefix = parsed?.kind === 'prefix' && parsed.prefix.length === 2 && !line.includes('.') ? `${numbers.major}.${numbers.minor}` : line;
    forms.push({ kind: 'prefix', spec: prefix, reason: `the newest ${prefix}.x release` });
    const operator = parsed?.kind === 'range' ? (/^\s*(\^|~|>=)\s*v?\d[\w.+-]*\s*$/.exec(parsed.raw)?.[1] ?? '^') : '^';
    forms.push({ kind: 'range', spec: `${operator}${version}`, reason: operator === '>=' ? `${version} or newer` : `${version} or a newer compatible release` });
    if (typeof release.lts === 'string' && release.lts !== '') {
      const newestLts = selectVersion('lts', versions);
      const sameLts = parsed?.kind === 'lts' && parsed.codename === undefined && newestLts?.version === release.version;
      forms.push(sameLts ? { kind: 'lts', spec: 'lts', reason: 'the latest LTS release' } : { kind: 'lts', spec: `lts/${release.lts.toLowerCase()}`, reason: `the newest ${release.lts} LTS release` });
    }
    if (selectVersion('latest', versions)?.version === release.version) forms.push({ kind: 'latest', spec: 'latest', reason: 'the latest release' });
  }
  const kept = parsed === undefined ? -1 : forms.findIndex((form) => form.kind === parsed.kind);
  if (kept > 0) forms.unshift(...forms.splice(kept, 1));
  const suggestions: SpecSuggestion[] = [];
  for (const form of forms) {
    if (suggestions.some((s) => s.spec === form.spec)) continue;
    const picked = form.kind === 'exact' ? release : selectVersion(form.spec, versions);
    if (picked) suggestions.push({ spec: form.spec, version: picked.version, reason: form.reason });
  }
  return suggestions;
}

/** The line a spec names: a prefix's or range's leading numbers, an exact version's line, or the first number in a bad spec. */
function lineNamedBy(tool: string, spec: string, parsed: VersionSpec | undefined): string | undefined {
  if (parsed?.kind === 'exact') return releaseLine(tool, parsed.version);
  if (parsed?.kind === 'lts' || parsed?.kind === 'latest') return undefined;
  const numbers = /(\d+)(?:\.(\d+))?/.exec(spec);
  if (!numbers) return undefined;
  const major = Number(numbers[1]);
  return (tool === 'go' || major === 0) && numbers[2] !== undefined ? `${major}.${Number(numbers[2])}` : String(major);
}

/** "v20.18.1" → "20.18.1": how qm.toml writes an exact version (Go keeps its own spelling). */
function plainVersion(tool: string, version: string): string {
  if (tool === 'go') return version.startsWith('go') ? version.slice(2) : version;
  return version.startsWith('v') && normalizeVersion(tool, version) !== undefined ? version.slice(1) : version;
}

function tryParse(spec: string): VersionSpec | undefined {
  try {
    return parseVersionSpec(spec);
  } catch {
    return undefined;
  }
}
