import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, CodeLens, Diagnostic, Range, TextEdit } from 'vscode-languageserver-protocol';
import { formatLockfile, parseLockfile } from '../../src/core/lockfile/qm-lock';
import type { InstallResult } from '../../src/shared/protocol';
import type { LspTestClient } from '../helpers/lsp-client';
import type { BackendCalls } from '../helpers/lsp-coordinator';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 60_000;
const KiB = 1024;

const at = (line: number, from: number, to = from): Range => ({ start: { line, character: from }, end: { line, character: to } });
const has = (code: string) => (diagnostics: Diagnostic[]): boolean => diagnostics.some((d) => d.code === code);
const titles = (lenses: CodeLens[]): string[] => lenses.map((lens) => lens.command!.title);

function editsFor(action: CodeAction | undefined, uri: string): TextEdit[] {
  assert.ok(action, 'the action is offered');
  const edits = action.edit?.changes?.[uri];
  assert.ok(edits, `${action.title} edits ${uri}`);
  return edits;
}

describe('language server code actions, code lenses and commands', { timeout }, () => {
  let world: LspWorld;
  let client: LspTestClient;
  let calls: BackendCalls;

  before(async () => {
    world = await LspWorld.start({ nodePayloadBytes: 64 * KiB });
    ({ client, calls } = await world.server());
    await world.warmVersions(client, ['node', 'go', 'zig']);
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0);
    await world.dispose();
  });

  async function open(text: string, settled: (d: Diagnostic[]) => boolean, files: Record<string, string> = {}): Promise<{ uri: string; dir: string; diagnostics: Diagnostic[] }> {
    const dir = await world.project(files);
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, text);
    return { uri, dir, diagnostics: await client.current(uri, settled) };
  }

  it('removes an unknown tool or table, as a quick fix for its diagnostic', async () => {
    const { uri, diagnostics } = await open('[tools]\nnode = "22"\nnodejs = "20"\n\n[extra]\nkey = 1\n', (d) => has('unknown-tool')(d) && has('not-installed')(d));
    const unknownTool = diagnostics.find((d) => d.code === 'unknown-tool')!;
    const actions = await client.codeActions(uri, at(2, 2), [unknownTool]);
    const remove = actions.find((a) => a.kind === 'quickfix');
    assert.equal(remove?.title, 'Remove unknown tool "nodejs"');
    assert.deepEqual(remove?.diagnostics, [unknownTool]);
    assert.deepEqual(editsFor(remove, uri), [{ range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, newText: '' }]);
    await client.applyTextEdits(uri, editsFor(remove, uri));
    assert.equal(client.text(uri), '[tools]\nnode = "22"\n\n[extra]\nkey = 1\n');

    const afterFirst = await client.current(uri, has('not-installed'));
    assert.ok(!has('unknown-tool')(afterFirst));
    const table = afterFirst.find((d) => d.code === 'unknown-key')!;
    assert.deepEqual(table.range, at(3, 1, 6));
    const removeTable = (await client.codeActions(uri, table.range, [table])).find((a) => a.kind === 'quickfix');
    assert.equal(removeTable?.title, 'Remove unknown key "extra"');
    await client.applyTextEdits(uri, editsFor(removeTable, uri));
    assert.equal(client.text(uri), '[tools]\nnode = "22"\n\n', 'the whole table goes; the blank line above it stays');
  });

  it('offers the nearest specs that match for one that matches nothing or is not a spec', async () => {
    const { uri, diagnostics } = await open('[tools]\nnode = "22.99.0"\ngo = "1.99"\nzig = "0.x.y"\n', (d) => d.filter((x) => x.code === 'no-version').length === 2 && has('bad-spec')(d));
    const fixes = async (code: string, tool: string): Promise<CodeAction[]> => {
      const diagnostic = diagnostics.find((d) => d.code === code && (d.data as { tool?: string } | undefined)?.tool === tool) ?? diagnostics.find((d) => d.code === code)!;
      return (await client.codeActions(uri, diagnostic.range, [diagnostic])).filter((a) => a.kind === 'quickfix');
    };
    const onNode = await fixes('no-version', 'node');
    assert.deepEqual(
      onNode.map((a) => a.title),
      ['Change node to "22.12.0": the newest 22.x release', 'Change node to "lts" (22.12.0): the latest LTS release', 'Change node to "latest" (23.3.0): the latest release'],
    );
    assert.deepEqual(onNode.map((a) => a.isPreferred === true), [true, false, false], 'only the nearest is preferred');
    const onGo = await fixes('no-version', 'go');
    assert.deepEqual(onGo.map((a) => a.title), ['Change go to "latest" (1.23.4): the latest release'], 'go 1.99 names no line that exists; Go has no LTS');
    const onZig = await fixes('bad-spec', 'zig');
    assert.deepEqual(onZig.map((a) => a.title), ['Change zig to "0" (0.13.0): the newest 0.x release', 'Change zig to "latest" (0.13.0): the latest release']);
    await client.applyTextEdits(uri, editsFor(onNode[0], uri));
    assert.equal(client.text(uri), '[tools]\nnode = "22.12.0"\ngo = "1.99"\nzig = "0.x.y"\n');
    const after = await client.current(uri, (d) => d.filter((x) => x.code === 'no-version').length === 1);
    assert.ok(!after.some((d) => d.code === 'no-version' && (d.data as { tool?: string } | undefined)?.tool === 'node'));
  });

  it('pins a spec to what it resolves to, and updates an exact pin to the newest compatible release', async () => {
    const { uri } = await open('[tools]\nnode = "22"\ngo = "1.23.3"\nzig = "0.12.1"\n', (d) => d.filter((x) => x.code === 'not-installed').length === 3);
    const onNode = await client.codeActions(uri, at(1, 8));
    const pin = onNode.find((a) => a.title === 'Pin node to 22.12.0');
    assert.equal(pin?.kind, 'refactor.rewrite');
    assert.deepEqual(editsFor(pin, uri), [{ range: at(1, 7, 11), newText: '"22.12.0"' }]);
    const only = async (kind: string): Promise<string[]> => {
      const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: at(1, 8), context: { diagnostics: [], only: [kind] } });
      return actions.map((a) => a.title);
    };
    assert.deepEqual(await only('quickfix'), ['Install node 22.12.0'], 'context.only is honoured');
    assert.deepEqual(await only('refactor'), ['Pin node to 22.12.0'], 'refactor covers refactor.rewrite');

    const onGo = await client.codeActions(uri, at(2, 0));
    const update = onGo.find((a) => a.kind === 'refactor.rewrite');
    assert.equal(update?.title, 'Update go to 1.23.4, the newest release compatible with 1.23.3');
    assert.deepEqual(onGo.filter((a) => a.kind === 'refactor.rewrite').map((a) => a.title), [update.title], 'an exact pin is not offered a pin to itself');
    await client.applyTextEdits(uri, editsFor(update, uri));
    assert.equal(client.text(uri), '[tools]\nnode = "22"\ngo = "1.23.4"\nzig = "0.12.1"\n');

    const onZig = await client.codeActions(uri, at(3, 3));
    assert.deepEqual(onZig.filter((a) => a.kind === 'refactor.rewrite'), [], '0.12.1 is the newest ^0.12.1 release');
  });

  it('installs through the coordinator from the quick fix; lenses show the download, then "installed"', async () => {
    const archive = world.node.find((a) => a.version === 'v23.3.0' && a.ext === 'tar.gz')!;
    world.mirror.fault(archive.path, { kind: 'throttle', bytesPerSecond: 48 * KiB, times: 1 });
    const { uri, diagnostics } = await open('[tools]\nnode = "23"\ngo = "1.23"\n', (d) => d.filter((x) => x.code === 'not-installed').length === 2);
    const goArchive = world.go.find((a) => a.version === 'go1.23.4' && a.platform === 'linux-amd64' && a.kind === 'archive')!;
    assert.deepEqual(titles(await client.codeLenses(uri)), ['node 23.3.0: will download (size not listed)', `go 1.23.4: will download ${goArchive.size} B`]);

    const notInstalled = diagnostics.find((d) => d.code === 'not-installed')!;
    assert.deepEqual(notInstalled.range, at(1, 7, 11));
    const install = (await client.codeActions(uri, notInstalled.range, [notInstalled])).find((a) => a.kind === 'quickfix');
    assert.equal(install?.title, 'Install node 23.3.0');
    assert.equal(install?.isPreferred, true);
    assert.equal(install?.command?.command, 'quartermaster.server.install');

    const result = client.executeCommand(install.command.command, install.command.arguments!) as Promise<InstallResult>;
    const downloading = await client.lensesUntil(uri, (lenses) => /^node 23\.3\.0: downloading \d+% of [\d.]+ [KM]iB$/.test(lenses[0]!.command!.title));
    assert.equal(downloading[0]!.command!.command, '', 'no install offered while one runs');
    const done = await result;
    assert.deepEqual(done.tools.map((t) => [t.tool, t.version, t.installed]), [['node', '23.3.0', true]]);
    assert.equal(calls.install, 1);

    const after = await client.current(uri, (d) => d.filter((x) => x.code === 'not-installed').length === 1);
    assert.deepEqual(after.map((d) => d.message), [`go 1.23.4 is not installed (a ${goArchive.size} B download)`]);
    const installed = await client.lensesUntil(uri, (lenses) => lenses[0]!.command!.title === 'node 23.3.0: installed');
    assert.deepEqual([installed[0]!.command!.command, installed[0]!.command!.arguments], ['quartermaster.switchVersion', ['node']], 'an installed lens switches that tool');
    assert.equal(world.mirror.stats(archive.path).gets, 1, 'downloaded once, by the coordinator');
  });

  it('says when qm.lock no longer matches, and updates it through the coordinator', async () => {
    const node = world.node.find((a) => a.version === 'v20.18.1' && a.ext === 'tar.gz')!;
    const goMac = world.go.find((a) => a.version === 'go1.23.4' && a.kind === 'archive')!;
    const lock = formatLockfile({
      tools: [
        { name: 'node', spec: '20', platform: 'linux-x64', version: '20.18.1', url: node.url, sha256: node.sha256 },
        { name: 'go', spec: '1.23', platform: 'darwin-arm64', version: '1.23.4', url: goMac.url, sha256: goMac.sha256, size: goMac.size },
      ],
      artifacts: [],
    });
    const { uri, dir, diagnostics } = await open('[tools]\nnode = "22"\ngo = "1.23"\n', has('lock-mismatch'), { 'qm.lock': lock });
    assert.ok(client.registrations.some((r) => r.method === 'workspace/didChangeWatchedFiles'), 'the server watches qm.lock files');
    const mismatch = diagnostics.find((d) => d.code === 'lock-mismatch')!;
    assert.deepEqual(mismatch.range, at(1, 0, 11));
    assert.equal(mismatch.severity, 2);
    assert.equal(mismatch.message, 'qm.lock does not match qm.toml: node is "22" in qm.toml but was locked as "20". "qm install" will resolve afresh and rewrite it.');

    const update = (await client.codeActions(uri, mismatch.range, [mismatch])).find((a) => a.title === 'Update qm.lock');
    assert.equal(update?.command?.command, 'quartermaster.server.updateLock');
    const result = (await client.executeCommand(update.command.command, update.command.arguments!)) as { applied: boolean; uri: string };
    assert.deepEqual(result, { applied: true, uri: world.uri(dir, 'qm.lock') });
    await client.current(uri, (d) => !has('lock-mismatch')(d));

    const written = parseLockfile(await fs.readFile(path.join(dir, 'qm.lock'), 'utf8'), 'qm.lock');
    assert.deepEqual(
      written.tools.map((t) => `${t.name} ${t.spec} ${t.platform} ${t.version}`),
      ['go 1.23 darwin-arm64 1.23.4', 'go 1.23 linux-x64 1.23.4', 'node 22 linux-x64 22.12.0'],
      "resolved for this platform; another platform's entry kept while its spec is unchanged",
    );
    const nodeArchive = world.node.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz')!;
    assert.equal(written.tools.find((t) => t.name === 'node')?.sha256, nodeArchive.sha256);
  });

  it('reads an open qm.lock from the editor rather than the disk', async () => {
    const dir = await world.project({ 'qm.lock': formatLockfile({ tools: [], artifacts: [] }) });
    const lockUri = world.uri(dir, 'qm.lock');
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\n');
    assert.deepEqual(await client.current(uri), [], 'an empty lock matches an empty manifest');
    await client.open(lockUri, `version = 1\n\n[[tool]]\nname = "zig"\nspec = "0.13.0"\nplatform = "linux-x64"\nversion = "0.13.0"\nurl = "https://ziglang.org/x.tar.xz"\nsha256 = "${'0'.repeat(64)}"\n`);
    const stale = await client.current(uri, has('lock-mismatch'));
    assert.deepEqual(stale.map((d) => [d.message, d.range]), [['qm.lock does not match qm.toml: zig is locked but no longer declared. "qm install" will resolve afresh and rewrite it.', at(0, 0, 7)]]);
    await client.close(lockUri);
    await client.current(uri, (d) => d.length === 0);
  });
});
