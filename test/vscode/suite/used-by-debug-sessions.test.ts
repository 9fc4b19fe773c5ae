import * as assert from 'node:assert/strict';
import { watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import type { ConsumerExports } from '../api-consumer/extension';
import { untilLeaseHolders } from '../leases';
import { quartermasterApi, workspaceRoot } from '../quartermaster';

/** Resolves when a session named `name` ends (registered before it starts, so the end cannot be missed). */
function ended(name: string): Promise<vscode.DebugSession> {
  return new Promise((resolve) => {
    const listener = vscode.debug.onDidTerminateDebugSession((session) => {
      if (session.name !== name) return;
      listener.dispose();
      resolve(session);
    });
  });
}

function started(name: string): Promise<vscode.DebugSession> {
  return new Promise((resolve) => {
    const listener = vscode.debug.onDidStartDebugSession((session) => {
      if (session.name !== name) return;
      listener.dispose();
      resolve(session);
    });
  });
}

suite('Debug sessions get the toolchains, as terminals do', () => {
  let api: QuartermasterApi;
  let consumer: ConsumerExports;
  let node: { version: string; bin: string };
  let folder: vscode.WorkspaceFolder;

  suiteSetup(async () => {
    api = await quartermasterApi();
    await api.whenIdle();
    consumer = await vscode.extensions.getExtension<ConsumerExports>('quartermaster-test.qm-api-consumer')!.activate();
    folder = vscode.workspace.workspaceFolders![0]!;
    const root = api.manifests().find((m) => m.file === path.join(workspaceRoot(), 'qm.toml'));
    const tool = root?.tools.find((t) => t.name === 'node');
    assert.ok(tool?.installed && tool.version, `the workspace's node is not installed: ${JSON.stringify(root)}`);
    node = { version: tool.version, bin: tool.binPaths[0]! };
  });

  test("any debugger's launch configuration gets the toolchains' bin directories first on PATH and the window's variables; its own win", async () => {
    const name = 'qm env probe';
    const done = ended(name);
    assert.ok(await vscode.debug.startDebugging(folder, { type: 'qm-env-probe', request: 'launch', name, env: { MINE: 'kept', QM_HOME: '/its/own', PATH: '/its/bin' } }));
    await done;
    const env = consumer.launched().at(-1)?.env as Record<string, string> | undefined;
    assert.ok(env, 'the probe was not launched');
    const parts = env.PATH!.split(path.delimiter);
    assert.equal(parts[0], node.bin, env.PATH);
    assert.equal(parts.at(-1), '/its/bin', 'the configuration\'s PATH comes after the toolchains');
    assert.ok(parts.some((p) => p.endsWith(`${path.sep}bin`) && p !== node.bin), 'the qm launcher directory is on PATH');
    assert.equal(env.QM_COORDINATOR, api.endpoint);
    assert.equal(env.QM_HOME, '/its/own', "the configuration's own variable wins");
    assert.equal(env.MINE, 'kept');
  });

  test("cppdbg's environment list is filled the same way", async () => {
    const name = 'qm env probe (environment list)';
    const done = ended(name);
    assert.ok(await vscode.debug.startDebugging(folder, { type: 'qm-env-probe', request: 'launch', name, environment: [{ name: 'MINE', value: 'kept' }] }));
    await done;
    const list = consumer.launched().at(-1)?.environment as Array<{ name: string; value: string }>;
    const value = (name: string): string | undefined => list.find((e) => e.name === name)?.value;
    assert.equal(value('PATH')?.split(path.delimiter)[0], node.bin);
    assert.equal(value('QM_HOME'), api.home);
    assert.equal(value('MINE'), 'kept');
    assert.equal(list.filter((e) => e.name === 'PATH').length, 1);
  });

  test('a program run by the real JavaScript debugger sees them, and the session holds a lease on the toolchain until it ends', async () => {
    const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'qm-debug-')));
    try {
      const out = path.join(dir, 'env.json');
      const go = path.join(dir, 'go');
      const program = path.join(dir, 'program.js');
      // Writes what it sees, then stays until the test has looked at the leases (it polls for `go`).
      await fs.writeFile(
        program,
        `const fs = require('fs');\n` +
          `fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({ PATH: process.env.PATH, QM_COORDINATOR: process.env.QM_COORDINATOR }));\n` +
          `const timer = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) clearInterval(timer); }, 20);\n`,
      );
      const name = 'qm env (js-debug)';
      const running = started(name);
      const done = ended(name);
      // The extension host's own Node: the fixture's node is a stand-in script that cannot be debugged.
      assert.ok(await vscode.debug.startDebugging(folder, { type: 'node', request: 'launch', name, program, runtimeExecutable: process.execPath, cwd: dir, console: 'internalConsole' }));
      await running;
      const seen = JSON.parse(await waitForFile(out)) as { PATH: string; QM_COORDINATOR: string };
      assert.equal(seen.PATH.split(path.delimiter)[0], node.bin, seen.PATH);
      assert.equal(seen.QM_COORDINATOR, api.endpoint);
      await untilLeaseHolders('node', node.version, 'the debug session to hold node', (holders) => holders.some((h) => h.purpose === `VS Code debug session "${name}"` && h.liveness === 'alive'));
      await fs.writeFile(go, '');
      await done;
      await untilLeaseHolders('node', node.version, 'the debug sessions to let go of node', (holders) => !holders.some((h) => h.purpose?.startsWith('VS Code debug session')));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

/** The program writes its file once; looked for again on every change in its directory. */
async function waitForFile(file: string): Promise<string> {
  let wake: () => void = () => undefined;
  const watcher = watch(path.dirname(file), () => wake());
  try {
    for (;;) {
      const changed = new Promise<void>((resolve) => (wake = resolve));
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      if (text !== '') return text;
      await changed; // Mocha's timeout bounds this
    }
  } finally {
    watcher.close();
  }
}
