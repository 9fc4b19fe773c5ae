import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { LspTestClient } from '../helpers/lsp-client';
import type { BackendCalls } from '../helpers/lsp-coordinator';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 60_000;

/** Diagnostics as `code severity line:col-line:col`, easy to compare whole. */
function brief(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${String(d.code)} ${d.severity} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character}`);
}

/** LSP 3.18 allows markup in a diagnostic's message; this server sends plain strings. */
function messageOf(diagnostic: Diagnostic): string {
  return typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
}

const has = (code: string) => (diagnostics: Diagnostic[]): boolean => diagnostics.some((d) => d.code === code);

describe('language server diagnostics (real server over stdio, real coordinator on a fixture mirror)', { timeout }, () => {
  let world: LspWorld;
  let client: LspTestClient;
  let calls: BackendCalls;

  before(async () => {
    world = await LspWorld.start();
    ({ client, calls } = await world.server());
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0, 'the server exits cleanly on shutdown/exit');
    await world.dispose();
  });

  it('reports every problem of a qm.toml with exact ranges, and what the coordinator knows', async () => {
    const dir = await world.project();
    const uri = world.uri(dir, 'qm.toml');
    const text = [
      '[tools]', //                                  0
      'node = "22"', //                              1
      'nodejs = "20"', //                            2
      'go = "99"', //                                3
      'zig = "0.13.0"', //                           4
      '', //                                         5
      '[artifacts.tool]', //                         6
      'url = "https://example.com/tool.tgz"', //     7
      'sha256 = "abc"', //                           8
      '', //                                         9
      '[extra]', //                                  10
      'key = 1', //                                  11
      '',
    ].join('\n');
    await client.open(uri, text);
    const first = await client.diagnostics(uri);
    assert.equal(first.version, 1);
    assert.ok(has('unknown-tool')(first.diagnostics), 'parser problems are published at once, before any coordinator answer');

    const fromList = (d: Diagnostic[]): boolean => d.some((x) => x.code === 'no-version' && messageOf(x).startsWith('No released version'));
    const settled = await client.current(uri, (d) => fromList(d) && d.filter((x) => x.code === 'not-installed').length === 2);
    assert.deepEqual(brief(settled), [
      'not-installed 3 1:7-1:11',
      'unknown-tool 2 2:0-2:6',
      'no-version 1 3:5-3:9',
      'not-installed 3 4:6-4:14',
      'bad-sha256 1 8:9-8:14',
      'unknown-key 2 10:1-10:6',
    ]);
    const message = (code: string, index = 0): string => messageOf(settled.filter((d) => d.code === code)[index]!);
    assert.equal(message('not-installed'), 'node 22.12.0 is not installed');
    const zig = world.zig.find((a) => a.version === '0.13.0' && a.platform === 'x86_64-linux')!;
    assert.ok(zig.size < 1000, 'the fixture archive is small');
    assert.equal(message('not-installed', 1), `zig 0.13.0 is not installed (a ${zig.size} B download)`);
    assert.equal(message('no-version'), 'No released version of go matches "99" (the newest is 1.23.4)');
    assert.match(message('unknown-tool'), /Unknown tool "nodejs" \(did you mean "node"\?\)/);
    assert.match(message('bad-sha256'), /must be 64 hexadecimal characters \(got 3\)/);
    for (const d of settled) assert.equal(d.source, 'quartermaster');
  });

  it('reports an artifact without a sha256 or with a plain http URL, and a qm.lock that cannot be read', async () => {
    const dir = await world.project({ 'qm.lock': 'version = 1\n[[tool]\n' });
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[artifacts.tool]\nurl = "http://example.com/tool"\n');
    const diagnostics = await client.current(uri, has('lock-unreadable'));
    assert.deepEqual(brief(diagnostics), ['missing-key 1 0:0-0:16', 'lock-unreadable 2 0:0-0:16', 'bad-url 1 1:6-1:31']);
    assert.equal(messageOf(diagnostics[0]!), 'Artifact "tool" has no sha256: add sha256 = "<64 hexadecimal characters>"');
    assert.match(messageOf(diagnostics[1]!), /^qm\.lock cannot be used: \/.*\/qm\.lock:3:1: Unterminated table-key$/);
  });

  it('reports TOML syntax errors where they are, and keeps reading the rest', async () => {
    const dir = await world.project();
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\nnode = "22\ngo = "1.23"\n[artifacts.x\nurl = "https://example.com/x"\n');
    const diagnostics = await client.current(uri, has('not-installed'));
    assert.deepEqual(brief(diagnostics), ['syntax 1 1:10-1:10', 'not-installed 3 2:5-2:11', 'syntax 1 3:0-3:12']);
    assert.match(messageOf(diagnostics[0]!), /^TOML syntax error: /);
    assert.equal(messageOf(diagnostics[2]!), 'TOML syntax error: This table header has no closing "]"');
  });

  it('reads .nvmrc, .node-version and .tool-versions without offering to edit them', async () => {
    const dir = await world.project();
    const nvmrc = world.uri(dir, '.nvmrc');
    await client.open(nvmrc, '99\n');
    assert.deepEqual(brief(await client.current(nvmrc, has('no-version'))), ['no-version 1 0:0-0:2']);

    const nodeVersion = world.uri(dir, '.node-version');
    await client.open(nodeVersion, 'lts/hydrogen\n');
    const lts = await client.current(nodeVersion, has('not-installed'));
    assert.deepEqual(brief(lts), ['not-installed 3 0:0-0:12']);
    assert.equal(messageOf(lts[0]!), 'node 18.20.4 is not installed');

    const toolVersions = world.uri(dir, '.tool-versions');
    await client.open(toolVersions, 'nodejs 20\nruby 3.3.0\ngolang 1.23.3\n');
    const asdf = await client.current(toolVersions, (d) => d.filter((x) => x.code === 'not-installed').length === 2);
    assert.deepEqual(brief(asdf), ['not-installed 3 0:7-0:9', 'unknown-tool 2 1:0-1:4', 'not-installed 3 2:7-2:13']);
    const actions = await client.codeActions(toolVersions, { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, asdf);
    assert.deepEqual(actions.map((a) => a.title), [], 'no edit is offered in a file that belongs to asdf');
  });

  it('a spec that matches no release says so as it is typed, and recovers when it matches again', async () => {
    const dir = await world.project();
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\nnode = "22"\n');
    await client.current(uri, has('not-installed'));
    await client.edit(uri, [{ range: { start: { line: 1, character: 9 }, end: { line: 1, character: 10 } }, text: '5' }]);
    const missing = await client.current(uri, (d) => d.some((x) => x.code === 'no-version' && messageOf(x).startsWith('No released version')));
    assert.deepEqual(brief(missing), ['no-version 1 1:7-1:11']);
    assert.equal(messageOf(missing[0]!), 'No released version of node matches "25" (the newest is 23.3.0)');
    await client.edit(uri, [{ range: { start: { line: 1, character: 8 }, end: { line: 1, character: 10 } }, text: 'lts/iron' }]);
    const iron = await client.current(uri, has('not-installed'));
    assert.deepEqual(brief(iron), ['not-installed 3 1:7-1:17']);
    assert.equal(messageOf(iron[0]!), 'node 20.18.1 is not installed');
  });

  it('clears a closed document; one version list per tool, however many documents ask', async () => {
    const dir = await world.project();
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\nnode = "23"\n');
    await client.current(uri, has('not-installed'));
    await client.close(uri);
    const cleared = await client.diagnostics(uri, (p) => p.diagnostics.length === 0);
    assert.equal(cleared.version, undefined);
    assert.equal(world.mirror.stats('/dist/index.json').gets, 1, 'the Node.js index was fetched once for every document and request so far');
    assert.equal(calls.listRemote, 3, 'the server asked for the versions of node, go and zig once each');
  });
});
