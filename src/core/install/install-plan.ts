import type { DownloadManager, DownloadProgress } from '../download-manager';
import { QmError, isQmError } from '../errors';
import type { Plan } from '../plan/plan';
import { checkProjectWrite } from '../paths/project-files';
import { materializeArtifact } from './artifact';
import type { InstalledToolchain, Installer, InstallProgress } from './installer';

export type PlanEvent =
  | { kind: 'tool'; name: string; version: string; progress: InstallProgress }
  | { kind: 'artifact'; name: string; progress: DownloadProgress };

export interface InstalledArtifact {
  name: string;
  blob: string;
  dest?: string;
  /** True when this run wrote `dest`. */
  written: boolean;
}

export interface PlanResult {
  tools: InstalledToolchain[];
  artifacts: InstalledArtifact[];
}

/**
 * Installs every toolchain and fetches every artifact of a plan, all at once: the download
 * manager's single-flight by digest makes entries that share a digest share one download, and
 * its global limit bounds the transfers. Every entry runs to its end; failures are reported
 * together afterwards, so one bad entry does not cancel the others half-way. A project path
 * that cannot be written safely fails the plan before anything is fetched.
 */
export async function installPlan(
  plan: Plan,
  core: { manager: DownloadManager; installer: Installer },
  options: { signal?: AbortSignal; onEvent?: (event: PlanEvent) => void } = {},
): Promise<PlanResult> {
  const { signal, onEvent } = options;
  for (const artifact of plan.artifacts) if (artifact.dest) await checkProjectWrite(artifact.dest);
  const tools = plan.tools.map(({ toolchain }) =>
    core.installer.install(toolchain, {
      ...(signal ? { signal } : {}),
      onProgress: (progress) => onEvent?.({ kind: 'tool', name: toolchain.tool, version: toolchain.version, progress }),
    }),
  );
  const artifacts = plan.artifacts.map(async (artifact): Promise<InstalledArtifact> => {
    const blob = await core.manager.fetchBlob({
      url: artifact.url,
      sha256: artifact.sha256,
      ...(signal ? { signal } : {}),
      onProgress: (progress) => onEvent?.({ kind: 'artifact', name: artifact.entry.name, progress }),
    });
    const written = artifact.dest ? await materializeArtifact(blob.path, artifact.sha256, artifact.dest) : false;
    return { name: artifact.entry.name, blob: blob.path, ...(artifact.dest ? { dest: artifact.dest.path } : {}), written };
  });
  const [toolResults, artifactResults] = await Promise.all([Promise.allSettled(tools), Promise.allSettled(artifacts)]);
  const failures = [...toolResults, ...artifactResults].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const first = failures[0];
    const code = isQmError(first) ? first.code : 'EIO';
    const lines = failures.map((f) => `  - ${f instanceof Error ? f.message : String(f)}`);
    throw new QmError(code, `${failures.length} installs failed:\n${lines.join('\n')}`, { cause: first });
  }
  return {
    tools: toolResults.map((r) => (r as PromiseFulfilledResult<InstalledToolchain>).value),
    artifacts: artifactResults.map((r) => (r as PromiseFulfilledResult<InstalledArtifact>).value),
  };
}
