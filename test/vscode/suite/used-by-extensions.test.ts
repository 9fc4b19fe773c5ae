import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import type { ConsumerExports, RunNodeResult } from '../api-consumer/extension';
import { mirrorStats } from '../mirror-stats';
import { quartermasterApi, until, workspaceRoot } from '../quartermaster';

const CONSUMER_ID = 'quartermaster-test.qm-api-consumer';
const NODE_18 = '/dist/v18.20.4/node-v18.20.4-linux-x64.tar.gz';

/** The API from a second extension (test/vscode/api-consumer), loaded beside ours in this VS Code. */
suite('Another extension uses the API', () => {
  let api: QuartermasterApi;
  let consumer: ConsumerExports;
  let project: string;

  suiteSetup(async () => {
    api = await quartermasterApi();
    await api.whenIdle();
    const extension = vscode.extensions.getExtension<ConsumerExports>(CONSUMER_ID);
    assert.ok(extension, `${CONSUMER_ID} is not loaded`);
    consumer = await extension.activate();
    // A project of its own inside the workspace, declaring a node nothing else installed.
    project = path.join(workspaceRoot(), 'api-project');
    await fs.mkdir(project, { recursive: true });
    const manifest = path.join(project, 'qm.toml');
    await fs.writeFile(manifest, '[tools]\nnode = "18"\n');
    await until(api, 'api-project/qm.toml resolved', () => api.manifests().find((m) => m.file === manifest && m.tools[0]?.version));
  });

  suiteTeardown(async () => {
    await fs.rm(project, { recursive: true, force: true });
  });

  test("acquire installs the folder's declared node through the coordinator, once, and the other extension runs it", async () => {
    const folder = vscode.Uri.file(project);
    const first = await vscode.commands.executeCommand<RunNodeResult>('qmApiConsumer.runNode', folder);
    assert.equal(first.toolchain.tool, 'node');
    assert.equal(first.toolchain.version, '18.20.4');
    assert.equal(first.toolchain.spec, '18');
    assert.equal(first.toolchain.manifest.fsPath, path.join(project, 'qm.toml'));
    assert.ok(first.toolchain.dir.startsWith(api.home), first.toolchain.dir);
    assert.ok(first.toolchain.path.startsWith(`${first.toolchain.binPaths[0]}${path.delimiter}`), first.toolchain.path);
    assert.match(first.printed, /18\.20\.4/, 'node --version from the acquired toolchain');
    assert.equal((await mirrorStats(NODE_18)).gets, 1);

    // Asked again (here through the API object itself): installed already, nothing more downloaded.
    const again = await consumer.api.acquire({ tool: 'node', uri: vscode.Uri.file(path.join(project, 'any-file.js')), requestingExtensionId: CONSUMER_ID });
    assert.equal(again.dir, first.toolchain.dir);
    assert.equal((await mirrorStats(NODE_18)).gets, 1);
  });

  test('the other extension is told when what a manifest puts in force changes', async () => {
    const manifest = path.join(project, 'qm.toml');
    const installed = consumer.events().find((e) => e.manifest.fsPath === manifest && e.tools.some((t) => t.tool === 'node' && t.version === '18.20.4' && t.installed));
    assert.ok(installed, `no event said node 18.20.4 is installed: ${JSON.stringify(consumer.events())}`);
    const told = new Promise<void>((resolve) => {
      const listener = consumer.api.onDidChangeToolchains((event) => {
        if (event.manifest.fsPath !== manifest || !event.tools.some((t) => t.version === '20.18.1')) return;
        listener.dispose();
        resolve();
      });
    });
    await fs.writeFile(manifest, '[tools]\nnode = "20.18.1"\n');
    await told;
  });

  test('acquire says what is wrong, with a code', async () => {
    const folder = vscode.Uri.file(project);
    await assert.rejects(consumer.api.acquire({ tool: 'go', uri: folder, requestingExtensionId: CONSUMER_ID }), { code: 'ENOTDECLARED' });
    await assert.rejects(consumer.api.acquire({ tool: 'node', uri: vscode.Uri.file('/'), requestingExtensionId: CONSUMER_ID }), { code: 'ENOMANIFEST' });
    // A spec no release matches in a manifest that was good: the last good version stays in force,
    // for another extension as for terminals.
    const manifest = path.join(project, 'qm.toml');
    await fs.writeFile(manifest, '[tools]\nnode = "16"\n');
    // Read again now (the watcher may fold this write into the last).
    await vscode.commands.executeCommand('quartermaster.refresh');
    await until(api, 'node "16" held back', () => api.manifests().find((m) => m.file === manifest && m.heldBack && m.error?.code === 'ENOVERSION'));
    assert.equal((await consumer.api.acquire({ tool: 'node', uri: folder, requestingExtensionId: CONSUMER_ID })).version, '20.18.1');
    // With no good version yet, the error is acquire's answer.
    const fresh = path.join(path.dirname(project), 'api-project-unresolvable');
    await fs.mkdir(fresh, { recursive: true });
    await fs.writeFile(path.join(fresh, 'qm.toml'), '[tools]\nnode = "16"\n');
    await vscode.commands.executeCommand('quartermaster.refresh');
    await until(api, 'node "16" found unresolvable', () => api.manifests().find((m) => m.file === path.join(fresh, 'qm.toml') && m.tools[0]?.error));
    try {
      await assert.rejects(consumer.api.acquire({ tool: 'node', uri: vscode.Uri.file(fresh), requestingExtensionId: CONSUMER_ID }), { code: 'ENOVERSION' });
    } finally {
      await fs.rm(fresh, { recursive: true, force: true });
    }
  });
});

// The harness's "untrusted" session (after untrusted.test.ts, which installs the locked node 22).
suite('Untrusted: another extension cannot make Quartermaster download', () => {
  test('acquire of a toolchain that is not installed fails with EUNTRUSTED and fetches nothing', async () => {
    const api = await quartermasterApi();
    await api.whenIdle();
    const consumer = await vscode.extensions.getExtension<ConsumerExports>(CONSUMER_ID)!.activate();
    const project = path.join(workspaceRoot(), 'untrusted-project');
    await fs.mkdir(project, { recursive: true });
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "20"\n');
    await until(api, 'untrusted-project/qm.toml read', () => api.manifests().find((m) => m.file === path.join(project, 'qm.toml') && !m.tools[0]?.pending));
    await assert.rejects(consumer.api.acquire({ tool: 'node', uri: vscode.Uri.file(project), requestingExtensionId: CONSUMER_ID }), { code: 'EUNTRUSTED' });
    for (const archive of ['/dist/v20.18.1/node-v20.18.1-linux-x64.tar.gz', '/dist/v20.18.1/node-v20.18.1-linux-x64.tar.xz', '/dist/index.json']) {
      assert.equal((await mirrorStats(archive)).requests, 0, archive);
    }
  });
});
