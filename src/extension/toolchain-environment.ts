import type { ManifestStatus } from '../core/workspace/manifest-status';

/**
 * What a manifest's installed toolchains add to a process's environment, the same for terminals,
 * tasks, debug sessions and other extensions: their bin directories (in declaration order) and
 * their own variables (JAVA_HOME), as `qm exec` and `qm env` set them.
 */
export interface ToolchainEnvironment {
  binPaths: string[];
  env: Record<string, string>;
}

export function toolchainEnvironment(status: ManifestStatus | undefined): ToolchainEnvironment {
  const installed = status?.tools.filter((t) => t.installed) ?? [];
  return {
    binPaths: installed.flatMap((t) => t.binPaths),
    env: Object.assign({}, ...installed.map((t) => t.env ?? {})) as Record<string, string>,
  };
}
