import semver from 'semver';
import { archiveKindOf } from '../archive';
import { QmError } from '../errors';
import type { Platform } from '../platform';
import { zigPlatform } from './platform-names';
import { normalizeVersion, selectVersion, type VersionSpec } from '../resolve/version-spec';
import type { SignatureVerifier } from '../signatures/verifier';
import type { IndexCache } from './index-cache';
import { indexError, isRecord, parseJsonIndex } from './index-parsing';
import type { ArtifactSignature, ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

export const ZIG_DOWNLOAD = 'https://ziglang.org/download';

interface ZigTarget {
  tarball: string;
  shasum: string;
  /** Upstream writes it as a string of digits; absent when missing or not a byte count. */
  size?: number;
}

interface ZigRelease extends ToolRelease {
  targets: Record<string, ZigTarget>;
}

/** Zig from ziglang.org/download/index.json, which carries shasum and size per target. */
export class ZigProvider implements ToolProvider {
  readonly tool = 'zig';

  constructor(
    private readonly indexes: IndexCache,
    readonly baseUrl: string = ZIG_DOWNLOAD,
    private readonly signatures?: SignatureVerifier,
  ) {}

  /** Every Zig tarball has a minisign signature beside it (`<tarball>.minisig`). */
  signatureFor(url: string): ArtifactSignature | undefined {
    return this.signatures?.enabled ? { kind: 'minisign', url: `${url}.minisig`, tool: 'zig' } : undefined;
  }

  layout(platform: Platform): ToolLayout {
    return { platform: zigPlatform(platform), stripComponents: 1, binDirs: ['.'], executables: ['zig'] };
  }

  releases(request: ProviderRequest = {}): Promise<ZigRelease[]> {
    const url = `${this.baseUrl}/index.json`;
    return this.indexes.get(url, (body) => parseZigIndex(body, url), request);
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const key = this.layout(platform).platform;
    const releases = await this.releases(request);
    const release = selectVersion(spec, releases.filter((r) => key in r.targets));
    const target = release?.targets[key];
    if (!release || !target) {
      const any = selectVersion(spec, releases);
      const why = any ? `${any.upstreamVersion} has no build for ${key}` : 'no released version matches';
      throw new QmError('ENOVERSION', `zig "${spec.raw}": ${why}`, { found: spec.raw });
    }
    const signature = this.signatureFor(target.tarball);
    const archive = archiveKindOf(target.tarball);
    if (!archive) throw indexError(`${this.baseUrl}/index.json`, `unknown archive type ${target.tarball}`);
    return {
      ...this.layout(platform),
      tool: 'zig',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: target.tarball,
      sha256: target.shasum,
      ...(target.size !== undefined ? { size: target.size } : {}),
      archive,
      ...(signature ? { signature } : {}),
    };
  }
}

export function parseZigIndex(body: string, url: string): ZigRelease[] {
  const data = parseJsonIndex(body, url);
  if (!isRecord(data)) throw indexError(url, 'expected an object keyed by version');
  const releases: ZigRelease[] = [];
  for (const [name, entry] of Object.entries(data)) {
    // "master" is a moving development build, not a release a manifest can pin.
    if (name === 'master' || !isRecord(entry)) continue;
    const version = normalizeVersion('zig', name);
    if (!version) continue;
    const targets: Record<string, ZigTarget> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (isRecord(value) && typeof value.tarball === 'string' && typeof value.shasum === 'string' && /^[0-9a-f]{64}$/.test(value.shasum)) {
        const size = byteCount(value.size);
        targets[key] = { tarball: value.tarball, shasum: value.shasum, ...(size !== undefined ? { size } : {}) };
      }
    }
    releases.push({
      tool: 'zig',
      version,
      upstreamVersion: name,
      ...(typeof entry.date === 'string' ? { date: entry.date } : {}),
      lts: false,
      prerelease: version.includes('-'),
      targets,
    });
  }
  // The index is keyed by version in no promised order: newest first, like the others.
  return releases.sort((a, b) => semver.rcompare(a.version, b.version));
}

/** A declared size, as the string of digits upstream writes or a number; NaN would fail every download with ESIZE. */
function byteCount(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
