import { createHash } from 'node:crypto';
import semver from 'semver';
import { QmError, isQmError } from '../errors';
import { parseTomlStrict, tomlValueOf } from '../manifest/toml-parser';
import type { Platform } from '../platform';
import { targetTriple } from './platform-names';
import { selectVersion, type VersionSpec } from '../resolve/version-spec';
import { noVersion } from './github-releases';
import type { IndexCache } from './index-cache';
import { indexError, isRecord } from './index-parsing';
import type { ProviderRequest, ResolvedToolchain, ToolchainComponent, ToolLayout, ToolProvider, ToolRelease } from './types';

export const RUST_DIST = 'https://static.rust-lang.org/dist';

/**
 * rustup's default profile, less rust-docs: rustc, cargo and rust-std always, rustfmt and clippy
 * wherever the channel has them for the target. One component set per toolchain keeps a
 * published tree immutable (rustup instead adds components into an installed toolchain).
 */
const REQUIRED = ['rustc', 'cargo', 'rust-std'] as const;
export const OPTIONAL_RUST_COMPONENTS = ['rustfmt', 'clippy'] as const;

interface ChannelTarget {
  url: string;
  hash: string;
}

/** A channel manifest (v2), reduced to what an install needs. */
export interface RustChannel {
  date: string;
  /** rustc's version, "1.83.0". */
  version: string;
  /** The manifest's own SHA-256: what qm.lock pins (it pins every component's hash in turn). */
  sha256: string;
  /** Package name -> target triple ('*' for target-independent ones) -> download. */
  packages: Record<string, Record<string, ChannelTarget>>;
  /** Old package name -> current name ("rustfmt" -> "rustfmt-preview", as [renames] say). */
  renames: Record<string, string>;
}

/**
 * Rust from the rustup dist server: `dist/channel-rust-<channel>.toml` (manifest v2) names each
 * component's archive and hash per target; rustc, cargo and rust-std-<target> (plus rustfmt and
 * clippy on request) are unpacked into one toolchain tree. Channels: an exact version
 * ("1.83.0"), a minor ("1.83"), or "stable"/"latest". qm.lock pins the channel manifest's digest.
 */
export class RustProvider implements ToolProvider {
  readonly tool = 'rust';

  constructor(private readonly indexes: IndexCache, readonly baseUrl: string = RUST_DIST) {}

  layout(platform: Platform): ToolLayout {
    return { platform: targetTriple(platform), stripComponents: 2, binDirs: ['bin'], executables: ['rustc', 'cargo', 'rustdoc', 'rustfmt', 'cargo-clippy'] };
  }

  /** The current stable release: the dist server keeps no list of every release. */
  async releases(request: ProviderRequest = {}): Promise<Array<ToolRelease & { channel: RustChannel }>> {
    const channel = await this.channel('stable', request);
    return [{ tool: 'rust', version: channel.version, upstreamVersion: channel.version, date: channel.date, lts: false, prerelease: false, channel }];
  }

  async resolve(spec: VersionSpec, platform: Platform, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const name = channelName(spec);
    const channel = await this.channel(name, request);
    const release = { version: channel.version };
    if (!selectVersion(spec, [release])) throw noVersion('rust', spec.raw, `channel-rust-${name}.toml is rust ${channel.version}`);
    return this.toolchain(channel, `${this.baseUrl}/channel-rust-${name}.toml`, platform);
  }

  /** qm.lock names the channel manifest and its digest: the same manifest, or EINTEGRITY. */
  async lockedToolchain(platform: Platform, locked: { version: string; url: string; sha256: string }, request: ProviderRequest = {}): Promise<ResolvedToolchain> {
    const channel = await this.indexes.get(locked.url, (body) => parseChannelManifest(body, locked.url), request);
    if (channel.sha256 !== locked.sha256) {
      throw new QmError('EINTEGRITY', `qm.lock pins ${locked.url} at ${locked.sha256}, but it now has ${channel.sha256}`, { url: locked.url, expected: locked.sha256, found: channel.sha256 });
    }
    return this.toolchain(channel, locked.url, platform);
  }

  private async channel(name: string, request: ProviderRequest): Promise<RustChannel> {
    const url = `${this.baseUrl}/channel-rust-${name}.toml`;
    try {
      return await this.indexes.get(url, (body) => parseChannelManifest(body, url), request);
    } catch (error) {
      if (isQmError(error, 'EHTTP') && error.details.status === 404) throw noVersion('rust', name, `the dist server has no channel-rust-${name}.toml`);
      throw error;
    }
  }

