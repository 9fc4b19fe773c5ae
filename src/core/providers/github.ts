import semver from 'semver';
import { archiveKindOf } from '../archive';
import { QmError } from '../errors';
import { platformId, type Platform } from '../platform';
import { normalizeVersion, selectVersion, type VersionSpec } from '../resolve/version-spec';
import { GITHUB_TOOL } from '../tools/catalog';
import type { FirstDownloads } from './first-download';
import { checksumOf, fetchGitHubReleases, noVersion, parseChecksums, type GitHubAsset } from './github-releases';
import type { IndexCache } from './index-cache';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolOptions, ToolProvider, ToolRelease } from './types';

interface RepoRelease extends ToolRelease {
  assets: GitHubAsset[];
}

const OS_WORDS: Record<Platform['os'], string[]> = {
  linux: ['linux'],
  darwin: ['darwin', 'macos', 'apple', 'osx', 'mac'],
  win32: ['windows', 'win64', 'win'],
};
/** Spellings after x86_64/x86-64 are read as amd64 and aarch64 as arm64. */
const ARCH_WORDS: Record<Platform['arch'], string[]> = {
  x64: ['amd64', 'x64'],
  arm64: ['arm64'],
};
/** A macOS build for both architectures. */
const UNIVERSAL = ['universal', 'all'];
const CHECKSUMS = /^(?:.*[._-])?(?:checksums?|sha256sums?|shasums256|sha256)(?:\.txt)?$/i;

/** The generic backend: one provider per `github:owner/repo`, made on first use. */
export class GitHubBackend {
  private readonly repos = new Map<string, GitHubReleaseProvider>();

  constructor(private readonly indexes: IndexCache, private readonly firstDownloads?: FirstDownloads) {}

  forTool(tool: string): GitHubReleaseProvider {
    const match = GITHUB_TOOL.exec(tool);
    if (!match) throw new QmError('ENOTOOL', `"${tool}" is not github:<owner>/<repo>`, { found: tool });
    let provider = this.repos.get(tool);
    if (!provider) {
      provider = new GitHubReleaseProvider(this.indexes, `${match[1]}/${match[2]}`, this.firstDownloads);
      this.repos.set(tool, provider);
    }
    return provider;
  }
}

/**
 * Any GitHub release: versions from its tags ("v1.2.3", "1.2.3", "cli-v1.2.3"), the archive for
 * this platform by the `asset` option or by guessing from the usual names (os and arch words, as
 * ubi and aqua do), its digest from a checksums asset, a `.sha256` beside it, or the API's own
 * digest; with none of those, trust on first use (FirstDownloads), said so in qm.lock's output.
 */
export class GitHubReleaseProvider implements ToolProvider {
  readonly tool: string;
  readonly baseUrl: string;

  constructor(private readonly indexes: IndexCache, readonly repo: string, private readonly firstDownloads?: FirstDownloads) {
    this.tool = `github:${repo}`;
    this.baseUrl = `https://github.com/${repo}`;
  }

  /** The archive's root and bin/ go on PATH; `bin` names the program (for `qm which` and the unpacked tree's check). */
  layout(platform: Platform, options: ToolOptions = {}): ToolLayout {
    const executables = typeof options.bin === 'string' ? [options.bin] : [];
    return { platform: platformId(platform), stripComponents: 0, hoistSingleDirectory: true, binDirs: ['.', 'bin'], executables };
  }

