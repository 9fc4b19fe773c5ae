import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import { untilLeaseHolders } from '../leases';
import { EXTENSION_ID, quartermasterApi, workspaceRoot } from '../quartermaster';

/** `qm` as any process on this machine runs it, on this QM_HOME; never throws: the exit code and output. */
async function qm(...args: string[]): Promise<{ code: number; output: string }> {
  const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'out', 'cli.js');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

suite('A terminal holds the toolchains it runs', () => {
  let api: QuartermasterApi;
  let zig: string;

  suiteSetup(async () => {
    api = await quartermasterApi();
    await api.whenIdle();
    const root = api.manifests().find((m) => m.file === path.join(workspaceRoot(), 'qm.toml'));
    const tool = root?.tools.find((t) => t.name === 'zig');
    assert.ok(tool?.installed && tool.version, `the workspace's zig is not installed: ${JSON.stringify(root)}`);
    zig = tool.version;
  });

  test('qm uninstall leaves a toolchain an open terminal has on PATH, and removes it once the terminal is closed (then it is installed again)', async () => {
    const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'qm-terminal-lease-')));
    try {
      const go = path.join(dir, 'go');
      const name = 'Quartermaster lease test';
      // A shell that stays until the test says so (it checks for `go` itself).
      const terminal = vscode.window.createTerminal({ name, shellPath: '/bin/sh', shellArgs: ['-c', `while [ ! -e '${go}' ]; do sleep 0.05; done`], cwd: workspaceRoot() });
      const closed = new Promise<void>((resolve) => {
        const listener = vscode.window.onDidCloseTerminal((t) => {
          if (t !== terminal) return;
          listener.dispose();
          resolve();
        });
      });
      const shell = await terminal.processId;
      assert.ok(shell, 'the terminal has no process id');
      // In the shell's name: the lease lasts as long as that process (a task's ends with the task).
      await untilLeaseHolders('zig', zig, 'the terminal to hold zig', (holders) => holders.some((h) => h.pid === shell && h.purpose === `VS Code terminal "${name}"` && h.liveness === 'alive'));

      const refused = await qm('uninstall', `zig@${zig}`);
      assert.notEqual(refused.code, 0, refused.output);
      assert.match(refused.output, /ELOCKED|in use/);
      assert.match(refused.output, new RegExp(`VS Code terminal "${name}"`));
      await fs.access(path.join(api.home, 'toolchains', 'zig'));

      await fs.writeFile(go, '');
      await closed;
      await untilLeaseHolders('zig', zig, 'the terminal to let go of zig', (now) => !now.some((h) => h.purpose === `VS Code terminal "${name}"`));
      const removed = await qm('uninstall', `zig@${zig}`);
      assert.equal(removed.code, 0, removed.output);
      // Put back for the suites after this one (the workspace declares it).
      const reinstalled = await qm('install', `zig@${zig}`);
      assert.equal(reinstalled.code, 0, reinstalled.output);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
