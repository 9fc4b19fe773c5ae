import type { ArchiveKind } from '../archive';
import type { Platform } from '../platform';
import type { VersionSpec } from '../resolve/version-spec';

export type ToolName = 'node' | 'go' | 'zig';

/** One release as a provider's index lists it. */
export interface ToolRelease {
  tool: ToolName;
  /** Semver spelling for comparison: "22.11.0", "1.22.0-rc.1". */
  version: string;
  /** The provider's own spelling: "v22.11.0", "go1.22rc1", "0.13.0". */
  upstreamVersion: string;
  /** Release day, YYYY-MM-DD, when the index says. */
  date?: string;
  /** LTS codename (Node), false otherwise. */
  lts: string | false;
  prerelease: boolean;
}

/** Everything needed to fetch, verify and unpack one toolchain for one platform. */
export interface ResolvedToolchain {
  tool: ToolName;
  version: string;
  upstreamVersion: string;
  /** The provider's platform spelling: "linux-x64", "linux-amd64", "x86_64-linux". */
  platform: string;
  url: string;
  sha256: string;
  /** Bytes, when the index declares it (Go, Zig); Node's index does not. */
  size?: number;
  archive: ArchiveKind;
  /** The archive's single top directory, stripped on extraction. */
  stripComponents: number;
  /** Directories, relative to the unpacked root, that go on PATH. */
  binDirs: string[];
  /** Programs a toolchain provides, for `qm which` and checking an unpacked tree. */
  executables: string[];
  /**
   * Set when `sha256` came from a cached index (not from qm.lock): resolves this same release
   * again with its indexes fetched afresh. A download that does not match asks this once: a bad
   * or stale checksum file would otherwise stay cached for an hour.
   */
  recheck?: (request?: ProviderRequest) => Promise<ResolvedToolchain>;
}

/** Where things are in a toolchain for one platform, whatever its version. */
export interface ToolLayout {
  /** The provider's platform spelling. */
  platform: string;
  stripComponents: number;
  binDirs: string[];
  executables: string[];
}

export interface ProviderRequest {
  signal?: AbortSignal;
  /** Ignore the index cache's freshness and fetch again. */
  refresh?: boolean;
}

export interface ToolProvider {
  readonly tool: ToolName;
  /** The base URL the index and downloads come from (after QM_MIRROR_* and settings). */
  readonly baseUrl: string;
  layout(platform: Platform): ToolLayout;
  /** Every release, newest first. */
  releases(request?: ProviderRequest): Promise<ToolRelease[]>;
  /** The newest release matching `spec`, with its download for `platform`; ENOVERSION if none. */
  resolve(spec: VersionSpec, platform: Platform, request?: ProviderRequest): Promise<ResolvedToolchain>;
}
