import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkspaceModel } from './workspace-model';

export const TASK_TYPE = 'qm';
/** What writeCliShim names the launcher. */
const LAUNCHER = process.platform === 'win32' ? 'qm.cmd' : 'qm';

/** The `qm` task type as package.json declares it (contributes.taskDefinitions). */
interface QmTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  command: 'install' | 'exec';
  tools?: string[];
  args?: string[];
  cwd?: string;
}

export interface TaskRunner {
  /** The Node binary and the bundled CLI: `qm` runs as `<node> <cli.js>` when the launcher is missing. */
  node: string;
  cli: string;
  /** Resolves with the directory of the `qm` launcher once it is written (undefined if it could not be). */
  launcherDir: Promise<string | undefined>;
  /** QM_HOME, QM_COORDINATOR, QM_MIRROR_*: the same cache and coordinator as this window. */
  env: () => Record<string, string>;
}

/**
 * `qm install` and `qm exec` as tasks: one "install" task per workspace folder with a manifest
 * is offered; tasks.json may declare any. They run the CLI bundled with the extension against
 * this window's coordinator, and `$qm` turns its errors into problems. They run `qm` by that
 * name, found through the launcher's directory first on the task's PATH, so the terminal says
 * "Executing task: qm install", not the Node binary and the bundle's path.
 */
export class QmTaskProvider implements vscode.TaskProvider {
  constructor(private readonly model: WorkspaceModel, private readonly runner: TaskRunner) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const launcherDir = await this.runner.launcherDir;
    const tasks: vscode.Task[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (!this.model.manifestForFolder(folder)) continue;
      tasks.push(this.build({ type: TASK_TYPE, command: 'install' }, folder, launcherDir));
    }
    return tasks;
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const definition = task.definition as Partial<QmTaskDefinition>;
    if (definition.command !== 'install' && definition.command !== 'exec') return undefined;
    const scope = task.scope !== undefined && typeof task.scope !== 'number' ? task.scope : undefined;
    return this.build(definition as QmTaskDefinition, scope, await this.runner.launcherDir, task.name);
  }

  private build(definition: QmTaskDefinition, folder: vscode.WorkspaceFolder | undefined, launcherDir: string | undefined, name?: string): vscode.Task {
    const args = taskArguments(definition);
    const cwd = definition.cwd ?? folder?.uri.fsPath;
    const env = this.runner.env();
    const execution = launcherDir
      ? new vscode.ProcessExecution(LAUNCHER, args, { ...(cwd ? { cwd } : {}), env: { ...env, PATH: [launcherDir, process.env.PATH ?? ''].join(path.delimiter) } })
      : new vscode.ProcessExecution(this.runner.node, [this.runner.cli, ...args], { ...(cwd ? { cwd } : {}), env: { ...env, ELECTRON_RUN_AS_NODE: '1' } });
    const task = new vscode.Task(definition, folder ?? vscode.TaskScope.Workspace, name ?? args.join(' '), TASK_TYPE, execution, ['$qm']);
    if (definition.command === 'install') task.group = vscode.TaskGroup.Build;
    task.detail = `qm ${args.join(' ')}`;
    return task;
  }
}

/** The CLI arguments a task definition stands for. */
export function taskArguments(definition: Pick<QmTaskDefinition, 'command' | 'tools' | 'args'>): string[] {
  if (definition.command === 'install') return ['install', ...(definition.tools ?? [])];
  return ['exec', ...(definition.tools ?? []), '--', ...(definition.args ?? [])];
}
