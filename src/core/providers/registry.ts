import { archiveKindOf } from '../archive';
import { QmError } from '../errors';
import type { Platform } from '../platform';
import type { MirrorRule } from '../fetch/types';
import { GoProvider, GO_DL } from './go';
import type { IndexCache } from './index-cache';
import { NodeProvider, NODE_DIST } from './node';
import type { ResolvedToolchain, ToolName, ToolProvider } from './types';
import { ZigProvider, ZIG_DOWNLOAD } from './zig';

export const TOOL_NAMES: readonly ToolName[] = ['node', 'go', 'zig'];

/** Each tool's upstream base URL: indexes and archives are named by these, lockfiles too. */
export const UPSTREAM: Readonly<Record<ToolName, string>> = { node: NODE_DIST, go: GO_DL, zig: ZIG_DOWNLOAD };

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

export type ProviderSet = Readonly<Record<ToolName, ToolProvider>>;

/** Providers always speak upstream URLs; mirrors are prefix rewrites in the downloader. */
export function createProviders(indexes: IndexCache, options: { nodeArchive?: 'tar.gz' | 'tar.xz' } = {}): ProviderSet {
  return {
    node: new NodeProvider(indexes, NODE_DIST, options.nodeArchive),
    go: new GoProvider(indexes, GO_DL),
    zig: new ZigProvider(indexes, ZIG_DOWNLOAD),
  };
}

export function providerFor(providers: ProviderSet, tool: string): ToolProvider {
  if (!isToolName(tool)) {
    throw new QmError('ENOTOOL', `Unknown tool "${tool}": Quartermaster knows ${TOOL_NAMES.join(', ')} (pin anything else as an [artifacts] entry)`, { found: tool });
  }
  return providers[tool];
}

/**
 * Mirrors: QM_MIRROR_NODE, QM_MIRROR_GO and QM_MIRROR_ZIG (or the same keys from settings)
 * replace a tool's upstream base URL, for its index and its archives alike.
 */
export function mirrorRules(mirrors: Partial<Record<ToolName, string | undefined>>): MirrorRule[] {
  const rules: MirrorRule[] = [];
  for (const tool of TOOL_NAMES) {
    const to = mirrors[tool]?.trim();
    if (to) rules.push({ from: `${UPSTREAM[tool]}/`, to: `${to.replace(/\/+$/, '')}/` });
  }
  return rules;
}

export function mirrorsFromEnv(env: NodeJS.ProcessEnv): Partial<Record<ToolName, string>> {
  const mirrors: Partial<Record<ToolName, string>> = {};
  for (const tool of TOOL_NAMES) {
    const value = env[`QM_MIRROR_${tool.toUpperCase()}`]?.trim();
    if (value) mirrors[tool] = value;
  }
  return mirrors;
}

/** A toolchain exactly as a lockfile recorded it: no index is consulted. */
export function toolchainFromLock(
  provider: ToolProvider,
  platform: Platform,
  locked: { version: string; url: string; sha256: string; size?: number },
): ResolvedToolchain {
  const archive = archiveKindOf(locked.url);
  if (!archive) throw new QmError('EMANIFEST', `qm.lock: ${provider.tool} ${locked.version} has a URL with no known archive type: ${locked.url}`);
  return {
    ...provider.layout(platform),
    tool: provider.tool,
    version: locked.version,
    upstreamVersion: locked.version,
    url: locked.url,
    sha256: locked.sha256,
    ...(locked.size !== undefined ? { size: locked.size } : {}),
    archive,
  };
}
