import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { quartermasterApi, until, workspaceRoot } from '../quartermaster';

suite('The language status item of qm.toml', () => {
  test('shows the versions the open manifest resolves to, and links to the log', async () => {
    const api = await quartermasterApi();
    await api.whenIdle();
    const file = path.join(workspaceRoot(), 'qm.toml');
    const status = api.manifests().find((m) => m.file === file);
    assert.ok(status, 'the workspace has its qm.toml');
    const expected = status.tools.map((t) => `${t.name} ${t.version ?? t.spec}`).join(', ');
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    const shown = await until(api, `the language status item to show ${expected}`, () => api.languageStatus()?.manifest === file && api.languageStatus());
    assert.equal(shown.text, expected);
    assert.equal(shown.command, 'quartermaster.showLog');
    const missing = status.tools.filter((t) => !t.installed).map((t) => t.name);
    if (missing.length > 0) {
      assert.equal(shown.severity, 'warning');
      assert.match(shown.detail, new RegExp(`not installed: ${missing.join(', ')}`));
    } else {
      assert.equal(shown.severity, 'information');
      assert.match(shown.detail, /^installed/);
    }
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
