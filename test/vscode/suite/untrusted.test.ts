import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import { mirrorStats } from '../mirror-stats';
import { EXTENSION_ID, quartermasterApi, until, workspaceRoot } from '../quartermaster';

// Runs only in the harness's "untrusted" session (test/vscode/index.ts, QM_TEST_SESSION): workspace
// trust on, the folder not trusted, `quartermaster.autoInstall: "always"` in user settings, and a
// workspace whose qm.toml declares node = "22" with a qm.lock (written by `qm lock` at harness
// time) pinning it to 22.12.0.
//
// Restricted mode as this VS Code build (the server in code-server 4.139.1) shows it: with
// `security.workspace.trust.startupPrompt: "never"` no dialog appears and the folder opens
// untrusted; extensions that declare `untrustedWorkspaces.supported: "limited"` activate as usual
// (and the development extension with them), and extension tests run in restricted mode too.

const NODE_22 = '/dist/v22.12.0/node-v22.12.0-linux-x64.tar.gz';

/** Every index the fixture mirror serves, and what installing node 22.12.0 could fetch. */
const INDEXES = ['/dist/index.json', '/dist/index.tab', '/dl/', '/download/index.json'];
const NODE_22_FILES = [NODE_22, '/dist/v22.12.0/node-v22.12.0-linux-x64.tar.xz', '/dist/v22.12.0/SHASUMS256.txt'];

async function requestsFor(paths: readonly string[]): Promise<Record<string, number>> {
  const counts = await Promise.all(paths.map(async (p) => [p, (await mirrorStats(p)).requests] as const));
  return Object.fromEntries(counts.filter(([, requests]) => requests > 0));
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
}

/** The hover over `position`, asked again each time the document's diagnostics change, until `check` holds. */
async function hoverUntil(uri: vscode.Uri, position: vscode.Position, check: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const ask = async (): Promise<string> => hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position));
  let last = await ask();
  if (check(last)) return last;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await diagnosticsChange(uri, deadline - Date.now());
    last = await ask();
    if (check(last)) return last;
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for the hover; it says: ${last}`);
}

function diagnosticsChange(uri: vscode.Uri, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    const listener = vscode.languages.onDidChangeDiagnostics((event) => {
      if (event.uris.some((u) => u.toString() === uri.toString())) done();
    });
    function done(): void {
      clearTimeout(timer);
      listener.dispose();
      resolve();
    }
  });
}

function node(api: QuartermasterApi): ReturnType<QuartermasterApi['manifests']>[number]['tools'][number] | undefined {
  return api.manifests().flatMap((m) => m.tools).find((t) => t.name === 'node');
}

suite('Untrusted workspace (restricted mode)', () => {
  let api: QuartermasterApi;

  suiteSetup(async () => {
    api = await quartermasterApi();
    await api.whenIdle();
  });

  test('VS Code opened the folder untrusted, with autoInstall "always" from user settings', () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const autoInstall = vscode.workspace.getConfiguration('quartermaster').inspect<string>('autoInstall');
    assert.equal(autoInstall?.globalValue, 'always', 'the harness writes it into user settings');
  });

  test('the extension is active: it supports untrusted workspaces in a limited way', () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.equal(extension?.isActive, true);
    const capabilities = (extension?.packageJSON as { capabilities?: { untrustedWorkspaces?: { supported?: unknown } } }).capabilities;
    assert.equal(capabilities?.untrustedWorkspaces?.supported, 'limited');
  });

  test('node resolves from qm.lock (version shown) and nothing was fetched, though autoInstall is "always"', async () => {
    const locked = await until(api, 'node resolved from qm.lock', () => node(api)?.version !== undefined && node(api));
    assert.equal(locked.version, '22.12.0');
    assert.equal(locked.locked, true);
    assert.equal(locked.installed, false);
    const bar = api.statusBar();
    assert.equal(bar.warning, true, bar.text);
    assert.match(bar.text, /^\$\(warning\) node 22\.12\.0/);
    assert.match(bar.tooltip, /22\.12\.0 \(qm\.lock\): \$\(warning\) not installed/);
    assert.deepEqual(api.downloads(), []);
    assert.deepEqual(await requestsFor([...INDEXES, ...NODE_22_FILES]), {}, 'the mirror was asked for these');
  });

  test('qm.toml open in an editor: the language server reads no index either', async () => {
    const uri = vscode.Uri.file(path.join(workspaceRoot(), 'qm.toml'));
    const editor = await vscode.window.showTextDocument(uri);
    const line = editor.document.getText().split('\n').findIndex((l) => l.startsWith('node ='));
    // On the version: the server asked the extension to resolve it and was told no.
    const hover = await hoverUntil(uri, new vscode.Position(line, 'node = "2'.length), (text) => text.includes('not trusted'));
    assert.match(hover, /Not resolved: this workspace is not trusted/);
    const completion = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(line, 'node = "'.length));
    assert.deepEqual(completion.items.map((item) => (typeof item.label === 'string' ? item.label : item.label.label)).filter((label) => /^\d/.test(label)), [], 'no version list in restricted mode');
    assert.deepEqual(await requestsFor([...INDEXES, ...NODE_22_FILES]), {}, 'the mirror was asked for these');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('Install Everything, an explicit command, fetches the locked archive once and still reads no index', async () => {
    assert.equal(await vscode.commands.executeCommand('quartermaster.installAll'), 1, 'installs one tool');
    await api.whenIdle();
    const installed = await until(api, 'node installed', () => node(api)?.installed && node(api));
    assert.equal(installed.version, '22.12.0');
    assert.equal(api.statusBar().warning, false, api.statusBar().text);
    assert.equal((await mirrorStats(NODE_22)).gets, 1);
    assert.equal((await mirrorStats(NODE_22)).requests, 1);
    assert.deepEqual(await requestsFor(INDEXES), {}, 'qm.lock pins the URL and digest: no index is needed');
  });
});
