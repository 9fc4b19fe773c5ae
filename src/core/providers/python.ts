import semver from 'semver';
import { QmError } from '../errors';
import type { Platform } from '../platform';
import { targetTriple } from './platform-names';
import { selectVersion, type VersionSpec } from '../resolve/version-spec';
import { noVersion, parseChecksums } from './github-releases';
import type { IndexCache } from './index-cache';
import { indexError, isRecord, parseJsonIndex } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

/** python-build-standalone's release downloads (uv's UV_PYTHON_INSTALL_MIRROR replaces the same base). */
export const PYTHON_DOWNLOADS = 'https://github.com/astral-sh/python-build-standalone/releases/download';
/** Names the newest release tag; published by the project on its latest-release branch. */
export const PYTHON_LATEST = 'https://raw.githubusercontent.com/astral-sh/python-build-standalone/latest-release/latest-release.json';

interface PythonRelease extends ToolRelease {
  /** The build tag, e.g. "20241219": a release of python-build-standalone carries many CPythons. */
  tag: string;
  /** Target triple -> asset name and digest. */
  builds: Record<string, { file: string; sha256: string }>;
}

const ASSET = /^cpython-(\d+\.\d+\.\d+)((?:a|b|rc)\d+)?\+(\d+)-([a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(?:-[a-z0-9_]+)?)-install_only\.tar\.gz$/;

/**
 * CPython from python-build-standalone (the builds uv and mise install): the newest release tag
 * from latest-release.json, then that release's SHA256SUMS, which names every
 * `cpython-<ver>+<tag>-<triple>-install_only.tar.gz` with its digest. A spec with a build tag
 * ("3.12.7+20241016") reads that release instead, so older patch levels stay installable.
 */
export class PythonProvider implements ToolProvider {
  readonly tool = 'python';

  constructor(private readonly indexes: IndexCache, readonly baseUrl: string = PYTHON_DOWNLOADS, private readonly latestUrl: string = PYTHON_LATEST) {}

  layout(platform: Platform): ToolLayout {
    const windows = platform.os === 'win32';
    return {
      platform: targetTriple(platform),
      stripComponents: 1,
      binDirs: windows ? ['.', 'Scripts'] : ['bin'],
      executables: windows ? ['python', 'pip'] : ['python3', 'python', 'pip3', 'pip'],
    };
  }

  async releases(request: ProviderRequest = {}): Promise<PythonRelease[]> {
    const tag = await this.latestTag(request);
    return this.releasesOf(tag, request);
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const triple = targetTriple(platform);
    const pinnedTag = spec.kind === 'exact' ? /\+(\d{8})$/.exec(spec.raw)?.[1] : undefined;
    const releases = pinnedTag ? await this.releasesOf(pinnedTag, request) : await this.releases(request);
    const release = selectVersion(spec, releases.filter((r) => triple in r.builds));
    const build = release?.builds[triple];
    if (!release || !build) {
      const any = selectVersion(spec, releases);
      throw noVersion('python', spec.raw, any
        ? `${any.upstreamVersion} has no install_only build for ${triple}`
        : `no CPython in python-build-standalone ${releases[0]?.tag ?? ''} matches (pin an older build as "<version>+<tag>")`);
    }
    return {
      ...this.layout(platform),
      tool: 'python',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: `${this.baseUrl}/${release.tag}/${build.file}`,
      sha256: build.sha256,
      archive: 'tar.gz',
      // A checksum file read from the cache may be stale: a download that does not match asks once more, afresh.
      recheck: (again = {}) => this.resolve({ kind: 'exact', raw: release.upstreamVersion, version: release.version }, platform, { ...again, refresh: true }),
    };
  }

  private async latestTag(request: ProviderRequest): Promise<string> {
    const url = this.latestUrl;
    return this.indexes.get(url, (body) => parseLatestRelease(body, url), request);
  }

  private releasesOf(tag: string, request: ProviderRequest): Promise<PythonRelease[]> {
    const url = `${this.baseUrl}/${tag}/SHA256SUMS`;
    return this.indexes.get(url, (body) => parsePythonSums(body, url, tag), request);
  }
}

/** latest-release.json: `{ "version": 1, "tag": "20241219", "release_url": ..., "asset_url_prefix": ... }`. */
export function parseLatestRelease(body: string, url: string): string {
  const data = parseJsonIndex(body, url);
  if (!isRecord(data) || typeof data.tag !== 'string') throw indexError(url, 'expected an object with a "tag"');
  if (!/^\d{8}$/.test(data.tag)) throw indexError(url, `"${data.tag}" is not a python-build-standalone release tag (YYYYMMDD)`);
  return data.tag;
}

/** One release per CPython version in a SHA256SUMS, newest first; other assets are passed over. */
export function parsePythonSums(body: string, url: string, tag: string): PythonRelease[] {
  const sums = parseChecksums(body, url);
  const byVersion = new Map<string, PythonRelease>();
  for (const [file, sha256] of Object.entries(sums)) {
    const match = ASSET.exec(file);
    if (!match) continue;
    const [, base, pre, assetTag, triple] = match;
    if (assetTag !== tag) throw indexError(url, `${file} belongs to release ${assetTag}, not ${tag}`);
    const version = pre ? `${base}-${preName(pre)}` : base!;
    let release = byVersion.get(version);
    if (!release) {
      release = { tool: 'python', version, upstreamVersion: `${base}${pre ?? ''}+${tag}`, lts: false, prerelease: pre !== undefined, tag, builds: {} };
      byVersion.set(version, release);
    }
    release.builds[triple!] = { file, sha256 };
  }
  if (byVersion.size === 0) throw indexError(url, 'it lists no cpython-<version>+<tag>-<triple>-install_only.tar.gz');
  return [...byVersion.values()].sort((a, b) => semver.rcompare(a.version, b.version));
}

/** CPython's "a1", "b2", "rc1" as semver prerelease tags that order the same way. */
function preName(pre: string): string {
  const match = /^(a|b|rc)(\d+)$/.exec(pre);
  if (!match) throw new QmError('EINDEX', `unknown prerelease "${pre}"`);
  return `${match[1] === 'a' ? 'alpha' : match[1] === 'b' ? 'beta' : 'rc'}.${match[2]}`;
}
