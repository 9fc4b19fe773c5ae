import type { ArchiveKind } from '../archive';
import { QmError } from '../errors';
import type { Platform } from '../platform';
import { nodePlatform } from './platform-names';
import { normalizeVersion, selectVersion, type VersionSpec } from '../resolve/version-spec';
import type { SignatureVerifier } from '../signatures/verifier';
import type { IndexCache } from './index-cache';
import { indexError, isRecord, parseJsonIndex, parseShasums } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

export const NODE_DIST = 'https://nodejs.org/dist';

interface NodeRelease extends ToolRelease {
  /** index.json's `files`: 'linux-x64', 'osx-arm64-tar', 'win-x64-zip', ... */
  files: string[];
}

/** index.json's file key, the archive's platform part and its kinds (preferred first), per platform. */
function nodeTarget(platform: Platform, preferred: 'tar.gz' | 'tar.xz'): { key: string; name: string; archives: ArchiveKind[] } {
  const tarballs: ArchiveKind[] = preferred === 'tar.gz' ? ['tar.gz', 'tar.xz'] : ['tar.xz', 'tar.gz'];
  const name = nodePlatform(platform);
  if (platform.os === 'win32') return { key: `win-${platform.arch}-zip`, name, archives: ['zip'] };
  if (platform.os === 'darwin') return { key: `osx-${platform.arch}-tar`, name, archives: tarballs };
  return { key: `linux-${platform.arch}`, name, archives: tarballs };
}

/** Node.js from nodejs.org/dist (or a mirror of it): index.json and per-release SHASUMS256.txt. */
export class NodeProvider implements ToolProvider {
  readonly tool = 'node';

  constructor(
    private readonly indexes: IndexCache,
    readonly baseUrl: string = NODE_DIST,
    private readonly archive: 'tar.gz' | 'tar.xz' = 'tar.gz',
    private readonly signatures?: SignatureVerifier,
  ) {}

  layout(platform: Platform): ToolLayout {
    return {
      platform: nodeTarget(platform, this.archive).name,
      stripComponents: 1,
      binDirs: platform.os === 'win32' ? ['.'] : ['bin'],
      executables: ['node', 'npm', 'npx'],
    };
  }

  releases(request: ProviderRequest = {}): Promise<NodeRelease[]> {
    const url = `${this.baseUrl}/index.json`;
    return this.indexes.get(url, (body) => parseNodeIndex(body, url), request);
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const target = nodeTarget(platform, this.archive);
    const releases = await this.releases(request);
    const release = selectVersion(spec, releases.filter((r) => r.files.includes(target.key)));
    if (!release) {
      const any = selectVersion(spec, releases);
      const why = any ? `${any.upstreamVersion} has no build for ${target.name}` : 'no released version matches';
      throw new QmError('ENOVERSION', `node "${spec.raw}": ${why}`, { found: spec.raw });
    }
    const sumsUrl = `${this.baseUrl}/${release.upstreamVersion}/SHASUMS256.txt`;
    // SHASUMS256.txt.asc is the same list, clearsigned by a releaser: when it verifies, its text
    // is what is trusted. A release's checksums never change: keep them as long as the index itself.
    const signed = await this.signatures?.clearsigned('node', `${sumsUrl}.asc`, request);
    const sums = signed !== undefined ? parseShasums(signed, `${sumsUrl}.asc`) : await this.indexes.get(sumsUrl, (body) => parseShasums(body, sumsUrl), request);
    // Every kind the release lists: the preferred one is fetched, the other may be chosen by link speed.
    const files = target.archives.map((archive) => ({ archive, file: `node-${release.upstreamVersion}-${target.name}.${archive}` }));
    const listed = files.filter(({ file }) => sums[file] !== undefined).map(({ archive, file }) => ({ archive, sha256: sums[file]!, url: `${this.baseUrl}/${release.upstreamVersion}/${file}` }));
    const [primary, alternative] = listed;
    // The preferred archive missing may be a mirror caught mid-sync too: look once more before settling for the other.
    if (primary?.archive !== target.archives[0] && !request.refresh) return this.resolve(spec, platform, { ...request, refresh: true });
    if (!primary) throw indexError(this.indexes.source(sumsUrl), `no checksum for ${files.map(({ file }) => file).join(' or ')}`);
    return {
      ...this.layout(platform),
      tool: 'node',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: primary.url,
      sha256: primary.sha256,
      archive: primary.archive,
      ...(alternative ? { alternative } : {}),
      recheck: (again = {}) => this.resolve({ kind: 'exact', raw: release.upstreamVersion, version: release.version }, platform, { ...again, refresh: true }),
    };
  }
}

export function parseNodeIndex(body: string, url: string): NodeRelease[] {
  const data = parseJsonIndex(body, url);
  if (!Array.isArray(data)) throw indexError(url, 'expected an array of releases');
  const releases: NodeRelease[] = [];
  for (const entry of data) {
    if (!isRecord(entry) || typeof entry.version !== 'string') throw indexError(url, 'a release has no "version"');
    const version = normalizeVersion('node', entry.version);
    if (!version) continue;
    releases.push({
      tool: 'node',
      version,
      upstreamVersion: entry.version,
      ...(typeof entry.date === 'string' ? { date: entry.date } : {}),
      lts: typeof entry.lts === 'string' ? entry.lts : false,
      prerelease: version.includes('-'),
      files: Array.isArray(entry.files) ? entry.files.filter((f): f is string => typeof f === 'string') : [],
    });
  }
  return releases;
}
