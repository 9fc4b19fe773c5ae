import * as path from 'node:path';
import * as vscode from 'vscode';
import { toolchainEnvironment } from './toolchain-environment';
import type { WorkspaceModel } from './workspace-model';

/**
 * Debug sessions get what terminals get: the window's variables (QM_HOME, QM_COORDINATOR, the
 * mirrors), the toolchains' own (JAVA_HOME), and the installed toolchains' bin directories and
 * the `qm` launcher in front of PATH, for every debug type ('*'). The manifest is the one in force
 * for the configuration's `cwd` (as `qm` finds it), else the folder's. Variables the launch
 * configuration sets itself win; a PATH it sets is prepended to like any other. Most debuggers
 * take an `env` object (js-debug, debugpy, Go, Java, CodeLLDB); cppdbg's `environment` list
 * ({ name, value }) is filled when the configuration has one.
 */
export class DebugEnvironment implements vscode.DebugConfigurationProvider {
  constructor(
    private readonly model: WorkspaceModel,
    private readonly shimDir: string,
    private readonly variables: () => Record<string, string>,
  ) {}

  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    const cwd = typeof config.cwd === 'string' && path.isAbsolute(config.cwd) ? config.cwd : undefined;
    const home = folder ?? vscode.workspace.workspaceFolders?.[0];
    const status = (cwd ? this.model.manifestFor(cwd) : undefined) ?? (home ? this.model.manifestForFolder(home) : undefined);
    const { binPaths, env } = toolchainEnvironment(status);
    const ours: Record<string, string> = { ...this.variables(), ...env };
    const prefix = [...binPaths, this.shimDir];

    if (Array.isArray(config.environment)) {
      const list = config.environment as Array<{ name: string; value: string }>;
      const given = new Map(list.map((entry) => [entry.name, entry.value]));
      const added = Object.entries(ours).filter(([name]) => !given.has(name)).map(([name, value]) => ({ name, value }));
      const pathValue = withPrefix(prefix, given.get('PATH'));
      return { ...config, environment: [...list.filter((entry) => entry.name !== 'PATH'), ...added, { name: 'PATH', value: pathValue }] };
    }
    const given = isStringRecord(config.env) ? config.env : {};
    return { ...config, env: { ...ours, ...given, PATH: withPrefix(prefix, given.PATH) } };
  }
}

/** The bin directories in front of `base` (the configuration's PATH, else the extension host's). */
function withPrefix(prefix: string[], base: string | undefined): string {
  return [...prefix, base ?? process.env.PATH ?? ''].filter((part) => part !== '').join(path.delimiter);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
