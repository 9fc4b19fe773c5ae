import type { ArchiveKind } from '../archive';
import type { Platform } from '../platform';
import type { VersionSpec } from '../resolve/version-spec';

import type { BuiltInTool } from '../tools/catalog';

/** A tool with a provider of its own (tools/catalog.ts); `github:owner/repo` tools are plain strings. */
export type ToolName = BuiltInTool;

import type { ArtifactSignature } from '../signatures/artifact-signature';

export type { ArtifactSignature };

import type { ToolOptions } from '../tools/options';

export type { ToolOptions };


/** One release as a provider's index lists it. */
export interface ToolRelease {
  tool: string;
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

/** One archive of a toolchain made of several (Rust's rustc, cargo, rust-std-<target>, ...). */
export interface ToolchainComponent {
  name: string;
  url: string;
  sha256: string;
  size?: number;
  archive: ArchiveKind;
  stripComponents: number;
}

/** Everything needed to fetch, verify and unpack one toolchain for one platform. */
export interface ResolvedToolchain {
  tool: string;
  version: string;
  upstreamVersion: string;
  /** The provider's platform spelling: "linux-x64", "linux-amd64", "x86_64-linux". */
  platform: string;
  url: string;
  sha256: string;
  /** Bytes, when the index declares it (Go, Zig); Node's index does not. */
  size?: number;
  archive: ArchiveKind;
  /**
   * The same tree in another archive (Node.js: .tar.xz beside .tar.gz), verified by its own
   * digest. The installer may fetch it instead when it is the cheaper one for this link.
   */
  alternative?: ArchiveAlternative;
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
  /**
   * Variables a toolchain sets where it is used (terminals, tasks, `qm exec`, `qm env`), as paths
   * relative to the unpacked root: Java's `{ JAVA_HOME: "." }`.
   */
  env?: Record<string, string>;
  /** Checked after the download and before the tree is published; absent where upstream signs nothing per file. */
  signature?: ArtifactSignature;
  /** Archives that may or may not have one top directory (any GitHub release): a lone top directory is lifted. */
  hoistSingleDirectory?: boolean;
  /** No checksum is published: `sha256` is the digest of the first download, recorded then (trust on first use). */
  trustedOnFirstUse?: boolean;
  /**
   * A toolchain of several archives merged into one tree; then `url` and `sha256` name the
   * document that pins them all (Rust's channel manifest), which is what qm.lock records.
   */
  components?: ToolchainComponent[];
}

export interface ArchiveAlternative {
  url: string;
  sha256: string;
  archive: ArchiveKind;
  size?: number;
}

/** Where things are in a toolchain for one platform, whatever its version. */
export interface ToolLayout {
  /** The provider's platform spelling. */
  platform: string;
  stripComponents: number;
  binDirs: string[];
  executables: string[];
  env?: Record<string, string>;
  hoistSingleDirectory?: boolean;
}

export interface ProviderRequest {
  signal?: AbortSignal;
  /** Ignore the index cache's freshness and fetch again. */
  refresh?: boolean;
}

export interface ToolProvider {
  readonly tool: string;
  /** The base URL the index and downloads come from (after QM_MIRROR_* and settings). */
  readonly baseUrl: string;
  layout(platform: Platform, options?: ToolOptions): ToolLayout;
  /** Every release, newest first. */
  releases(request?: ProviderRequest): Promise<ToolRelease[]>;
  /** The signature to check for a download recorded in qm.lock, where upstream signs each file. */
  signatureFor?(url: string): ArtifactSignature | undefined;
  /** For tools whose qm.lock entry pins a document rather than an archive (Rust): rebuilds the toolchain from it. */
  lockedToolchain?(platform: Platform, locked: { version: string; url: string; sha256: string; size?: number }, request?: ProviderRequest): Promise<ResolvedToolchain>;
  /** The newest release matching `spec`, with its download for `platform`; ENOVERSION if none. */
  resolve(spec: VersionSpec, platform: Platform, request?: ProviderRequest, options?: ToolOptions): Promise<ResolvedToolchain>;
}