  async releases(request: ProviderRequest = {}): Promise<RepoRelease[]> {
    const releases: RepoRelease[] = [];
    for (const release of await fetchGitHubReleases(this.indexes, this.repo, request)) {
      const version = normalizeVersion('', release.tag.replace(/^[^\d]*/, ''));
      if (!version) continue;
      releases.push({ tool: this.tool, version, upstreamVersion: release.tag, ...(release.date ? { date: release.date } : {}), lts: false, prerelease: release.prerelease || version.includes('-'), assets: release.assets });
    }
    return releases.sort((a, b) => semver.rcompare(a.version, b.version));
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}, options: ToolOptions = {}): Promise<ResolvedToolchain> {
    const releases = await this.releases(request);
    const withAsset = releases.map((release) => ({ release, asset: pickAsset(release, platform, options) }));
    const chosen = selectVersion(spec, withAsset.filter((r) => r.asset !== undefined).map((r) => ({ ...r.release, asset: r.asset! })));
    if (!chosen) {
      const any = selectVersion(spec, releases);
      const why = any
        ? `${any.upstreamVersion} has no archive for ${platformId(platform)} among ${any.assets.map((a) => a.name).join(', ') || 'no assets'}; name it with asset = "..."`
        : 'no release tag reads as a matching version';
      throw noVersion(this.tool, spec.raw, why);
    }
    const { asset } = chosen;
    const archive = archiveKindOf(asset.name)!;
    const found = await this.checksum(chosen, asset, options, request);
    return {
      ...this.layout(platform, options),
      tool: this.tool,
      version: chosen.version,
      upstreamVersion: chosen.upstreamVersion,
      url: asset.url,
      sha256: found.sha256,
      ...(asset.size > 0 ? { size: asset.size } : {}),
      archive,
      ...(found.firstUse ? { trustedOnFirstUse: true } : {}),
    };
  }

  /** Where the asset's digest comes from, most trusted first. */
  private async checksum(release: RepoRelease, asset: GitHubAsset, options: ToolOptions, request: ProviderRequest): Promise<{ sha256: string; firstUse?: true }> {
    const named = typeof options.checksums === 'string' ? expand(options.checksums, release) : undefined;
    const sumsAsset = named !== undefined ? release.assets.find((a) => a.name === named) : release.assets.find((a) => CHECKSUMS.test(a.name));
    if (named !== undefined && !sumsAsset) throw noVersion(this.tool, release.upstreamVersion, `the release has no checksums asset "${named}"`);
    if (sumsAsset) {
      const sums = await this.indexes.get(sumsAsset.url, (body) => parseChecksums(body, sumsAsset.url), request);
      return { sha256: checksumOf(sums, asset.name, sumsAsset.url) };
    }
    const beside = release.assets.find((a) => a.name === `${asset.name}.sha256` || a.name === `${asset.name}.sha256sum`);
    if (beside) {
      const sums = await this.indexes.get(beside.url, (body) => parseChecksums(body, beside.url, asset.name), request);
      return { sha256: checksumOf(sums, asset.name, beside.url) };
    }
    if (asset.sha256) return { sha256: asset.sha256 };
    if (!this.firstDownloads) throw noVersion(this.tool, release.upstreamVersion, `${asset.name} has no published checksum; pin its sha256 in qm.lock`);
    const first = await this.firstDownloads.digestOf(asset.url, request.signal);
    return { sha256: first.sha256, firstUse: true };
  }
}

/** `{version}` (the tag's version) and `{tag}` in an asset or checksums name. */
function expand(pattern: string, release: RepoRelease): string {
  return pattern.replaceAll('{version}', release.upstreamVersion.replace(/^[^\d]*/, '')).replaceAll('{tag}', release.upstreamVersion);
}

/** The archive for `platform`: the `asset` option (one name, or one per platform id), else the best guess. */
export function pickAsset(release: RepoRelease, platform: Platform, options: ToolOptions): GitHubAsset | undefined {
  const option = options.asset;
  const pattern = typeof option === 'string' ? option : option?.[platformId(platform)];
  if (pattern !== undefined) return release.assets.find((a) => a.name === expand(pattern, release));
  if (option !== undefined) return undefined;
  const scored = release.assets
    .filter((asset) => archiveKindOf(asset.name) !== undefined && !CHECKSUMS.test(asset.name))
    .map((asset) => ({ asset, score: score(asset.name.toLowerCase(), platform) }))
    .filter((candidate) => candidate.score > 0)
    .sort((a, b) => b.score - a.score);
  return scored[0]?.asset;
}

/** 0: not for this platform. Otherwise higher is better: the right arch named, musl (static) on Linux, tar over zip off Windows. */
function score(name: string, platform: Platform): number {
  const normalized = name.toLowerCase().replace(/x86[_-]64/g, 'amd64').replace(/aarch64/g, 'arm64');
  const tokens = new Set(normalized.split(/[^a-z0-9]+/));
  const has = (words: readonly string[]): boolean => words.some((word) => tokens.has(word));
  if (!has(OS_WORDS[platform.os])) return 0;
  for (const [os, words] of Object.entries(OS_WORDS) as Array<[Platform['os'], string[]]>) if (os !== platform.os && has(words)) return 0;
  const other = platform.arch === 'x64' ? ARCH_WORDS.arm64 : ARCH_WORDS.x64;
  let value: number;
  if (has(ARCH_WORDS[platform.arch])) value = 10;
  else if (has(other)) return 0;
  else value = platform.os === 'darwin' && has(UNIVERSAL) ? 8 : 5;
  if (platform.os === 'linux' && tokens.has('musl')) value += 2;
  if (platform.os !== 'win32' && /\.(tar\.(gz|xz)|tgz)$/.test(name)) value += 1;
  return value;
}
