import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import type { InstalledTool } from '../../../src/shared/protocol';
import { quartermasterApi, until, workspaceRoot } from '../quartermaster';

// Runs after toolchains.test.ts (files run in name order): node 20.18.1 and zig 0.13.0 are installed.

/** An installed toolchain as the Toolchains view's item carries it, read from its receipt's directory. */
async function installed(api: QuartermasterApi, tool: string, version: string): Promise<InstalledTool> {
  const parent = path.join(api.home, 'toolchains', tool);
  const name = (await fs.readdir(parent)).find((entry) => entry.startsWith(`${version}-`));
  assert.ok(name, `${tool} ${version} is not installed under ${parent}`);
  const dir = path.join(parent, name);
  return { tool, version, platform: name.slice(version.length + 1), dir, binPaths: [path.join(dir, 'bin')], installed: false };
}

/** Waits for the next terminal to open and then to close, with what it exited with. */
function nextTerminal(): { opened: Promise<vscode.Terminal>; closed: Promise<vscode.Terminal> } {
  let opened!: (terminal: vscode.Terminal) => void;
  const openedPromise = new Promise<vscode.Terminal>((resolve) => (opened = resolve));
  const closedPromise = openedPromise.then(
    (terminal) =>
      new Promise<vscode.Terminal>((resolve) => {
        const listener = vscode.window.onDidCloseTerminal((t) => {
          if (t !== terminal) return;
          listener.dispose();
          resolve(t);
        });
      }),
  );
  const listener = vscode.window.onDidOpenTerminal((terminal) => {
    listener.dispose();
    opened(terminal);
  });
  return { opened: openedPromise, closed: closedPromise };
}

suite('Toolchains view actions, lenses, tasks and terminals', () => {
  let api: QuartermasterApi;

  suiteSetup(async () => {
    api = await quartermasterApi();
    await api.whenIdle();
  });

  test('the context menu: Copy Path copies the folder; Reveal Folder shows the receipt in a web window', async () => {
    const zig = await installed(api, 'zig', '0.13.0');
    assert.equal(await vscode.commands.executeCommand('quartermaster.copyToolchainPath', { kind: 'toolchain', installed: zig }), zig.dir);
    assert.equal(await vscode.env.clipboard.readText(), zig.dir);
    assert.equal(await vscode.commands.executeCommand('quartermaster.revealToolchain', { kind: 'toolchain', installed: zig }), 'receipt');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, path.join(zig.dir, '.qm-receipt.json'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the context menu: Open Terminal Here opens a terminal in the toolchain with it first on PATH', async () => {
    const zig = await installed(api, 'zig', '0.13.0');
    const terminal = nextTerminal();
    await vscode.commands.executeCommand('quartermaster.openTerminalHere', { kind: 'toolchain', installed: zig });
    const opened = await terminal.opened;
    const options = opened.creationOptions as vscode.TerminalOptions;
    assert.equal(opened.name, 'zig 0.13.0');
    assert.equal(typeof options.cwd === 'string' ? options.cwd : options.cwd?.fsPath, zig.dir);
    assert.equal(options.env?.PATH?.split(path.delimiter)[0], zig.binPaths[0]);
    opened.dispose();
    await terminal.closed;
  });

  test('the context menu: Use in qm.toml writes that version into the manifest', async () => {
    const manifest = path.join(workspaceRoot(), 'qm.toml');
    const node = await installed(api, 'node', '22.12.0');
    await vscode.commands.executeCommand('quartermaster.useInManifest', { kind: 'toolchain', installed: node });
    assert.match(await fs.readFile(manifest, 'utf8'), /^node = "22\.12\.0"$/m);
    await until(api, 'node 22.12.0 in the status bar', () => /node 22\.12\.0/.test(api.statusBar().text));
  });

  test('the qm task runs `qm` by name (the terminal says "qm install"), found through the launcher', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const tasks = await vscode.tasks.fetchTasks({ type: 'qm' });
    const install = tasks.find((t) => (t.definition as { command?: string }).command === 'install' && t.scope === folder);
    assert.ok(install?.execution instanceof vscode.ProcessExecution);
    assert.deepEqual([install.execution.process, install.execution.args], ['qm', ['install']]);
    const ended = new Promise<number | undefined>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((event) => {
        if (event.execution.task.definition.type !== 'qm') return;
        listener.dispose();
        resolve(event.exitCode);
      });
    });
    await vscode.tasks.executeTask(install);
    assert.equal(await ended, 0, 'qm was found on the task\'s PATH and ran');
  });

  test("a ~/.bashrc that prepends its own node cannot shadow the declared one (applied at shell integration)", async function () {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-rc-home-'));
    try {
      const fake = path.join(home, 'fakebin');
      await fs.mkdir(fake);
      await fs.writeFile(path.join(fake, 'node'), '#!/bin/sh\necho fake\n', { mode: 0o755 });
      await fs.writeFile(path.join(home, '.bashrc'), 'export PATH="$HOME/fakebin:$PATH"\n');
      const out = path.join(home, 'out');
      const terminal = nextTerminal();
      // bash with no arguments: VS Code injects its shell integration, which sources ~/.bashrc first.
      const shell = vscode.window.createTerminal({ name: 'rc shadow', shellPath: '/bin/bash', env: { HOME: home, OUT: out } });
      shell.sendText(`{ echo "node=$(command -v node)"; echo "PATH=$PATH"; } > "$OUT"; exit`);
      await terminal.closed;
      // Shell integration's own sequences (the command line, ended by BEL) may land in the file too.
      const lines = (await fs.readFile(out, 'utf8')).split('\n').map((line) => line.slice(line.lastIndexOf('\x07') + 1));
      const nodePath = lines.find((line) => line.startsWith('node='))?.slice('node='.length);
      const PATH = lines.find((line) => line.startsWith('PATH='))?.slice('PATH='.length) ?? '';
      const bin = api.manifests().flatMap((m) => m.tools).find((t) => t.name === 'node')?.binPaths[0];
      assert.ok(bin);
      assert.equal(nodePath, path.join(bin, 'node'), `PATH was ${PATH}`);
      assert.ok(PATH.split(':').indexOf(fake) > PATH.split(':').indexOf(bin), 'the rc file ran (its directory is on PATH, after ours)');
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  test('no word-based noise in qm.toml: where nothing is valid, completion offers nothing', async () => {
    const document = await vscode.workspace.openTextDocument({ language: 'qm-toml', content: '# Bundled A tools\n[tools]\nnode = "22"\ngo = "1.23"\nzig = "0.13.0"\npython = "3.12"\njava = "21"\nrust = "1.83.0"\ndeno = "2"\nbun = "1"\n\n' });
    assert.equal(vscode.workspace.getConfiguration('editor', { languageId: 'qm-toml' }).get('wordBasedSuggestions'), 'off');
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', document.uri, new vscode.Position(10, 0));
    const words = list.items.filter((item) => item.kind === vscode.CompletionItemKind.Text).map((item) => (typeof item.label === 'string' ? item.label : item.label.label));
    assert.deepEqual(words, [], 'word-based suggestions');
  });
});
