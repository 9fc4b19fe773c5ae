import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'quartermaster.quartermaster';

interface ContributedCommand {
  command: string;
}

function quartermaster(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded (is extensionDevelopmentPath the repository root?)`);
  return extension;
}

/** Runs `script` in /bin/sh as an integrated terminal and returns what it wrote to $OUT. */
async function inTerminal(script: string, env: Record<string, string> = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-terminal-'));
  const out = path.join(dir, 'out');
  try {
    // Listening before the terminal exists; events arrive asynchronously, after `terminal` is set.
    const closed = new Promise<vscode.Terminal>((resolve) => {
      const listener = vscode.window.onDidCloseTerminal((t) => {
        if (t !== terminal) return;
        listener.dispose();
        resolve(t);
      });
    });
    const terminal = vscode.window.createTerminal({
      name: 'Quartermaster test probe',
      shellPath: '/bin/sh',
      shellArgs: ['-c', script],
      env: { ...env, OUT: out },
    });
    const { exitStatus } = await closed;
    assert.equal(exitStatus?.code, 0, `the probe terminal exited with ${exitStatus?.code}`);
    return await fs.readFile(out, 'utf8');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

suite('Activation', () => {
  test('the workspace has the qm.toml that activates the extension', async () => {
    const manifests = await vscode.workspace.findFiles('**/qm.toml');
    assert.equal(manifests.length, 1, `qm.toml in the workspace: ${manifests.map((uri) => uri.fsPath).join(', ')}`);
    const activationEvents = (quartermaster().packageJSON as { activationEvents?: string[] }).activationEvents ?? [];
    assert.ok(activationEvents.includes('workspaceContains:**/qm.toml'), `activationEvents: ${activationEvents.join(', ')}`);
  });

  test('the extension activated by itself before the tests ran', () => {
    // VS Code runs extension tests only after the workspaceContains activations have settled,
    // so it is active without anyone calling activate(); a throwing activate() leaves it inactive.
    assert.equal(quartermaster().isActive, true, 'not active: see the extension host log for the activation error');
  });

  test('every command package.json contributes is registered', async () => {
    const contributed = (quartermaster().packageJSON as { contributes?: { commands?: ContributedCommand[] } }).contributes?.commands ?? [];
    const ids = contributed.map((c) => c.command);
    assert.ok(ids.length > 0, 'package.json contributes no commands (docs/extension.md lists them)');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = ids.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test("terminals get QM_HOME and QM_COORDINATOR from the extension's environment collection", async () => {
    const home = process.env.QM_HOME;
    assert.ok(home, 'QM_HOME is not set in the extension host: the harness passes it to VS Code');
    // The terminal's own QM_HOME is overridden by the collection's replace(), which shows it is the
    // extension and not inheritance that sets it.
    const printed = await inTerminal('printf "%s\\n%s\\n" "$QM_HOME" "$QM_COORDINATOR" > "$OUT"', { QM_HOME: '/not/the/home' });
    const [terminalHome, coordinator] = printed.split('\n');
    assert.equal(terminalHome, path.resolve(home));
    assert.ok(coordinator, 'QM_COORDINATOR is empty in the terminal');
  });
});
