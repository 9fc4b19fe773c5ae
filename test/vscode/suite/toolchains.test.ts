import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import { mirrorStats } from '../mirror-stats';
import { inTerminal, quartermasterApi, until, workspaceRoot } from '../quartermaster';

const NODE_22 = '/dist/v22.12.0/node-v22.12.0-linux-x64.tar.gz';
const NODE_20 = '/dist/v20.18.1/node-v20.18.1-linux-x64.tar.gz';

function tool(api: QuartermasterApi, name: string): { version?: string; installed: boolean; binPaths: string[] } | undefined {
  return api.manifests().flatMap((m) => m.tools).find((t) => t.name === name);
}

suite('Toolchains in a real VS Code', () => {
  let api: QuartermasterApi;
  let manifest: string;

  suiteSetup(async () => {
    api = await quartermasterApi();
    manifest = path.join(workspaceRoot(), 'qm.toml');
    await api.whenIdle();
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('quartermaster').update('autoInstall', undefined, vscode.ConfigurationTarget.Global);
  });

  test('the status bar shows the declared version, with a warning while it is missing', async () => {
    // autoInstall is "prompt" (the default) and nobody answers: nothing is fetched.
    const node = await until(api, 'node resolved', () => (tool(api, 'node')?.version ? tool(api, 'node') : undefined));
    assert.equal(node.version, '22.12.0');
    assert.equal(node.installed, false);
    const bar = api.statusBar();
    assert.equal(bar.visible, true);
    assert.match(bar.text, /node 22\.12\.0/);
    assert.equal(bar.warning, true);
    assert.equal((await mirrorStats(NODE_22)).gets, 0, 'nothing is downloaded while the prompt is unanswered');
  });

  test('Install Everything in the Manifest fetches the archive once and clears the warning', async () => {
    await vscode.commands.executeCommand('quartermaster.installAll');
    await api.whenIdle();
    assert.equal(tool(api, 'node')?.installed, true);
    const bar = api.statusBar();
    assert.equal(bar.warning, false, bar.text);
    assert.match(bar.text, /^\$\(tools\) node 22\.12\.0/);
    assert.equal((await mirrorStats(NODE_22)).gets, 1);
  });

  test("a terminal runs the declared node and the bundled qm, which goes through this window's coordinator", async () => {
    const bin = tool(api, 'node')?.binPaths[0];
    assert.ok(bin, 'node has no bin directory');
    const printed = await inTerminal('{ command -v node; command -v qm; qm which node; qm install --json; } > "$OUT" 2>&1');
    const [nodePath, qmPath, whichNode] = printed.trim().split('\n');
    assert.equal(nodePath, path.join(bin, 'node'), printed);
    assert.ok(qmPath?.endsWith(`${path.sep}qm`), printed);
    assert.equal(whichNode, path.join(bin, 'node'), printed);
    assert.match(printed, /"version":\s*"22\.12\.0"/);
    assert.match(printed, /"coordinator":\s*true/, 'qm in the terminal did not use the coordinator');
    assert.equal((await mirrorStats(NODE_22)).gets, 1, 'the terminal\'s qm install found it installed');
  });

  test('Switch Version installs first, then writes qm.toml; the status bar follows', async () => {
    await vscode.commands.executeCommand('quartermaster.switchVersion', 'node', '20.18.1');
    const text = await fs.readFile(manifest, 'utf8');
    assert.match(text, /^node = "20\.18\.1"$/m);
    assert.match(text, /^# The workspace/m, 'the comment above [tools] is kept');
    const bar = await until(api, 'node 20.18.1 in the status bar', () => /node 20\.18\.1/.test(api.statusBar().text) && api.statusBar());
    assert.equal(bar.warning, false);
    assert.equal((await mirrorStats(NODE_20)).gets, 1);
  });

  test('automatic fetch: with autoInstall = always, a tool added to qm.toml is fetched without asking', async () => {
    await vscode.workspace.getConfiguration('quartermaster').update('autoInstall', 'always', vscode.ConfigurationTarget.Global);
    const text = await fs.readFile(manifest, 'utf8');
    await fs.writeFile(manifest, `${text.trimEnd()}\nzig = "0.13.0"\n`);
    const zig = await until(api, 'zig 0.13.0 installed', () => tool(api, 'zig')?.installed && tool(api, 'zig'), 60_000);
    assert.equal(zig.version, '0.13.0');
    await api.whenIdle();
    assert.equal(api.statusBar().warning, false);
    assert.match(api.statusBar().text, /zig 0\.13\.0/);
  });

  test('a qm task installs through the coordinator and ends with exit code 0', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const tasks = await vscode.tasks.fetchTasks({ type: 'qm' });
    const install = tasks.find((t) => (t.definition as { command?: string }).command === 'install' && t.scope === folder);
    assert.ok(install, `no qm install task for the folder; tasks: ${tasks.map((t) => t.name).join(', ')}`);
    const ended = new Promise<number | undefined>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((event) => {
        if (event.execution.task.definition.type !== 'qm') return;
        listener.dispose();
        resolve(event.exitCode);
      });
    });
    await vscode.tasks.executeTask(install);
    assert.equal(await ended, 0);
  });
});
