import * as path from 'node:path';
import { QmError } from '../errors';
import { lockedToolFrom, lockMismatch, type Lockfile, type LockedTool } from '../lockfile/qm-lock';
import type { ArtifactEntry, ToolEntry } from '../manifest/types';
import { platformId, type Platform } from '../platform';
import { lockedToolchain, providerFor, type ProviderSet } from '../providers/registry';
import type { ResolvedToolchain } from '../providers/types';
import { projectFile, type ProjectFile } from '../paths/project-files';
import { requireSafeToolchain, requireSha256 } from '../paths/safe-names';
import { parseVersionSpec } from '../resolve/version-spec';

export interface PlannedTool {
  entry: Pick<ToolEntry, 'name' | 'spec' | 'options'>;
  toolchain: ResolvedToolchain;
}

export interface PlannedArtifact {
  entry: Pick<ArtifactEntry, 'name'>;
  url: string;
  sha256: string;
  /** The file inside the project, when the manifest asks for a copy there. */
  dest?: ProjectFile;
}

/** One blob to fetch, and every plan entry that needs it. */
export interface PlannedDownload {
  url: string;
  sha256: string;
  size?: number;
  usedBy: string[];
}

export interface Plan {
  platform: string;
  tools: PlannedTool[];
  artifacts: PlannedArtifact[];
  /** Unique by digest: entries that share a digest share one download. */
  downloads: PlannedDownload[];
}

/** A manifest, or tools named on a command line (which have no source ranges). */
export interface PlanSource {
  file: string;
  dir: string;
  tools: Array<Pick<ToolEntry, 'name' | 'spec' | 'options'>>;
  artifacts: ArtifactEntry[];
}

export interface PlanOptions {
  providers: ProviderSet;
  platform: Platform;
  /** Install exactly what the lockfile says; fail when it no longer matches the manifest. */
  locked?: Lockfile;
  /** Only these tools (names), e.g. `qm install node`. Default: everything declared. */
  only?: string[];
  signal?: AbortSignal;
}

/**
 * Resolves a manifest (or explicit tool@spec requests) into the unique artifacts to fetch. Every
 * name that will reach a path passes the door for untrusted names here (paths/safe-names.ts),
 * whichever provider, index or lockfile it came from.
 */
export async function resolvePlan(manifest: PlanSource, options: PlanOptions): Promise<Plan> {
  const platform = platformId(options.platform);
  if (options.locked) {
    const why = lockMismatch(manifest, options.locked, platform);
    if (why) throw new QmError('ELOCKFILE', `qm.lock does not match ${path.basename(manifest.file)}: ${why}. Run "qm lock" to update it.`, { path: manifest.file });
  }
  const wanted = options.only ? manifest.tools.filter((t) => options.only!.includes(t.name)) : manifest.tools;
  const tools = await Promise.all(
    wanted.map(async (entry): Promise<PlannedTool> => {
      const provider = providerFor(options.providers, entry.name);
      const locked = options.locked?.tools.find((t) => t.name === entry.name && t.platform === platform);
      const request = options.signal ? { signal: options.signal } : {};
      const toolchain = locked
        ? await lockedToolchain(provider, options.platform, locked, request, entry.options)
        : await provider.resolve(parseVersionSpec(entry.spec), options.platform, request, entry.options);
      requireSafeToolchain(toolchain, { description: locked ? 'qm.lock' : `the ${entry.name} index` });
      return { entry: { name: entry.name, spec: entry.spec, ...(entry.options ? { options: entry.options } : {}) }, toolchain };
    }),
  );
  const artifacts = options.only ? [] : manifest.artifacts.map((entry): PlannedArtifact => {
    if (!entry.url) throw new QmError('EMANIFEST', `${manifest.file}: artifact "${entry.name}" has no url`, { path: manifest.file });
    const line = entry.fields.sha256?.valueRange.start.line;
    return {
      entry: { name: entry.name },
      url: entry.url,
      sha256: requireSha256(entry.sha256, { file: manifest.file, ...(line !== undefined ? { line } : {}) }, `artifact ${entry.name}`),
      ...(entry.dest ? { dest: projectFile(manifest.dir, entry.dest) } : {}),
    };
  });
  return { platform, tools, artifacts, downloads: uniqueDownloads(tools, artifacts) };
}

function uniqueDownloads(tools: PlannedTool[], artifacts: PlannedArtifact[]): PlannedDownload[] {
  const byDigest = new Map<string, PlannedDownload>();
  const add = (url: string, sha256: string, size: number | undefined, user: string): void => {
    const existing = byDigest.get(sha256);
    if (existing) existing.usedBy.push(user);
    else byDigest.set(sha256, { url, sha256, ...(size !== undefined ? { size } : {}), usedBy: [user] });
  };
  for (const { toolchain } of tools) add(toolchain.url, toolchain.sha256, toolchain.size, `${toolchain.tool}@${toolchain.version}`);
  for (const artifact of artifacts) add(artifact.url, artifact.sha256, undefined, `artifact ${artifact.entry.name}`);
  return [...byDigest.values()];
}

/** The lockfile for a resolved plan, keeping other platforms' entries whose spec is unchanged. */
export function lockfileFor(plan: Plan, previous: Lockfile | undefined): Lockfile {
  const current = plan.tools.map(({ entry, toolchain }) => lockedToolFrom(entry.spec, plan.platform, toolchain));
  const kept: LockedTool[] = (previous?.tools ?? []).filter(
    (old) => old.platform !== plan.platform && plan.tools.some(({ entry }) => entry.name === old.name && entry.spec === old.spec),
  );
  return {
    tools: [...current, ...kept],
    artifacts: plan.artifacts.map((a) => ({ name: a.entry.name, url: a.url, sha256: a.sha256 })),
  };
}
