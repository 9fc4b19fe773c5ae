import * as path from 'node:path';
import * as vscode from 'vscode';
import { receiptPath } from '../../core/install/receipt';
import type { Logger } from '../../core/log';
import type { InstalledTool } from '../../shared/protocol';
import { registerCommand } from '../error-boundary';

/**
 * The Toolchains view's context menu on an installed toolchain: use it in qm.toml (through
 * Switch Version, so it is written like `qm use`), copy its folder, reveal it, open a terminal
 * in it with it first on PATH. Each gets the view's item; from elsewhere they do nothing.
 */
export function registerToolchainActions(logger: Logger): vscode.Disposable[] {
  const on = (id: string, title: string, run: (tool: InstalledTool) => Promise<unknown>): vscode.Disposable =>
    registerCommand(id, title, logger, async (item?: unknown) => {
      const tool = installedFromItem(item);
      return tool ? run(tool) : undefined;
    });
  return [
    on('quartermaster.useInManifest', 'Use in qm.toml', async (tool) => vscode.commands.executeCommand('quartermaster.switchVersion', tool.tool, tool.version)),
    on('quartermaster.copyToolchainPath', 'Copy Path', async (tool) => {
      await vscode.env.clipboard.writeText(tool.dir);
      vscode.window.setStatusBarMessage(`Copied ${tool.dir}`, 3000);
      return tool.dir;
    }),
    on('quartermaster.revealToolchain', 'Reveal Folder', (tool) => reveal(tool)),
    on('quartermaster.openTerminalHere', 'Open Terminal Here', (tool) => {
      const terminal = vscode.window.createTerminal({
        name: `${tool.tool} ${tool.version}`,
        cwd: tool.dir,
        // First on PATH here whatever the folder's manifest says: this terminal is about this toolchain.
        env: { PATH: [...tool.binPaths, process.env.PATH ?? ''].join(path.delimiter) },
        iconPath: new vscode.ThemeIcon('tools'),
      });
      terminal.show();
      return Promise.resolve(terminal);
    }),
  ];
}

/**
 * The operating system's file manager where there is one beside this extension host (desktop,
 * local); in a remote or web window, whose file manager cannot see this machine, the
 * toolchain's receipt opens in an editor instead: what was installed, from where, and its path.
 */
async function reveal(tool: InstalledTool): Promise<string> {
  const folder = vscode.Uri.file(tool.dir);
  if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) {
    await vscode.commands.executeCommand('revealFileInOS', folder);
    return 'revealFileInOS';
  }
  await vscode.window.showTextDocument(vscode.Uri.file(receiptPath(tool.dir)), { preview: true });
  return 'receipt';
}

/** The Toolchains view passes its item ({ installed }); anything else is ignored. */
export function installedFromItem(item: unknown): InstalledTool | undefined {
  const tool = (item as { installed?: InstalledTool } | undefined)?.installed;
  return tool && typeof tool.tool === 'string' && typeof tool.version === 'string' && typeof tool.dir === 'string' ? tool : undefined;
}
