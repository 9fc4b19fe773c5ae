import semver from 'semver';
import { QmError } from '../errors';

/**
 * What a manifest asks for, e.g. `node = "22"`. Exact specs may name a prerelease; every other
 * kind only ever selects stable releases.
 */
export type VersionSpec =
  /** "22.11.0", "v22.11.0", "1.22rc1": one release; `version` is its semver spelling. */
  | { kind: 'exact'; raw: string; version: string }
  /** "22", "22.11", "1.23": the newest release whose leading numbers are these. */
  | { kind: 'prefix'; raw: string; prefix: number[]; range: string }
  /** Any other valid semver range: "^20.10", ">=18 <21", "~1.23". `range` is semver's normal form. */
  | { kind: 'range'; raw: string; range: string }
  /** "lts", "lts/*" (any LTS line), "lts/iron" (`codename` lower-cased). */
  | { kind: 'lts'; raw: string; codename?: string }
  /** "latest", "stable", "node", "current". */
  | { kind: 'latest'; raw: string };

/** One released version a provider offers. */
export interface VersionCandidate {
  /** As the provider spells it: "v22.11.0", "go1.22rc1", "1.20", "0.13.0". */
  version: string;
  /** Node's LTS codename ("Iron"), or false/absent when the release is not LTS. */
  lts?: string | false;
  /** Set by providers that know; semver prerelease tags ("-rc.1", "-dev.42") count too. */
  prerelease?: boolean;
}

// "stable" is rustup's and nvm's word for the newest stable release.
const LATEST_WORDS = new Set(['latest', 'node', 'current', 'stable']);
const NUMBER = '(0|[1-9]\\d*)';
const PREFIX = new RegExp(`^v?${NUMBER}(?:\\.${NUMBER})?$`);
// Go spells releases "1.20", "1.21.0", "1.22rc1", "1.9beta2" (optionally with a "go" prefix).
const GO_VERSION = new RegExp(`^(?:go)?${NUMBER}(?:\\.${NUMBER})?(?:\\.${NUMBER})?(?:(alpha|beta|rc)(\\d+))?$`);
// Longer than any real spec; semver refuses strings over 256 characters anyway.
const MAX_SPEC_LENGTH = 256;

/** Parses a version spec; throws EUSAGE with a message a person can act on when it is not one. */
export function parseVersionSpec(spec: string): VersionSpec {
  const parsed = tryParse(spec);
  if (typeof parsed === 'string') throw new QmError('EUSAGE', parsed, { found: spec });
  return parsed;
}

