import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CompletionItem, CompletionList, MarkupContent, Position, TextEdit } from 'vscode-languageserver-protocol';
import type { LspTestClient } from '../helpers/lsp-client';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 60_000;

function labels(list: CompletionList): string[] {
  return list.items.map((item) => item.label);
}

/** The edit an item makes: its own, or the list's default range with its text (LSP 3.17 itemDefaults). */
function edit(list: CompletionList, item: CompletionItem): TextEdit {
  if (item.textEdit) {
    assert.ok('range' in item.textEdit, `${item.label} carries a plain text edit`);
    return item.textEdit;
  }
  const range = list.itemDefaults?.editRange;
  assert.ok(range && 'start' in range, `${item.label} has an edit range, its own or the list's`);
  return { range, newText: item.textEditText ?? item.label };
}

function marks(list: CompletionList, label: string): string {
  const item = list.items.find((candidate) => candidate.label === label);
  assert.ok(item, `${label} is offered`);
  return `${item.labelDetails?.detail ?? ''} | ${item.labelDetails?.description ?? ''}`;
}

describe('language server completion and hover', { timeout }, () => {
  let world: LspWorld;
  let client: LspTestClient;

  before(async () => {
    world = await LspWorld.start();
    // node 20.18.1 is installed before the server starts: completion and hover must say so.
    await world.host.install({ jobId: 'setup', requester: { kind: 'command', pid: process.pid, label: 'test setup' }, tools: [{ name: 'node', spec: '20.18.1' }] });
    ({ client } = await world.server());
    // zig stays cold: one test watches its versions arrive.
    await world.warmVersions(client, ['node', 'go']);
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0);
    await world.dispose();
  });

  /** A qm.toml whose lenses say every answer it needs has arrived. */
  async function openSettled(text: string): Promise<string> {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, text);
    await client.lensesUntil(uri, (lenses) => lenses.length > 0 && lenses.every((lens) => !lens.command!.title.endsWith('resolving…')));
    return uri;
  }

  /** Completion once the versions have arrived: asked again at each refresh the server announces. */
  async function completeWarm(uri: string, position: Position): Promise<CompletionList> {
    for (;;) {
      const refreshed = client.nextLensRefresh();
      const list = await client.completion(uri, position);
      if (!list.isIncomplete) {
        refreshed.catch(() => undefined);
        return list;
      }
      await refreshed;
    }
  }

  it('completes tool names in [tools], leaving out those already declared', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, '[tools]\nnode = "22"\nz\n');
    const list = await client.completion(uri, { line: 2, character: 1 });
    assert.deepEqual(labels(list), ['go', 'zig', 'python', 'java', 'rust', 'deno', 'bun']);
    const zig = list.items[1]!;
    assert.deepEqual(edit(list, zig), { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 1 } }, newText: 'zig = "$1"' });
    assert.equal(zig.insertTextFormat, 2, 'a snippet that leaves the cursor between the quotes');
    assert.equal(zig.command?.command, 'editor.action.triggerSuggest');
    assert.deepEqual(labels(await client.completion(uri, { line: 0, character: 0 })), [], 'nothing to complete in a header');
  });

  it('completes versions newest first, with LTS, latest and installed marked, and keywords first', async () => {
    const uri = await openSettled('[tools]\nnode = "2"\n');
    const list = await completeWarm(uri, { line: 1, character: 9 });
    assert.equal(list.isIncomplete, false);
    assert.deepEqual(labels(list), ['latest', 'lts', 'lts/jod', 'lts/iron', 'lts/hydrogen', '23.3.0', '22.12.0', '22.11.0', '20.18.1', '20.18.0', '18.20.4']);
    const sortTexts = list.items.map((item) => item.sortText!);
    assert.deepEqual([...sortTexts].sort(), sortTexts, 'sortText keeps the order');
    assert.equal(marks(list, '23.3.0'), ' latest | 2024-11-20');
    assert.equal(marks(list, '22.12.0'), ' LTS Jod | 2024-12-03');
    assert.equal(marks(list, '20.18.1'), ' LTS Iron, installed | 2024-11-20');
    assert.equal(marks(list, 'latest'), ' | → 23.3.0');
    assert.equal(marks(list, 'lts/iron'), ' | → 20.18.1');
    assert.deepEqual(edit(list, list.items[6]!), { range: { start: { line: 1, character: 8 }, end: { line: 1, character: 9 } }, newText: '22.12.0' }, 'inside quotes the typed text is replaced');
  });

  it('quotes a version typed without quotes, and replaces a whole existing value', async () => {
    const uri = await openSettled('[tools]\nnode = "22"\n');
    await client.edit(uri, [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: 'tools.go = ' }]);
    await client.edit(uri, [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 11 } }, text: '' }]);
    const typed = await completeWarm(uri, { line: 1, character: 7 });
    assert.deepEqual(edit(typed, typed.items.find((item) => item.label === '22.11.0')!), { range: { start: { line: 1, character: 7 }, end: { line: 1, character: 7 } }, newText: '"22.11.0"' });
    const within = await client.completion(uri, { line: 1, character: 9 });
    assert.deepEqual(edit(within, within.items.find((item) => item.label === 'lts')!).range, { start: { line: 1, character: 8 }, end: { line: 1, character: 10 } });
  });

  it('completes with CRLF line breaks, after a dotted tools.<name> key, and not in other tables', async () => {
    const uri = await openSettled('# CRLF\r\ntools.node = "2"\r\n\r\n[other]\r\nnode = "2"\r\n');
    const dotted = await completeWarm(uri, { line: 1, character: 15 });
    assert.equal(dotted.items[0]?.label, 'latest');
    assert.deepEqual(edit(dotted, dotted.items.find((item) => item.label === '22.12.0')!), { range: { start: { line: 1, character: 14 }, end: { line: 1, character: 15 } }, newText: '22.12.0' });
    assert.deepEqual(labels(await client.completion(uri, { line: 4, character: 9 })), [], '[other] is not [tools]');
    await client.edit(uri, [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: 'tools.' }]);
    assert.deepEqual(labels(await client.completion(uri, { line: 2, character: 6 })), ['go', 'zig', 'python', 'java', 'rust', 'deno', 'bun']);
  });

  it('a tool whose versions have not arrived gets keywords now and a complete list after the refresh', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, '[tools]\nzig = "\n');
    const refreshed = client.nextLensRefresh();
    const cold = await client.completion(uri, { line: 1, character: 7 });
    assert.equal(cold.isIncomplete, true);
    assert.deepEqual(labels(cold), ['latest']);
    await refreshed;
    const warm = await completeWarm(uri, { line: 1, character: 7 });
    assert.equal(warm.isIncomplete, false);
    assert.deepEqual(labels(warm), ['latest', '0.13.0', '0.12.1', '0.11.0'], 'the moving master build is not a version anyone can pin');
    assert.equal(marks(warm, '0.13.0'), ' latest | 2024-06-07');
    assert.equal(marks(warm, 'latest'), ' | → 0.13.0');
    assert.equal(edit(warm, warm.items[1]!).newText, '0.13.0', 'after the opening quote, the bare version');
  });

  it('gives each item its own edit when the client takes no default edit range', async () => {
    const plain = await world.server({ capabilities: { textDocument: { completion: { completionItem: { snippetSupport: false } } } } });
    const uri = world.uri(await world.project(), 'qm.toml');
    await plain.client.open(uri, '[tools]\nnode = "99"\n');
    // This client takes no lens refreshes: a message only the version list can give says it has arrived.
    await plain.client.current(uri, (d) => d.some((x) => typeof x.message === 'string' && x.message.includes('the newest is')));
    await plain.client.replace(uri, '[tools]\nnode = "22"\n');
    const list = await plain.client.completion(uri, { line: 1, character: 9 });
    assert.equal(list.itemDefaults, undefined);
    assert.deepEqual(list.items[6]!.textEdit, { range: { start: { line: 1, character: 8 }, end: { line: 1, character: 10 } }, newText: '22.12.0' });
    await plain.client.edit(uri, [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: '\n' }]);
    const names = await plain.client.completion(uri, { line: 2, character: 0 });
    assert.deepEqual(names.items.map((item) => item.textEdit?.newText), ['go', 'zig', 'python', 'java', 'rust', 'deno', 'bun'], 'no snippets for a client without them');
    assert.equal(await plain.client.shutdown(), 0);
  });

  it('completes the keys of an artifact', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, '[artifacts.tool]\nur\n');
    const list = await client.completion(uri, { line: 1, character: 2 });
    assert.deepEqual(labels(list), ['url', 'sha256', 'dest']);
    assert.deepEqual(edit(list, list.items[0]!), { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 2 } }, newText: 'url = "${1:https://}"' });
  });

  it('hovers a version: what it resolves to, release date, LTS, installed or not, download size', async () => {
    const uri = await openSettled('[tools]\nnode = "22"\ngo = "1.23"\nzig = "0.13.0"\n');
    const node = await client.hover(uri, { line: 1, character: 9 });
    assert.deepEqual(node?.range, { start: { line: 1, character: 7 }, end: { line: 1, character: 11 } });
    assert.equal(
      (node?.contents as MarkupContent).value,
      [
        '**Node.js** `22`',
        '',
        'Resolves to **22.12.0** for linux-x64 (LTS Jod)',
        '',
        'Released 2024-12-03',
        '',
        'Not installed (download size not listed)',
        '',
        'Available: latest 23.3.0 · newest LTS 22.12.0 (Jod)',
      ].join('\n'),
    );
    const go = await client.hover(uri, { line: 2, character: 1 });
    assert.deepEqual(go?.range, { start: { line: 2, character: 0 }, end: { line: 2, character: 2 } }, 'on the name, the name is the range');
    const goArchive = world.go.find((a) => a.version === 'go1.23.4' && a.platform === 'linux-amd64' && a.kind === 'archive')!;
    const goText = (go?.contents as MarkupContent).value;
    assert.ok(goArchive.size < 1000, 'the fixture archive is small');
    assert.equal(goText, ['**Go** `1.23`', '', 'Resolves to **1.23.4** for linux-amd64 (latest)', '', `Not installed: a ${goArchive.size} B download`, '', 'Available: latest 1.23.4'].join('\n'), 'go.dev lists no release dates');
    assert.equal(await client.hover(uri, { line: 0, character: 2 }), null, 'nothing to say about a header');
  });

  it('hovers an installed version', async () => {
    const uri = await openSettled('[tools]\nnode = "lts/iron"\n');
    const hover = await client.hover(uri, { line: 1, character: 3 });
    const text = (hover?.contents as MarkupContent).value;
    assert.match(text, /Resolves to \*\*20\.18\.1\*\* for linux-x64 \(LTS Iron\)/);
    assert.match(text, /\n\nInstalled\n/);
  });
});
