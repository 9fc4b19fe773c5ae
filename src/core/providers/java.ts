import semver from 'semver';
import { archiveKindOf } from '../archive';
import type { Platform } from '../platform';
import { adoptiumPlatform } from './platform-names';
import { selectVersion, type VersionSpec } from '../resolve/version-spec';
import { noVersion } from './github-releases';
import type { IndexCache } from './index-cache';
import { indexError, isRecord, parseJsonIndex } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolLayout, ToolProvider, ToolRelease } from './types';

export const ADOPTIUM_API = 'https://api.adoptium.net';

interface JavaBinary {
  os: string;
  architecture: string;
  name: string;
  link: string;
  sha256: string;
  size: number;
}

interface JavaRelease extends ToolRelease {
  major: number;
  binaries: JavaBinary[];
}

interface AvailableReleases {
  lts: number[];
  all: number[];
  mostRecentLts: number;
  mostRecentFeature: number;
}

/**
 * Eclipse Temurin JDKs through the Adoptium API v3: `info/available_releases` says which feature
 * releases exist and which are LTS; `assets/feature_releases/<major>/ga` lists a feature line's
 * GA builds with each binary's link (on GitHub) and SHA-256. Specs: "21", "21.0.5", "21.0.5+11",
 * "lts", "latest", ranges. JAVA_HOME is set to the tree (macOS: Contents/Home).
 */
export class JavaProvider implements ToolProvider {
  readonly tool = 'java';

  constructor(private readonly indexes: IndexCache, readonly baseUrl: string = ADOPTIUM_API) {}

  layout(platform: Platform): ToolLayout {
    const { os, architecture } = adoptiumPlatform(platform);
    const home = platform.os === 'darwin' ? 'Contents/Home' : '.';
    return {
      platform: `${os}-${architecture}`,
      stripComponents: 1,
      binDirs: [home === '.' ? 'bin' : `${home}/bin`],
      executables: ['java', 'javac', 'jar', 'jshell'],
      env: { JAVA_HOME: home },
    };
  }

  async releases(request: ProviderRequest = {}): Promise<JavaRelease[]> {
    const available = await this.available(request);
    const lines = await Promise.all(available.all.map((major) => this.featureReleases(major, available, request)));
    return lines.flat().sort((a, b) => semver.rcompare(a.version, b.version));
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const { os, architecture } = adoptiumPlatform(platform);
    const available = await this.available(request);
    const majors = majorsFor(spec, available).filter((major) => available.all.includes(major));
    if (majors.length === 0) throw noVersion('java', spec.raw, `no Temurin GA release matches (feature releases: ${available.all.join(', ')})`);
    const releases = (await Promise.all(majors.map((major) => this.featureReleases(major, available, request)))).flat();
    const binaryOf = (release: JavaRelease): JavaBinary | undefined => release.binaries.find((b) => b.os === os && b.architecture === architecture);
    const release = selectVersion(spec, releases.filter((r) => binaryOf(r) !== undefined));
    const binary = release && binaryOf(release);
    if (!release || !binary) {
      const any = selectVersion(spec, releases);
      throw noVersion('java', spec.raw, any ? `${any.upstreamVersion} has no JDK for ${os}-${architecture}` : `no Temurin GA release matches (feature releases: ${available.all.join(', ')})`);
    }
    const archive = archiveKindOf(binary.name);
    if (!archive) throw indexError(this.featureUrl(release.major), `unknown archive type ${binary.name}`);
    return {
      ...this.layout(platform),
      tool: 'java',
      version: release.version,
      upstreamVersion: release.upstreamVersion,
      url: binary.link,
      sha256: binary.sha256,
      ...(binary.size > 0 ? { size: binary.size } : {}),
      archive,
    };
  }

  private available(request: ProviderRequest): Promise<AvailableReleases> {
    const url = `${this.baseUrl}/v3/info/available_releases`;
    return this.indexes.get(url, (body) => parseAvailableReleases(body, url), request);
  }

  private featureUrl(major: number): string {
    return `${this.baseUrl}/v3/assets/feature_releases/${major}/ga?image_type=jdk&jvm_impl=hotspot&vendor=eclipse&page_size=100&sort_order=DESC`;
  }