/** The problem with a version spec, or undefined when it is valid. Never throws. */
export function checkVersionSpec(spec: string): string | undefined {
  const parsed = tryParse(spec);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * A released version in semver form for comparison, or undefined when `raw` is not a full
 * release of `tool`. Go's "1.20" is the 1.20.0 release and "1.22rc1" is 1.22.0-rc.1; a leading
 * "v" (node) or "go" (go) is dropped. Build metadata is not kept (it does not order releases).
 */
export function normalizeVersion(tool: string, raw: string): string | undefined {
  const text = raw.trim();
  if (tool === 'go') return normalizeGoVersion(text);
  return semverOf(text.startsWith('v') ? text.slice(1) : text);
}

/**
 * The newest candidate the spec accepts, or undefined. Candidates whose version cannot be read
 * (as semver, or in Go's spelling) are skipped. Prereleases are chosen only by an exact spec
 * naming that prerelease. Among equal versions the first candidate wins.
 */
export function selectVersion<C extends VersionCandidate>(spec: VersionSpec | string, candidates: readonly C[]): C | undefined {
  const wanted = typeof spec === 'string' ? parseVersionSpec(spec) : spec;
  let best: { candidate: C; version: string } | undefined;
  for (const candidate of candidates) {
    const version = candidateVersion(candidate.version);
    if (version === undefined || !accepts(wanted, candidate, version)) continue;
    if (best === undefined || semver.gt(version, best.version)) best = { candidate, version };
  }
  return best?.candidate;
}

function accepts(spec: VersionSpec, candidate: VersionCandidate, version: string): boolean {
  if (spec.kind === 'exact') return semver.eq(version, spec.version);
  if (candidate.prerelease === true || semver.prerelease(version) !== null) return false;
  switch (spec.kind) {
    case 'prefix':
    case 'range':
      return semver.satisfies(version, spec.range);
    case 'lts':
      if (typeof candidate.lts !== 'string' || candidate.lts === '') return false;
      return spec.codename === undefined || candidate.lts.toLowerCase() === spec.codename;
    case 'latest':
      return true;
  }
}

/** Provider spellings are not tied to a tool here: semver first, then Go's forms. */
function candidateVersion(raw: string): string | undefined {
  return normalizeVersion('', raw) ?? normalizeGoVersion(raw.trim());
}

function tryParse(spec: string): VersionSpec | string {
  const raw = spec.trim();
  if (raw === '') return 'The version spec is empty: write a version such as "22", "22.11.0", "^20.10", "lts" or "latest"';
  if (raw.length > MAX_SPEC_LENGTH) return `The version spec is too long (${raw.length} characters)`;
  const word = raw.toLowerCase();
  if (LATEST_WORDS.has(word)) return { kind: 'latest', raw };
  if (word === 'lts' || word === 'lts/*') return { kind: 'lts', raw };
  if (word.startsWith('lts/')) {
    const codename = word.slice('lts/'.length);
    if (/^[a-z]+$/.test(codename)) return { kind: 'lts', raw, codename };
    return `"${raw}" is not an LTS spec: write "lts", "lts/*" or an LTS codename such as "lts/iron"`;
  }
  const prefix = PREFIX.exec(raw);
  if (prefix) {
    const numbers = [prefix[1], prefix[2]].filter((part): part is string => part !== undefined).map(Number);
    if (numbers.every(Number.isSafeInteger)) {
      return { kind: 'prefix', raw, prefix: numbers, range: `${numbers.join('.')}.x` };
    }
  }
  const exact = semverOf(raw.startsWith('v') ? raw.slice(1) : raw) ?? goPrerelease(raw) ?? pythonPrerelease(raw);
  if (exact !== undefined) return { kind: 'exact', raw, version: exact };
  // semver reads a range without any version in it ("||") as "*"; nobody means that.
  const range = /[\dxX*]/.test(raw) ? semver.validRange(raw) : null;
  if (range !== null) return { kind: 'range', raw, range };
  return (
    `"${raw}" is not a version spec: write an exact version ("22.11.0"), a prefix ("22"), ` +
    'a semver range ("^20.10", ">=18 <21"), "lts", "lts/<codename>" or "latest"'
  );
}

/** CPython's prerelease spellings ("3.14.0a3", "3.13.0rc2") as semver ("3.14.0-alpha.3"). */
function pythonPrerelease(raw: string): string | undefined {
  const match = /^(\d+\.\d+\.\d+)(a|b|rc)(\d+)$/.exec(raw);
  if (!match) return undefined;
  return semverOf(`${match[1]}-${match[2] === 'a' ? 'alpha' : match[2] === 'b' ? 'beta' : 'rc'}.${match[3]}`);
}

/** Go's prerelease spellings ("1.22rc1") as exact specs; "1.20" alone is a prefix, not this. */
function goPrerelease(raw: string): string | undefined {
  const match = GO_VERSION.exec(raw);
  return match?.[4] === undefined ? undefined : normalizeGoVersion(raw);
}

function normalizeGoVersion(raw: string): string | undefined {
  const match = GO_VERSION.exec(raw);
  if (!match) return semverOf(raw.startsWith('go') ? raw.slice(2) : raw);
  const [, major, minor = '0', patch = '0', tag, tagNumber] = match;
  const version = `${major}.${minor}.${patch}${tag === undefined ? '' : `-${tag}.${tagNumber}`}`;
  return semverOf(version);
}

function semverOf(text: string): string | undefined {
  return semver.valid(text) ?? undefined;
}
