import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Position } from 'vscode-languageserver-protocol';
import { LspTestClient } from '../helpers/lsp-client';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 90_000;
const MB = 1_000_000;

/** Deterministic bytes, so a failure reproduces. */
function garbage(length: number, seed: number): string {
  let state = seed;
  let text = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    text += String.fromCharCode(state >>> 24);
  }
  // Lone surrogates and NULs are valid in a JavaScript string and survive JSON: the worst a client can send.
  return `${text}\u0000\ud800\udfff\ud83d`;
}

function bigManifest(): string {
  let text = '[tools]\nnode = "22"\n';
  for (let i = 0; text.length < MB; i++) text += `\n[artifacts.a${i}]\nurl = "https://example.com/a${i}.tgz"\nsha256 = "${'ab'.repeat(32)}"\ndest = "bin/a${i}"\n`;
  return text;
}

describe('language server on bad input: never a crash, always a diagnostic', { timeout }, () => {
  let world: LspWorld;
  let client: LspTestClient;

  before(async () => {
    world = await LspWorld.start();
    ({ client } = await world.server());
  });
  after(async () => {
    assert.ok(!client.logs.some((line) => line.includes('failed')), `the server logged no failure:\n${client.logs.join('\n')}`);
    assert.equal(await client.shutdown(), 0);
    await world.dispose();
  });

  /** The server still answers: a hover somewhere, and a completion. */
  async function answers(uri: string, position: Position = { line: 0, character: 0 }): Promise<void> {
    await client.hover(uri, position);
    await client.completion(uri, position);
    assert.ok(client.alive);
  }

  it('a 1 MB manifest: diagnostics for it and for an edit at its end, answers after', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    const text = bigManifest();
    await client.open(uri, text);
    const diagnostics = await client.current(uri, (d) => d.some((x) => x.code === 'not-installed'));
    assert.deepEqual(diagnostics.map((d) => d.code), ['not-installed']);
    const end = { line: text.split('\n').length - 1, character: 0 };
    await client.edit(uri, [{ range: { start: end, end }, text: '[bogus\n' }]);
    const broken = await client.current(uri);
    assert.ok(broken.some((d) => d.code === 'syntax'), 'the new syntax error is reported');
    await answers(uri, end);
    const lenses = await client.codeLenses(uri);
    assert.deepEqual(lenses.map((lens) => lens.command?.title), ['node 22.12.0: will download (size not listed)'], 'the tools above the broken header still count');
  });

  it('binary garbage, in every kind of manifest', async () => {
    const dir = await world.project();
    for (const [i, name] of ['qm.toml', '.tool-versions', '.nvmrc', '.node-version'].entries()) {
      const uri = world.uri(dir, name);
      await client.open(uri, garbage(64 * 1024, i + 1));
      const diagnostics = await client.current(uri);
      assert.ok(diagnostics.length > 0, `${name}: at least one diagnostic`);
      await answers(uri, { line: 3, character: 5 });
    }
  });

  it('deeply nested arrays, inline tables and table headers', async () => {
    const cases = {
      arrays: `a = ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
      inlineTables: `tools = ${'{ a = '.repeat(20_000)}1${' }'.repeat(20_000)}\n`,
      header: `[${Array.from({ length: 20_000 }, (_, k) => `k${k}`).join('.')}]\nx = 1\n`,
      dottedKey: `[tools]\n${Array.from({ length: 20_000 }, (_, k) => `k${k}`).join('.')} = "22"\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      const uri = world.uri(await world.project(), 'qm.toml');
      await client.open(uri, text);
      const diagnostics = await client.current(uri);
      assert.ok(diagnostics.length > 0, `${name}: at least one diagnostic`);
      await answers(uri, { line: 0, character: 10 });
    }
  });

  it('random edits (fast-check): every final version gets diagnostics, requests in between are answered', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    const seed = '# project\n[tools]\nnode = "22"\ngo = \'1.23\'\n\n[artifacts.tool]\nurl = "https://example.com/t.tgz"\nsha256 = "00"\n';
    await client.open(uri, seed);
    await client.current(uri);
    const fragment = fc.oneof(
      fc.constantFrom('[', ']', '[[', '"', "'", '"""', '=', '.', ',', '{', '}', '#', '\n', '\r\n', '\r', ' ', '\t', '\\', 'node', 'go', 'zig', 'tools', 'artifacts', '22', 'lts/', 'latest', 'é', '😀', '\ud800', '\u0000'),
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    const edit = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), span: fc.nat({ max: 20 }), text: fc.array(fragment, { maxLength: 4 }).map((parts) => parts.join('')) });
    const probe = fc.record({ afterEdit: fc.nat({ max: 8 }), at: fc.double({ min: 0, max: 1, noNaN: true }), kind: fc.constantFrom('completion', 'hover', 'codeAction', 'codeLens') });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), probe, async (edits, request) => {
        const pending: Array<Promise<unknown>> = [];
        for (const [index, change] of edits.entries()) {
          const text = client.text(uri);
          const start = Math.floor(change.at * text.length);
          const end = Math.min(text.length, start + change.span);
          const range = { start: positionAt(text, start), end: positionAt(text, end) };
          await client.edit(uri, [{ range, text: change.text }]);
          if (index === Math.min(request.afterEdit, edits.length - 1)) pending.push(probeAt(uri, request.kind, positionAt(client.text(uri), Math.floor(request.at * client.text(uri).length))));
        }
        const diagnostics = await client.current(uri);
        assert.ok(Array.isArray(diagnostics));
        await Promise.all(pending);
        assert.ok(client.alive);
      }),
      { numRuns: 150 },
    );
    await answers(uri);
  });

  it('a client that forwards nothing to a coordinator: the parser\'s diagnostics, keywords, lenses that say why', async () => {
    const { client: bare } = await LspTestClient.start({ env: { QM_PLATFORM: 'linux-x64' } });
    try {
      const uri = world.uri(await world.project(), 'qm.toml');
      await bare.open(uri, '[tools]\nnode = "22"\nnodejs = "1"\n');
      assert.deepEqual((await bare.current(uri)).map((d) => d.code), ['unknown-tool']);
      const lenses = await bare.lensesUntil(uri, (l) => l[0]?.command?.title.includes('unresolved') === true);
      assert.match(lenses[0]!.command!.title, /^node: unresolved \(.*qm\/server\/resolve.*\)$/);
      const list = await bare.completion(uri, { line: 1, character: 9 });
      assert.equal(list.isIncomplete, true);
      assert.deepEqual(list.items.map((item) => item.label), ['latest', 'lts']);
      assert.equal(await bare.shutdown(), 0);
    } finally {
      await bare.kill();
    }
  });

  function probeAt(uri: string, kind: string, position: Position): Promise<unknown> {
    const range = { start: position, end: position };
    if (kind === 'completion') return client.completion(uri, position);
    if (kind === 'hover') return client.hover(uri, position);
    if (kind === 'codeAction') return client.codeActions(uri, range);
    return client.codeLenses(uri);
  }
});

/** An LSP position (UTF-16, lines broken at \n, \r\n or \r) of an offset. */
function positionAt(text: string, offset: number): Position {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x0d && text.charCodeAt(i + 1) === 0x0a) {
      if (i + 1 >= offset) break;
      i++;
    }
    if (char === 0x0a || char === 0x0d) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: offset - lineStart };
}
