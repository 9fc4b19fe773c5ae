import { QmError } from '../errors';
import { normalizeVersion } from '../resolve/version-spec';
import type { IndexCache } from './index-cache';
import { indexError, isRecord, parseJsonIndex } from './index-parsing';
import type { ProviderRequest } from './types';

export const GITHUB_API = 'https://api.github.com';
export const GITHUB_WEB = 'https://github.com';

/** One release asset as GitHub's releases API lists it. */
export interface GitHubAsset {
  name: string;
  /** `browser_download_url`: https://github.com/<repo>/releases/download/<tag>/<name>. */
  url: string;
  size: number;
  /** The API's `digest` ("sha256:<hex>"), lower-case hex; absent on older assets. */
  sha256?: string;
}

export interface GitHubRelease {
  tag: string;
  prerelease: boolean;
  /** YYYY-MM-DD of `published_at`. */
  date?: string;
  assets: GitHubAsset[];
}

/** GET /repos/{owner}/{repo}/releases: the newest 100 releases (drafts are never listed to us). */
export function releasesUrl(repo: string): string {
  return `${GITHUB_API}/repos/${repo}/releases?per_page=100`;
}

export function fetchGitHubReleases(indexes: IndexCache, repo: string, request: ProviderRequest = {}): Promise<GitHubRelease[]> {
  const url = releasesUrl(repo);
  return indexes.get(url, (body) => parseGitHubReleases(body, url), request);
}

/** Parses the releases API's JSON array; entries that are drafts or lack a tag are skipped. */
export function parseGitHubReleases(body: string, url: string): GitHubRelease[] {
  const data = parseJsonIndex(body, url);
  if (!Array.isArray(data)) throw indexError(url, 'expected an array of releases');
  const releases: GitHubRelease[] = [];
  for (const [index, entry] of data.entries()) {
    if (!isRecord(entry)) throw indexError(url, `release ${index + 1} is not an object`);
    if (typeof entry.tag_name !== 'string' || entry.tag_name === '') throw indexError(url, `release ${index + 1} has no "tag_name"`);
    if (entry.draft === true) continue;
    if (!Array.isArray(entry.assets)) throw indexError(url, `release ${entry.tag_name} has no "assets" array`);
    const assets: GitHubAsset[] = [];
    for (const asset of entry.assets) {
      if (!isRecord(asset) || typeof asset.name !== 'string' || typeof asset.browser_download_url !== 'string') {
        throw indexError(url, `an asset of release ${entry.tag_name} lacks "name" or "browser_download_url"`);
      }
      const digest = typeof asset.digest === 'string' ? /^sha256:([0-9a-fA-F]{64})$/.exec(asset.digest)?.[1]?.toLowerCase() : undefined;
      assets.push({
        name: asset.name,
        url: asset.browser_download_url,
        size: typeof asset.size === 'number' && Number.isSafeInteger(asset.size) && asset.size >= 0 ? asset.size : 0,
        ...(digest ? { sha256: digest } : {}),
      });
    }
    const published = typeof entry.published_at === 'string' ? /^\d{4}-\d{2}-\d{2}/.exec(entry.published_at)?.[0] : undefined;
    releases.push({ tag: entry.tag_name, prerelease: entry.prerelease === true, ...(published ? { date: published } : {}), assets });
  }
  return releases;
}

/** A tag's version in semver form: "v2.1.4", "bun-v1.1.38", "2.63.0" -> "2.1.4", ...; undefined when none. */
export function versionOfTag(tag: string, prefix = ''): string | undefined {
  if (prefix !== '' && !tag.startsWith(prefix)) return undefined;
  return normalizeVersion('', tag.slice(prefix.length));
}

/**
 * Checksums files in their common spellings: `<hex>  <name>` or `<hex> *<name>` lines
 * (sha256sum, SHASUMS256.txt, SHA256SUMS), a lone `<hex>` (a `.sha256` beside one file), or
 * PowerShell's `Hash : <hex>` (Deno's Windows-built `.sha256sum`). Returns name -> digest; a lone
 * digest is filed under `onlyFor`.
 */
export function parseChecksums(body: string, url: string, onlyFor?: string): Record<string, string> {
  const sums = Object.create(null) as Record<string, string>;
  const lines = body.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  for (const line of lines) {
    const pair = /^([0-9a-fA-F]{64})\s+\*?(\S.*)$/.exec(line);
    if (pair) {
      const name = pair[2]!.trim();
      sums[name.slice(name.lastIndexOf('/') + 1)] = pair[1]!.toLowerCase();
      continue;
    }
    const lone = /^(?:Hash\s*:\s*)?([0-9a-fA-F]{64})$/.exec(line);
    if (lone && onlyFor !== undefined) {
      sums[onlyFor] = lone[1]!.toLowerCase();
      continue;
    }
    if (/^(Algorithm|Path|Hash)\s*:/i.test(line) || /^-+$/.test(line)) continue;
    throw indexError(url, `"${line.slice(0, 80)}" is not a "<sha256>  <file>" line`);
  }
  return sums;
}

/** The digest of `file` in a checksums document, or EINDEX naming both. */
export function checksumOf(sums: Record<string, string>, file: string, url: string): string {
  const sha256 = sums[file];
  if (!sha256) throw indexError(url, `no checksum for ${file}`);
  return sha256;
}

export function noVersion(tool: string, spec: string, why: string): QmError {
  return new QmError('ENOVERSION', `${tool} "${spec}": ${why}`, { found: spec });
}
