import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isQmError } from '../../src/core/errors';
import { applyTextEdit, removeKey, removeKeyEdit, setToolSpec, toolSpecEdit } from '../../src/core/manifest/edit';
import { KNOWN_TOOLS, parseQmToml } from '../../src/core/manifest/qm-toml';
import type { Manifest, SourceRange } from '../../src/core/manifest/types';

const SHA = 'ab'.repeat(32);

/** What a manifest says, without ranges: tools in order, artifacts, problem codes. */
function meaning(manifest: Manifest): unknown {
  return {
    tools: manifest.tools.map((tool) => [tool.name, tool.spec]),
    artifacts: manifest.artifacts.map((artifact) => [artifact.name, artifact.url, artifact.sha256, artifact.dest]),
    problems: manifest.problems.map((problem) => problem.code),
  };
}

/** Sets the spec both ways (string and LSP edit), checks they agree, and returns the new text. */
function set(text: string, tool: string, spec: string): string {
  const result = setToolSpec(text, tool, spec);
  assert.equal(applyTextEdit(text, toolSpecEdit(text, tool, spec)), result);
  return result;
}

/** The offset of an LSP position, counting lines the obvious way. */
function offsetAt(text: string, position: { line: number; character: number }): number {
  const starts = [0];
  for (const match of text.matchAll(/\r\n|\r|\n/g)) starts.push(match.index + match[0].length);
  return starts[position.line]! + position.character;
}

/** An empty inline tools table is replaced whole (`{}` becomes `{ go = "1" }`). */
function form(text: string): string {
  return /tools = \{\s*\}/.test(text) ? 'inline' : 'other';
}

function problemRange(text: string, code: string, index = 0): SourceRange {
  const problem = parseQmToml(text, 'qm.toml').problems.filter((candidate) => candidate.code === code)[index];
  assert.ok(problem, `no ${code} problem in ${JSON.stringify(text)}`);
  return problem.range;
}

