import semver from 'semver';
import type { Platform } from '../platform';
import { targetTriple } from './platform-names';
import { selectVersion, type VersionSpec } from '../resolve/version-spec';
import { checksumOf, fetchGitHubReleases, noVersion, parseChecksums, versionOfTag, type GitHubAsset, type GitHubRelease } from './github-releases';
import type { IndexCache } from './index-cache';
import { indexError } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

export const DENO_REPO = 'denoland/deno';

interface DenoRelease extends ToolRelease {
  assets: GitHubAsset[];
}

/**
 * Deno from its GitHub releases (tags "v2.1.4"): `deno-<triple>.zip`, the binary alone at the
 * zip's root, checked against the `deno-<triple>.zip.sha256sum` published beside it.
 */
export class DenoProvider implements ToolProvider {
  readonly tool = 'deno';
  readonly baseUrl = `https://github.com/${DENO_REPO}`;

  constructor(private readonly indexes: IndexCache) {}

  layout(platform: Platform): ToolLayout {
    return { platform: targetTriple(platform), stripComponents: 0, binDirs: ['.'], executables: ['deno'] };
  }

  async releases(request: ProviderRequest = {}): Promise<DenoRelease[]> {
    return releasesFromTags('deno', await fetchGitHubReleases(this.indexes, DENO_REPO, request), 'v');
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const name = `deno-${targetTriple(platform)}.zip`;
    const releases = await this.releases(request);
    const release = selectVersion(spec, releases.filter((r) => r.assets.some((a) => a.name === name)));
    const asset = release?.assets.find((a) => a.name === name);
    if (!release || !asset) {
      const any = selectVersion(spec, releases);
      throw noVersion('deno', spec.raw, any ? `${any.upstreamVersion} has no ${name}` : 'no released version matches');
    }
    const sidecar = release.assets.find((a) => a.name === `${name}.sha256sum`);
    let sha256 = asset.sha256;
    if (sidecar) {
      const sums = await this.indexes.get(sidecar.url, (body) => parseChecksums(body, sidecar.url, name), request);
      sha256 = checksumOf(sums, name, sidecar.url);
    }
    if (!sha256) throw indexError(asset.url, `release ${release.upstreamVersion} publishes no checksum for ${name} (no ${name}.sha256sum, no digest)`);
    return {
      ...this.layout(platform),
      tool: 'deno',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: asset.url,
      sha256,
      ...(asset.size > 0 ? { size: asset.size } : {}),
      archive: 'zip',
      // A checksum file read from the cache may be stale: a download that does not match asks once more, afresh.
      recheck: (again = {}) => this.resolve({ kind: 'exact', raw: release.upstreamVersion, version: release.version }, platform, { ...again, refresh: true }),
    };
  }
}

/** Releases whose tag reads as a version after `prefix`, newest first. */
export function releasesFromTags<T extends string>(tool: T, releases: readonly GitHubRelease[], prefix: string): Array<ToolRelease & { assets: GitHubAsset[] }> {
  const result: Array<ToolRelease & { assets: GitHubAsset[] }> = [];
  for (const release of releases) {
    const version = versionOfTag(release.tag, prefix);
    if (!version) continue;
    result.push({
      tool,
      version,
      upstreamVersion: release.tag,
      ...(release.date ? { date: release.date } : {}),
      lts: false,
      prerelease: release.prerelease || version.includes('-'),
      assets: release.assets,
    });
  }
  return result.sort((a, b) => semver.rcompare(a.version, b.version));
}
