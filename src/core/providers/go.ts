import { QmError } from '../errors';
import type { Platform } from '../platform';
import { goPlatform } from './platform-names';
import { normalizeVersion, selectVersion, type VersionSpec } from '../resolve/version-spec';
import type { IndexCache } from './index-cache';
import { indexError, isRecord, parseJsonIndex } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

export const GO_DL = 'https://go.dev/dl';

interface GoFile {
  filename: string;
  os: string;
  arch: string;
  sha256: string;
  size: number;
  kind: string;
}

interface GoRelease extends ToolRelease {
  files: GoFile[];
}

/** Go from go.dev/dl's JSON index (?mode=json&include=all), which carries sha256 and size. */
export class GoProvider implements ToolProvider {
  readonly tool = 'go';

  constructor(private readonly indexes: IndexCache, readonly baseUrl: string = GO_DL) {}

  layout(platform: Platform): ToolLayout {
    const { os, arch } = goPlatform(platform);
    return { platform: `${os}-${arch}`, stripComponents: 1, binDirs: ['bin'], executables: ['go', 'gofmt'] };
  }

  releases(request: ProviderRequest = {}): Promise<GoRelease[]> {
    const url = `${this.baseUrl}/?mode=json&include=all`;
    return this.indexes.get(url, (body) => parseGoIndex(body, url), request);
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const { os, arch } = goPlatform(platform);
    const archiveOf = (release: GoRelease): GoFile | undefined =>
      release.files.find((f) => f.kind === 'archive' && f.os === os && f.arch === arch);
    const releases = await this.releases(request);
    const release = selectVersion(spec, releases.filter((r) => archiveOf(r) !== undefined));
    const file = release && archiveOf(release);
    if (!release || !file) {
      const any = selectVersion(spec, releases);
      const why = any ? `${any.upstreamVersion} has no archive for ${os}-${arch}` : 'no released version matches';
      throw new QmError('ENOVERSION', `go "${spec.raw}": ${why}`, { found: spec.raw });
    }
    return {
      ...this.layout(platform),
      tool: 'go',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: `${this.baseUrl}/${file.filename}`,
      sha256: file.sha256,
      size: file.size,
      archive: file.filename.endsWith('.zip') ? 'zip' : 'tar.gz',
    };
  }
}

export function parseGoIndex(body: string, url: string): GoRelease[] {
  const data = parseJsonIndex(body, url);
  if (!Array.isArray(data)) throw indexError(url, 'expected an array of releases');
  const releases: GoRelease[] = [];
  for (const entry of data) {
    if (!isRecord(entry) || typeof entry.version !== 'string') throw indexError(url, 'a release has no "version"');
    const version = normalizeVersion('go', entry.version);
    if (!version) continue;
    const files = Array.isArray(entry.files) ? entry.files.filter(isGoFile) : [];
    releases.push({ tool: 'go', version, upstreamVersion: entry.version, lts: false, prerelease: version.includes('-') || entry.stable === false, files });
  }
  return releases;
}

function isGoFile(value: unknown): value is GoFile {
  return (
    isRecord(value) &&
    typeof value.filename === 'string' &&
    typeof value.os === 'string' &&
    typeof value.arch === 'string' &&
    typeof value.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(value.sha256) &&
    typeof value.size === 'number' &&
    typeof value.kind === 'string'
  );
}