  private featureReleases(major: number, available: AvailableReleases, request: ProviderRequest): Promise<JavaRelease[]> {
    const url = this.featureUrl(major);
    return this.indexes.get(url, (body) => parseFeatureReleases(body, url, major, available.lts.includes(major)), request);
  }
}

/** Which feature lines a spec can pick from: one for a prefix, exact, lts or latest; all for a range. */
function majorsFor(spec: VersionSpec, available: AvailableReleases): number[] {
  switch (spec.kind) {
    case 'exact':
      return [semver.major(spec.version)];
    case 'prefix':
      return [spec.prefix[0]!];
    case 'lts':
      return [available.mostRecentLts];
    case 'latest':
      return [available.mostRecentFeature];
    case 'range':
      return available.all;
  }
}

export function parseAvailableReleases(body: string, url: string): AvailableReleases {
  const data = parseJsonIndex(body, url);
  const numbers = (value: unknown): value is number[] => Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && (n as number) > 0);
  if (!isRecord(data) || !numbers(data.available_releases) || !numbers(data.available_lts_releases)) {
    throw indexError(url, 'expected "available_releases" and "available_lts_releases" arrays of feature versions');
  }
  if (!Number.isSafeInteger(data.most_recent_lts) || !Number.isSafeInteger(data.most_recent_feature_release)) {
    throw indexError(url, 'expected "most_recent_lts" and "most_recent_feature_release"');
  }
  return { lts: data.available_lts_releases, all: data.available_releases, mostRecentLts: data.most_recent_lts as number, mostRecentFeature: data.most_recent_feature_release as number };
}

/** One feature line's GA releases; a release must say its version and each binary its checksum. */
export function parseFeatureReleases(body: string, url: string, major: number, lts: boolean): JavaRelease[] {
  const data = parseJsonIndex(body, url);
  if (!Array.isArray(data)) throw indexError(url, 'expected an array of releases');
  const releases: JavaRelease[] = [];
  for (const [index, entry] of data.entries()) {
    if (!isRecord(entry) || typeof entry.release_name !== 'string' || !isRecord(entry.version_data)) {
      throw indexError(url, `release ${index + 1} has no "release_name" or "version_data"`);
    }
    const v = entry.version_data;
    const parts = [v.major, v.minor ?? 0, v.security ?? 0];
    if (!parts.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) || v.major !== major) {
      throw indexError(url, `${entry.release_name}: version_data is not a ${major}.x version`);
    }
    const binaries: JavaBinary[] = [];
    for (const binary of Array.isArray(entry.binaries) ? entry.binaries : []) {
      if (!isRecord(binary) || binary.image_type !== 'jdk' || !isRecord(binary.package)) continue;
      const pkg = binary.package;
      if (typeof pkg.link !== 'string' || typeof pkg.name !== 'string' || typeof binary.os !== 'string' || typeof binary.architecture !== 'string') continue;
      if (typeof pkg.checksum !== 'string' || !/^[0-9a-fA-F]{64}$/.test(pkg.checksum)) {
        throw indexError(url, `${entry.release_name}: the ${binary.os}-${binary.architecture} package ${pkg.name} has no SHA-256 "checksum"`);
      }
      binaries.push({
        os: binary.os,
        architecture: binary.architecture,
        name: pkg.name,
        link: pkg.link,
        sha256: pkg.checksum.toLowerCase(),
        size: typeof pkg.size === 'number' && Number.isSafeInteger(pkg.size) ? pkg.size : 0,
      });
    }
    const date = typeof entry.timestamp === 'string' ? /^\d{4}-\d{2}-\d{2}/.exec(entry.timestamp)?.[0] : undefined;
    releases.push({
      tool: 'java',
      version: parts.join('.'),
      upstreamVersion: entry.release_name.replace(/^jdk-?/, ''),
      ...(date ? { date } : {}),
      lts: lts ? String(major) : false,
      prerelease: false,
      major,
      binaries,
    });
  }
  return releases;
}
