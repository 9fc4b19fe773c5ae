import { platformId, type Platform } from '../platform';
import type { BuiltInTool } from '../tools/catalog';

/**
 * Each tool's spelling of a platform, in one place: the providers build their download names
 * and their trees' directory names (toolchains/<tool>/<version>-<platform>) from these, and the
 * CLI's small entry finds a toolchain's directory and lock from `storePlatform` without loading
 * any provider.
 */

/** Node's archive names: linux-x64, darwin-arm64, win-x64. */
export function nodePlatform(platform: Platform): string {
  return platform.os === 'win32' ? `win-${platform.arch}` : `${platform.os}-${platform.arch}`;
}

/** Go's GOOS and GOARCH. */
export function goPlatform(platform: Platform): { os: string; arch: string } {
  return { os: platform.os === 'win32' ? 'windows' : platform.os, arch: platform.arch === 'x64' ? 'amd64' : 'arm64' };
}

/** Zig's: x86_64-linux, aarch64-macos. */
export function zigPlatform(platform: Platform): string {
  const os = platform.os === 'win32' ? 'windows' : platform.os === 'darwin' ? 'macos' : 'linux';
  return `${platform.arch === 'x64' ? 'x86_64' : 'aarch64'}-${os}`;
}

/** Adoptium's API names. */
export function adoptiumPlatform(platform: Platform): { os: string; architecture: string } {
  return { os: platform.os === 'win32' ? 'windows' : platform.os === 'darwin' ? 'mac' : 'linux', architecture: platform.arch === 'x64' ? 'x64' : 'aarch64' };
}

/** The LLVM target triple Rust, Deno and python-build-standalone name their builds by. */
export function targetTriple(platform: Platform): string {
  const arch = platform.arch === 'x64' ? 'x86_64' : 'aarch64';
  if (platform.os === 'linux') return `${arch}-unknown-linux-gnu`;
  if (platform.os === 'darwin') return `${arch}-apple-darwin`;
  return `${arch}-pc-windows-msvc`;
}

/** Bun's asset names: bun-linux-x64, bun-darwin-aarch64. */
export function bunPlatform(platform: Platform): string {
  const os = platform.os === 'win32' ? 'windows' : platform.os;
  return `bun-${os}-${platform.arch === 'x64' ? 'x64' : 'aarch64'}`;
}

/** The platform part of a toolchain's directory name; GitHub release tools use Node's names (linux-x64). */
export function storePlatform(tool: BuiltInTool | `github:${string}`, platform: Platform): string {
  switch (tool) {
    case 'node':
      return nodePlatform(platform);
    case 'go': {
      const { os, arch } = goPlatform(platform);
      return `${os}-${arch}`;
    }
    case 'zig':
      return zigPlatform(platform);
    case 'java': {
      const { os, architecture } = adoptiumPlatform(platform);
      return `${os}-${architecture}`;
    }
    case 'python':
    case 'rust':
    case 'deno':
      return targetTriple(platform);
    case 'bun':
      return bunPlatform(platform);
    default:
      return platformId(platform);
  }
}