describe('setToolSpec', () => {
  it('replaces an existing value in place, keeping its quotes and trailing comment', () => {
    const text = "# top\n[tools]\nnode = '20' # pinned\ngo = \"1.22\"\n";
    assert.equal(set(text, 'node', '22'), "# top\n[tools]\nnode = '22' # pinned\ngo = \"1.22\"\n");
    assert.equal(set(text, 'go', '1.23.4'), "# top\n[tools]\nnode = '20' # pinned\ngo = \"1.23.4\"\n");
  });

  it('falls back to a basic string when a literal string cannot hold the spec', () => {
    const text = "[tools]\nnode = '20'\n";
    assert.equal(set(text, 'node', "it's"), '[tools]\nnode = "it\'s"\n');
    assert.equal(set('[tools]\nnode = "20"\n', 'node', 'a"b\\c\n'), '[tools]\nnode = "a\\"b\\\\c\\n"\n');
  });

  it('replaces a dotted key, an inline table entry, a multi-line string or a non-string value', () => {
    assert.equal(set('tools.node = "20" # ci\nfoo = 1\n', 'node', '22'), 'tools.node = "22" # ci\nfoo = 1\n');
    assert.equal(set('tools = { node = "20", go = "1.22" }\n', 'go', '1.23'), 'tools = { node = "20", go = "1.23" }\n');
    assert.equal(set('[tools]\nnode = """\n20"""\nzig = "0.13.0"\n', 'node', '22'), '[tools]\nnode = "22"\nzig = "0.13.0"\n');
    assert.equal(set('[tools]\nnode = 20\n', 'node', '22'), '[tools]\nnode = "22"\n');
    assert.equal(set('[tools]\n"node" = "20"\n', 'node', '22'), '[tools]\n"node" = "22"\n');
  });

  it('adds the key after the last key of [tools], before blank lines and comments of the next table', () => {
    const text = '# top\n[tools]\nnode = "22" # lts\ngo = "1.23"\n\n# pinned files\n[artifacts.x]\nurl = "https://x.example/a"\n';
    assert.equal(
      set(text, 'zig', '0.13.0'),
      '# top\n[tools]\nnode = "22" # lts\ngo = "1.23"\nzig = "0.13.0"\n\n# pinned files\n[artifacts.x]\nurl = "https://x.example/a"\n',
    );
  });

  it('matches the indentation of the keys above and adds after a multi-line value', () => {
    assert.equal(set('[tools]\n  node = "22"\n[other]\n', 'go', '1.23'), '[tools]\n  node = "22"\n  go = "1.23"\n[other]\n');
    assert.equal(set("[tools]\nnode = '''\n22'''\n", 'go', '1.23'), "[tools]\nnode = '''\n22'''\ngo = \"1.23\"\n");
  });

  it('adds to an empty [tools] right under its header, also at the end of a file without a final newline', () => {
    assert.equal(set('[tools] # what we need\n\n[artifacts]\n', 'go', '1.23'), '[tools] # what we need\ngo = "1.23"\n\n[artifacts]\n');
    assert.equal(set('[tools]', 'go', '1.23'), '[tools]\ngo = "1.23"');
    assert.equal(set('[tools]\nnode = "22"', 'go', '1.23'), '[tools]\nnode = "22"\ngo = "1.23"');
  });

  it('adds beside dotted tools keys and into inline tools tables', () => {
    assert.equal(set('tools.node = "22"\nfoo = 1\n', 'go', '1.23'), 'tools.node = "22"\ntools.go = "1.23"\nfoo = 1\n');
    assert.equal(set('tools = { node = "22" }\n', 'go', '1.23'), 'tools = { node = "22", go = "1.23" }\n');
    assert.equal(set('tools = {}\n', 'go', '1.23'), 'tools = { go = "1.23" }\n');
  });

  it('appends a [tools] table separated by one blank line', () => {
    const artifact = `[artifacts.x]\nurl = "https://x.example/a"\nsha256 = "${SHA}"`;
    assert.equal(set(`${artifact}\n`, 'node', '22'), `${artifact}\n\n[tools]\nnode = "22"\n`);
    assert.equal(set(artifact, 'node', '22'), `${artifact}\n\n[tools]\nnode = "22"\n`);
    assert.equal(set(`${artifact}\n\n`, 'node', '22'), `${artifact}\n\n[tools]\nnode = "22"\n`);
    assert.equal(set('', 'node', '22'), '[tools]\nnode = "22"\n');
    assert.equal(set('# only a comment\n', 'node', '22'), '# only a comment\n\n[tools]\nnode = "22"\n');
  });

  it('keeps \\r\\n line endings in every kind of edit', () => {
    assert.equal(set('[tools]\r\nnode = "20"\r\n\r\n[x]\r\n', 'go', '1.23'), '[tools]\r\nnode = "20"\r\ngo = "1.23"\r\n\r\n[x]\r\n');
    assert.equal(set('[x]\r\na = 1\r\n', 'go', '1.23'), '[x]\r\na = 1\r\n\r\n[tools]\r\ngo = "1.23"\r\n');
    assert.equal(set('[tools]\r\nnode = "20"', 'go', '1.23'), '[tools]\r\nnode = "20"\r\ngo = "1.23"');
  });

  it('quotes a tool name that is not a bare key', () => {
    assert.equal(set('[tools]\n', 'my tool', '1'), '[tools]\n"my tool" = "1"\n');
  });

  it('refuses text that is not valid TOML or a tools entry that is a table, with EMANIFEST', () => {
    const refuses = (text: string, pattern: RegExp): void => {
      assert.throws(() => setToolSpec(text, 'node', '22'), (error: unknown) => isQmError(error, 'EMANIFEST') && pattern.test(error.message));
    };
    refuses('[tools]\nnode = "20\n', /syntax error at 2:11: Unterminated string constant/);
    refuses('tools = "22"\n', /"tools" is not a table \(line 1\)/);
    refuses('[tools.node]\nversion = "1"\n', /\[tools.node\] is a table, not a version/);
    refuses('[tools]\nnode.version = "1"\n', /tools.node is a table, not a version \(line 2\)/);
    refuses('[[tools]]\n', /\[tools\] is a table/);
  });

  it('gives the edit in LSP form: 0-based lines and UTF-16 characters', () => {
    assert.deepEqual(toolSpecEdit('# 🦀\n[tools]\nnode = "20"\n', 'node', '22'), {
      range: { start: { line: 2, character: 7 }, end: { line: 2, character: 11 } },
      newText: '"22"',
    });
    assert.deepEqual(toolSpecEdit('[tools]\r\nnode = "20"\r\n', 'go', '1.23'), {
      range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } },
      newText: 'go = "1.23"\r\n',
    });
  });

  it('round-trips: the parse sees the new spec, everything else is unchanged byte for byte', () => {
    const manifest = fc
      .record({
        eol: fc.constantFrom('\n', '\r\n'),
        form: fc.constantFrom('table', 'dotted', 'inline', 'absent'),
        quote: fc.constantFrom('"', "'"),
        tools: fc.subarray([...KNOWN_TOOLS]),
        comments: fc.boolean(),
        artifactFirst: fc.boolean(),
        finalNewline: fc.boolean(),
      })
      .map(({ eol, form, quote, tools, comments, artifactFirst, finalNewline }) => {
        const comment = comments ? ' # note' : '';
        const entries = tools.map((tool, i) => `${tool} = ${quote}${i + 1}.0${quote}`);
        const artifact = [`[artifacts.a]${comment}`, 'url = "https://x.example/a"', `sha256 = "${SHA}"`, ''];
        let toolLines: string[] = [];
        if (form === 'table') toolLines = [`[tools]${comment}`, ...entries.map((entry) => entry + comment), ''];
        if (form === 'dotted') toolLines = [...entries.map((entry) => `tools.${entry}${comment}`), ''];
        if (form === 'inline') toolLines = [`tools = { ${entries.join(', ')} }${comment}`, ''];
        // Dotted and inline tools are top-level keys, so they must come before any table.
        const lines = artifactFirst && form === 'table' ? [...artifact, ...toolLines] : [...toolLines, ...artifact];
        if (comments) lines.unshift('# Quartermaster');
        const text = lines.join(eol);
        return finalNewline ? text : text.trimEnd();
      });
    const spec = fc.oneof(fc.constantFrom('22', 'lts/iron', '^1.23', "it's", 'a"b', 'x\\y'), fc.string({ unit: 'binary', maxLength: 12 }));
    fc.assert(
      fc.property(manifest, fc.constantFrom(...KNOWN_TOOLS), spec, (text, tool, newSpec) => {
        const before = parseQmToml(text, 'qm.toml');
        assert.deepEqual(before.problems, []);
        const edited = set(text, tool, newSpec);
        const after = parseQmToml(edited, 'qm.toml');
        assert.equal(after.tools.find((entry) => entry.name === tool)?.spec, newSpec);
        // Every other tool and every artifact reads the same, in the same order.
        const others = (parsed: Manifest): unknown => meaning({ ...parsed, tools: parsed.tools.filter((entry) => entry.name !== tool), problems: [] });
        assert.deepEqual(others(after), others(before));
        // The spec is written as given, so only it may be reported.
        assert.deepEqual(
          after.problems.filter((problem) => problem.code !== 'bad-spec'),
          [],
        );
        // The edit covers exactly the old value, or nothing when the key is added: the rest of
        // the text stays byte for byte.
        const edit = toolSpecEdit(text, tool, newSpec);
        const start = offsetAt(text, edit.range.start);
        const end = offsetAt(text, edit.range.end);
        assert.equal(edited, text.slice(0, start) + edit.newText + text.slice(end));
        const old = before.tools.find((entry) => entry.name === tool);
        if (old) assert.deepEqual([start, end], [old.specRange.start.offset, old.specRange.end.offset]);
        else if (form(text) !== 'inline') assert.equal(start, end);
      }),
      { numRuns: 500 },
    );
  });
});