  private toolchain(channel: RustChannel, manifestUrl: string, platform: Platform): ResolvedToolchain {
    const triple = targetTriple(platform);
    const targetOf = (component: string): ChannelTarget | undefined => {
      const pkg = channel.packages[component] ?? channel.packages[channel.renames[component] ?? ''];
      return pkg?.[triple] ?? pkg?.['*'];
    };
    const parts: ToolchainComponent[] = [];
    for (const component of [...REQUIRED, ...OPTIONAL_RUST_COMPONENTS]) {
      const target = targetOf(component);
      if (!target) {
        if ((OPTIONAL_RUST_COMPONENTS as readonly string[]).includes(component)) continue;
        throw noVersion('rust', channel.version, `the ${channel.date} manifest has no ${component} for ${triple}`);
      }
      parts.push({ name: component, url: target.url, sha256: target.hash, archive: target.url.endsWith('.tar.xz') ? 'tar.xz' : 'tar.gz', stripComponents: 2 });
    }
    return {
      ...this.layout(platform),
      tool: 'rust',
      version: channel.version,
      upstreamVersion: channel.version,
      url: manifestUrl,
      sha256: channel.sha256,
      archive: 'tar.gz',
      components: parts,
    };
  }
}

/** "1.83.0" -> "1.83.0", "1.83" -> "1.83", latest/stable -> "stable"; ranges cannot name a channel. */
function channelName(spec: VersionSpec): string {
  switch (spec.kind) {
    case 'exact':
      return spec.version;
    case 'prefix':
      if (spec.prefix.length === 2) return spec.prefix.join('.');
      throw new QmError('ENOVERSION', `rust "${spec.raw}": name a minor ("1.83"), an exact version or "stable"`, { found: spec.raw });
    case 'latest':
      return 'stable';
    default:
      throw new QmError('ENOVERSION', `rust "${spec.raw}": the dist server publishes channels, not a list of releases; write "1.83", "1.83.0" or "stable"`, { found: spec.raw });
  }
}

/** manifest-version "2": [pkg.<name>.target.<triple>] with available, url and hash (tar.gz) or xz_url/xz_hash. */
export function parseChannelManifest(body: string, url: string): RustChannel {
  let data: unknown;
  try {
    data = tomlValueOf(parseTomlStrict(body));
  } catch (error) {
    throw new QmError('EINDEX', `The index at ${url} is not valid TOML: ${(error as Error).message}`, { url, cause: error });
  }
  if (!isRecord(data) || data['manifest-version'] !== '2') throw indexError(url, 'expected manifest-version = "2"');
  if (typeof data.date !== 'string' || !isRecord(data.pkg)) throw indexError(url, 'expected "date" and [pkg] tables');
  const packages: RustChannel['packages'] = {};
  for (const [name, pkg] of Object.entries(data.pkg)) {
    if (!isRecord(pkg) || !isRecord(pkg.target)) continue;
    const targets: Record<string, ChannelTarget> = {};
    for (const [triple, target] of Object.entries(pkg.target)) {
      if (!isRecord(target) || target.available !== true) continue;
      if (typeof target.url !== 'string' || typeof target.hash !== 'string' || !/^[0-9a-f]{64}$/.test(target.hash)) {
        throw indexError(url, `[pkg.${name}.target.${triple}] is available but has no url and SHA-256 hash`);
      }
      targets[triple] = { url: target.url, hash: target.hash };
    }
    packages[name] = targets;
  }
  const rustc = isRecord(data.pkg.rustc) && typeof data.pkg.rustc.version === 'string' ? data.pkg.rustc.version : undefined;
  const version = rustc ? semver.valid(rustc.split(' ')[0]!.replace(/-(beta|nightly).*$/, '')) : null;
  if (!version) throw indexError(url, '[pkg.rustc] has no version such as "1.83.0 (90b35a623 2024-11-26)"');
  const renames: Record<string, string> = {};
  if (isRecord(data.renames)) {
    for (const [from, rename] of Object.entries(data.renames)) if (isRecord(rename) && typeof rename.to === 'string') renames[from] = rename.to;
  }
  return { date: data.date, version, sha256: createHash('sha256').update(body, 'utf8').digest('hex'), packages, renames };
}
