import type { Platform } from '../platform';
import { bunPlatform } from './platform-names';
import { selectVersion, type VersionSpec } from '../resolve/version-spec';
import type { SignatureVerifier } from '../signatures/verifier';
import { releasesFromTags } from './deno';
import { checksumOf, fetchGitHubReleases, noVersion, parseChecksums, type GitHubAsset } from './github-releases';
import type { IndexCache } from './index-cache';
import { indexError } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

export const BUN_REPO = 'oven-sh/bun';

interface BunRelease extends ToolRelease {
  assets: GitHubAsset[];
}

/**
 * Bun from its GitHub releases (tags "bun-v1.1.38"): `bun-<os>-<arch>.zip` holding
 * `bun-<os>-<arch>/bun`, checked against the release's SHASUMS256.txt, itself checked against
 * SHASUMS256.txt.asc (OpenPGP) when a key is trusted for Bun.
 */
export class BunProvider implements ToolProvider {
  readonly tool = 'bun';
  readonly baseUrl = `https://github.com/${BUN_REPO}`;

  constructor(private readonly indexes: IndexCache, private readonly signatures?: SignatureVerifier) {}

  layout(platform: Platform): ToolLayout {
    return { platform: bunPlatform(platform), stripComponents: 1, binDirs: ['.'], executables: ['bun'] };
  }

  async releases(request: ProviderRequest = {}): Promise<BunRelease[]> {
    return releasesFromTags('bun', await fetchGitHubReleases(this.indexes, BUN_REPO, request), 'bun-v');
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const target = bunPlatform(platform);
    const name = `${target}.zip`;
    const releases = await this.releases(request);
    const release = selectVersion(spec, releases.filter((r) => r.assets.some((a) => a.name === name)));
    const asset = release?.assets.find((a) => a.name === name);
    if (!release || !asset) {
      const any = selectVersion(spec, releases);
      throw noVersion('bun', spec.raw, any ? `${any.upstreamVersion} has no ${name}` : 'no released version matches');
    }
    const sumsAsset = release.assets.find((a) => a.name === 'SHASUMS256.txt');
    if (!sumsAsset) throw indexError(asset.url, `release ${release.upstreamVersion} has no SHASUMS256.txt`);
    const sumsUrl = sumsAsset.url;
    // The signed text is what is trusted when a signature is checked; else the plain file.
    const signed = await this.signatures?.clearsigned('bun', `${sumsUrl}.asc`, request);
    const sums = signed !== undefined
      ? parseChecksums(signed, `${sumsUrl}.asc`)
      : await this.indexes.get(sumsUrl, (body) => parseChecksums(body, sumsUrl), request);
    return {
      ...this.layout(platform),
      tool: 'bun',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: asset.url,
      sha256: checksumOf(sums, name, sumsUrl),
      ...(asset.size > 0 ? { size: asset.size } : {}),
      archive: 'zip',
      // A checksum file read from the cache may be stale: a download that does not match asks once more, afresh.
      recheck: (again = {}) => this.resolve({ kind: 'exact', raw: release.upstreamVersion, version: release.version }, platform, { ...again, refresh: true }),
    };
  }
}