describe('removeKey', () => {
  it('removes the whole line of an unknown key, trailing comment included', () => {
    const text = '[tools]\nnode = "22"\n\n[artifacts.x]\nurl = "https://x.example/a"\nmode = "0755" # executable\nsha256 = "' + SHA + '"\n';
    const range = problemRange(text, 'unknown-key');
    assert.equal(removeKey(text, range), text.replace('mode = "0755" # executable\n', ''));
    assert.deepEqual(parseQmToml(removeKey(text, range), 'qm.toml').problems, []);
  });

  it('removes a whole unknown table without leaving a double blank line', () => {
    const text = '[tools]\nnode = "22"\n\n[settings] # old\ncolor = true\nlevel = [\n  1,\n]\n\n[artifacts]\n';
    assert.equal(removeKey(text, problemRange(text, 'unknown-key')), '[tools]\nnode = "22"\n\n[artifacts]\n');
  });

  it('removes one entry of an inline table and keeps the rest of the line', () => {
    const text = `artifacts.x = { url = "https://x.example/a", size = 3, sha256 = "${SHA}" }\nartifacts.y = { size = 3 }\n`;
    const once = removeKey(text, problemRange(text, 'unknown-key'));
    assert.equal(once, `artifacts.x = { url = "https://x.example/a", sha256 = "${SHA}" }\nartifacts.y = { size = 3 }\n`);
    assert.equal(removeKey(once, problemRange(once, 'unknown-key')), `artifacts.x = { url = "https://x.example/a", sha256 = "${SHA}" }\nartifacts.y = {}\n`);
    const last = `artifacts.x = { url = "https://x.example/a", sha256 = "${SHA}", size = 3 }\n`;
    assert.equal(removeKey(last, problemRange(last, 'unknown-key')), `artifacts.x = { url = "https://x.example/a", sha256 = "${SHA}" }\n`);
  });

  it('keeps \\r\\n endings and a missing final newline', () => {
    assert.equal(removeKey('[tools]\r\nnode = "22"\r\nfoo = 1\r\n', problemRange('[tools]\r\nnode = "22"\r\nfoo = 1\r\n', 'unknown-tool')), '[tools]\r\nnode = "22"\r\n');
    assert.equal(removeKey('[tools]\nnode = "22"\nfoo = 1', problemRange('[tools]\nnode = "22"\nfoo = 1', 'unknown-tool')), '[tools]\nnode = "22"');
  });

  it('removes the lines of the range when the text does not parse', () => {
    const text = 'nodejs 22\npython 3.12\ngolang 1.23\n';
    const range: SourceRange = { start: { line: 2, column: 1, offset: 10 }, end: { line: 2, column: 7, offset: 16 } };
    assert.equal(removeKey(text, range), 'nodejs 22\ngolang 1.23\n');
  });

  it('gives the same removal as an LSP edit', () => {
    const text = '[tools]\nnode = "22"\nfoo = "1"\n';
    const range = problemRange(text, 'unknown-tool');
    const edit = removeKeyEdit(text, range);
    assert.deepEqual(edit, { range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, newText: '' });
    assert.equal(applyTextEdit(text, edit), removeKey(text, range));
  });
});
