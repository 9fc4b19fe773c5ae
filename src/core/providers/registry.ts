import { archiveKindOf } from '../archive';
import { QmError } from '../errors';
import type { MirrorRule } from '../fetch/types';
import type { Platform } from '../platform';
import type { SignatureVerifier } from '../signatures/verifier';
import { BunProvider } from './bun';
import { GITHUB_MIRROR, MIRROR_KEYS, TOOLS, TOOL_NAMES, isBuiltInTool, isGithubTool, isKnownTool, type ToolInfo } from '../tools/catalog';
import type { FirstDownloads } from './first-download';
import { GitHubBackend } from './github';
import { DenoProvider } from './deno';
import { GoProvider, GO_DL } from './go';
import type { IndexCache } from './index-cache';
import { JavaProvider } from './java';
import { NodeProvider, NODE_DIST } from './node';
import { PythonProvider } from './python';
import { RustProvider } from './rust';
import type { ResolvedToolchain, ToolName, ToolOptions, ToolProvider } from './types';
import { ZigProvider, ZIG_DOWNLOAD } from './zig';

export { TOOL_NAMES } from '../tools/catalog';

export function isToolName(name: string): name is ToolName {
  return isBuiltInTool(name);
}

/** Whether `name` can be installed: a catalog tool or `github:owner/repo`. */
export { isKnownTool };

export type ProviderSet = Readonly<Record<ToolName, ToolProvider>> & {
  /** `github:owner/repo` tools, one provider per repository, made on first use. */
  readonly github?: GitHubBackend;
};

export interface ProviderOptions {
  nodeArchive?: 'tar.gz' | 'tar.xz';
  /** Checks Node's and Bun's SHASUMS256.txt.asc and Zig's .minisig; none: nothing is checked. */
  signatures?: SignatureVerifier;
  /** Trust on first use for GitHub releases that publish no checksum; none: such a release is ENOVERSION. */
  firstDownloads?: FirstDownloads;
}

/** One provider per catalog tool. Providers always speak upstream URLs; mirrors are prefix rewrites in the downloader. */
export function createProviders(indexes: IndexCache, options: ProviderOptions = {}): ProviderSet {
  const { signatures } = options;
  return {
    node: new NodeProvider(indexes, NODE_DIST, options.nodeArchive, signatures),
    go: new GoProvider(indexes, GO_DL),
    zig: new ZigProvider(indexes, ZIG_DOWNLOAD, signatures),
    python: new PythonProvider(indexes),
    java: new JavaProvider(indexes),
    rust: new RustProvider(indexes),
    deno: new DenoProvider(indexes),
    bun: new BunProvider(indexes, signatures),
    github: new GitHubBackend(indexes, options.firstDownloads),
  };
}

export function providerFor(providers: ProviderSet, tool: string): ToolProvider {
  if (isGithubTool(tool) && providers.github) return providers.github.forTool(tool);
  if (!isBuiltInTool(tool)) {
    throw new QmError('ENOTOOL', `Unknown tool "${tool}": Quartermaster knows ${TOOL_NAMES.join(', ')} and github:<owner>/<repo> (pin anything else as an [artifacts] entry)`, { found: tool });
  }
  return providers[tool];
}

/**
 * Mirrors: QM_MIRROR_<TOOL> (or the same keys from settings) replaces a tool's upstream base
 * URL, for its index and its archives alike; QM_MIRROR_GITHUB replaces GitHub for everything
 * GitHub hosts. A longer (more specific) prefix wins, so a tool's own mirror beats GitHub's.
 */
export function mirrorRules(mirrors: Partial<Record<string, string | undefined>>): MirrorRule[] {
  const rules: MirrorRule[] = [];
  const add = (mirror: ToolInfo['mirror'], base: string | undefined): void => {
    const to = base?.trim().replace(/\/+$/, '');
    if (!to) return;
    for (const prefix of mirror.upstream) rules.push({ from: prefix.from, to: `${to}${prefix.suffix}` });
  };
  for (const tool of TOOLS) add(tool.mirror, mirrors[tool.name]);
  add(GITHUB_MIRROR, mirrors.github);
  return rules.sort((a, b) => b.from.length - a.from.length);
}

/** QM_MIRROR_NODE, QM_MIRROR_PYTHON, ..., QM_MIRROR_GITHUB, by mirror key. */
export function mirrorsFromEnv(env: NodeJS.ProcessEnv): Partial<Record<string, string>> {
  const mirrors: Partial<Record<string, string>> = {};
  for (const key of MIRROR_KEYS) {
    const value = env[`QM_MIRROR_${key.toUpperCase()}`]?.trim();
    if (value) mirrors[key] = value;
  }
  return mirrors;
}

/**
 * A toolchain as qm.lock recorded it. An archive entry needs no index; a tool whose entry pins
 * a document instead (Rust's channel manifest) reads that document and checks its digest.
 */
export async function lockedToolchain(
  provider: ToolProvider,
  platform: Platform,
  locked: { version: string; url: string; sha256: string; size?: number },
  request: { signal?: AbortSignal } = {},
  options?: ToolOptions,
): Promise<ResolvedToolchain> {
  return provider.lockedToolchain ? provider.lockedToolchain(platform, locked, request) : toolchainFromLock(provider, platform, locked, options);
}

/** A toolchain exactly as a lockfile recorded it: no index is consulted. */
export function toolchainFromLock(
  provider: ToolProvider,
  platform: Platform,
  locked: { version: string; url: string; sha256: string; size?: number },
  options?: ToolOptions,
): ResolvedToolchain {
  const archive = archiveKindOf(locked.url);
  if (!archive) throw new QmError('EMANIFEST', `qm.lock: ${provider.tool} ${locked.version} has a URL with no known archive type: ${locked.url}`);
  const signature = provider.signatureFor?.(locked.url);
  return {
    ...provider.layout(platform, options),
    tool: provider.tool,
    version: locked.version,
    upstreamVersion: locked.version,
    url: locked.url,
    sha256: locked.sha256,
    ...(locked.size !== undefined ? { size: locked.size } : {}),
    archive,
    ...(signature ? { signature } : {}),
  };
}
