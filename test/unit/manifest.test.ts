import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isQmError } from '../../src/core/errors';
import { findManifest, loadManifest, manifestError, parseManifest } from '../../src/core/manifest/find';
import { parseNodeVersionFile, parseToolVersions } from '../../src/core/manifest/legacy';
import { KNOWN_TOOLS, parseQmToml } from '../../src/core/manifest/qm-toml';
import type { Manifest, SourceRange } from '../../src/core/manifest/types';

const SHA = '0123456789abcdef'.repeat(4);

/** `line:column-line:column`, as a person reads a range. */
function span(range: SourceRange): string {
  return `${range.start.line}:${range.start.column}-${range.end.line}:${range.end.column}`;
}

/** Every problem as `severity code range`, the compact form the assertions compare. */
function problems(manifest: Manifest): string[] {
  return manifest.problems.map((problem) => `${problem.severity} ${problem.code} ${span(problem.range)}`);
}

function textOf(text: string, range: SourceRange): string {
  return text.slice(range.start.offset, range.end.offset);
}

/** Line and column of an offset counted the slow, obvious way (LSP line breaks). */
function naivePosition(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const breaks = before.match(/\r\n|\r|\n/g) ?? [];
  const lastBreak = Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
  return { line: breaks.length + 1, column: offset - (lastBreak + 1) + 1 };
}

/** Every range a manifest holds lies in the text, in order, with line/column matching its offset. */
function assertRangesWithin(text: string, manifest: Manifest): void {
  const ranges: SourceRange[] = manifest.problems.map((problem) => problem.range);
  for (const tool of manifest.tools) ranges.push(tool.nameRange, tool.specRange, tool.entryRange);
  for (const artifact of manifest.artifacts) {
    ranges.push(artifact.headerRange, artifact.nameRange, artifact.entryRange);
    for (const field of Object.values(artifact.fields)) ranges.push(field.keyRange, field.valueRange, field.entryRange);
  }
  for (const range of ranges) {
    assert.ok(range.start.offset >= 0 && range.start.offset <= range.end.offset && range.end.offset <= text.length, span(range));
    for (const position of [range.start, range.end]) {
      assert.deepEqual({ line: position.line, column: position.column }, naivePosition(text, position.offset));
    }
  }
}

const EXAMPLE = [
  '# Quartermaster manifest',
  '[tools]',
  'node = "22"          # exact, prefix, range, lts, latest',
  "go = '1.23.4'",
  'zig = "0.13.0"',
  '',
  '[artifacts.fileserver]   # any file pinned by URL + digest',
  'url = "https://example.com/spin_static_fs.wasm"',
  `sha256 = "${SHA.toUpperCase()}"`,
  'dest = "components/fileserver.wasm"   # optional, relative to the project',
  '',
].join('\n');

describe('parseQmToml', () => {
  it('reads tools and artifacts with exact ranges', () => {
    const manifest = parseQmToml(EXAMPLE, '/project/qm.toml');
    assert.deepEqual(problems(manifest), []);
    assert.equal(manifest.kind, 'qm.toml');
    assert.equal(manifest.dir, '/project');
    assert.deepEqual(
      manifest.tools.map((tool) => [tool.name, tool.spec, span(tool.nameRange), span(tool.specRange), span(tool.entryRange)]),
      [
        ['node', '22', '3:1-3:5', '3:8-3:12', '3:1-3:12'],
        ['go', '1.23.4', '4:1-4:3', '4:6-4:14', '4:1-4:14'],
        ['zig', '0.13.0', '5:1-5:4', '5:7-5:15', '5:1-5:15'],
      ],
    );
    const [artifact] = manifest.artifacts;
    assert.ok(artifact);
    assert.equal(manifest.artifacts.length, 1);
    assert.equal(artifact.name, 'fileserver');
    assert.equal(artifact.url, 'https://example.com/spin_static_fs.wasm');
    assert.equal(artifact.sha256, SHA, 'the digest is lower-cased');
    assert.equal(artifact.dest, 'components/fileserver.wasm');
    assert.equal(span(artifact.headerRange), '7:1-7:23');
    assert.equal(textOf(EXAMPLE, artifact.headerRange), '[artifacts.fileserver]');
    assert.equal(textOf(EXAMPLE, artifact.nameRange), 'fileserver');
    assert.equal(span(artifact.entryRange), '7:1-10:36');
    assert.equal(textOf(EXAMPLE, artifact.fields.url!.valueRange), '"https://example.com/spin_static_fs.wasm"');
    assert.equal(span(artifact.fields.sha256!.keyRange), '9:1-9:7');
    assert.equal(textOf(EXAMPLE, artifact.fields.dest!.entryRange), 'dest = "components/fileserver.wasm"');
    assertRangesWithin(EXAMPLE, manifest);
  });

  it('reports every kind of mistake with its code, severity and exact range', () => {
    const text = [
      '# Quartermaster manifest',
      '[tools]',
      'node = "22"',
      "go = 'lts'",
      'zig = 13',
      'erlang = "27.1"',
      'nodejs = "20"',
      '',
      '[artifacts.fileserver]',
      'url = "http://example.com/spin_static_fs.wasm"',
      'sha256 = "0123456789ab"',
      'dest = "../outside.wasm"',
      'mode = "0755"',
      '',
      '[artifacts.nodigest]',
      'url = "https://example.com/a.wasm"',
      '',
      '[settings]',
      'color = true',
      '',
    ].join('\n');
    const manifest = parseQmToml(text, '/p/qm.toml');
    assert.deepEqual(problems(manifest), [
      'error bad-spec 4:6-4:11',
      'error bad-spec 5:7-5:9',
      'warning unknown-tool 6:1-6:7',
      'warning unknown-tool 7:1-7:7',
      'error bad-url 10:7-10:47',
      'error bad-sha256 11:10-11:24',
      'error bad-dest 12:8-12:25',
      'warning unknown-key 13:1-13:5',
      'error missing-key 15:1-15:21',
      'warning unknown-key 18:2-18:10',
    ]);
    const messages = manifest.problems.map((problem) => problem.message);
    assert.deepEqual(messages, [
      'Tool "go": only Node.js and Java have LTS releases; write a version such as "1.23.4" or "latest"',
      'The version of tool "zig" must be a string, like zig = "0.13.0" (got an integer)',
      'Unknown tool "erlang": Quartermaster installs node, go, zig, python, java, rust, deno, bun and "github:<owner>/<repo>"; this entry is ignored',
      'Unknown tool "nodejs" (did you mean "node"?): Quartermaster installs node, go, zig, python, java, rust, deno, bun and "github:<owner>/<repo>"; this entry is ignored',
      'url for artifact "fileserver" must use https:// (plain http:// is allowed only for localhost, where nobody on the network can alter the download)',
      'sha256 for artifact "fileserver" must be 64 hexadecimal characters (got 12)',
      'dest for artifact "fileserver" must stay inside the project ("../outside.wasm" leads outside it)',
      'Unknown key "mode" in artifact "fileserver": an artifact has url, sha256 and dest; this is ignored',
      'Artifact "nodigest" has no sha256: add sha256 = "<64 hexadecimal characters>"',
      'Unknown table [settings]: qm.toml reads only [tools] and [artifacts.<name>]; this is ignored',
    ]);
    assert.deepEqual(
      manifest.tools.map((tool) => tool.name),
      ['node', 'go'],
      'unknown and non-string tools are left out; a string spec with a problem stays',
    );
    assert.deepEqual(
      manifest.artifacts.map((artifact) => [artifact.name, artifact.sha256]),
      [
        ['fileserver', '0123456789ab'],
        ['nodigest', ''],
      ],
    );
    assertRangesWithin(text, manifest);
  });

  it('reports an invalid version spec as bad-spec on the value', () => {
    const manifest = parseQmToml('[tools]\nnode = "banana"\ngo = ""\n', 'qm.toml');
    assert.deepEqual(problems(manifest), ['error bad-spec 2:8-2:16', 'error bad-spec 3:6-3:8']);
    assert.match(manifest.problems[0]!.message, /^Tool "node": "banana" is not a version spec: write an exact version/);
    assert.match(manifest.problems[1]!.message, /^Tool "go": The version spec is empty/);
  });

  it('reports a TOML syntax error at its exact place and still reads the other lines', () => {
    const text = '[tools]\nnode = "22\ngo = "1.23"\nzig = 0.13.0\n';
    const manifest = parseQmToml(text, 'qm.toml');
    assert.deepEqual(problems(manifest), ['error syntax 2:11-2:11', 'error syntax 4:11-4:12']);
    assert.equal(manifest.problems[0]!.message, 'TOML syntax error: Unterminated string constant');
    assert.equal(manifest.problems[1]!.message, 'TOML syntax error: Must be a newline');
    assert.deepEqual(
      manifest.tools.map((tool) => tool.name),
      ['go'],
    );
  });

  it('blames an unclosed table header on its own line, not on the key below it', () => {
    const text = `[tools]\nnode = "22"\n  [artifacts.x\nurl = "https://a.example/b"\nsha256 = "${SHA}"\n[artifacts.y]\n`;
    const manifest = parseQmToml(text, 'qm.toml');
    assert.deepEqual(problems(manifest).slice(0, 1), ['error syntax 3:3-3:15']);
    assert.equal(manifest.problems[0]!.message, 'TOML syntax error: This table header has no closing "]"');
    // The keys under the broken header do not leak into [tools] as unknown tools.
    assert.deepEqual(problems(manifest).slice(1), ['error missing-key 6:1-6:14', 'error missing-key 6:1-6:14']);
    assert.deepEqual(
      manifest.tools.map((tool) => tool.spec),
      ['22'],
    );
  });

  it('blames a half-typed `python =` on its own line, and keeps the key below it (the parser blames the next line)', () => {
    for (const text of ['[tools]\nnode = "22"\npython =\nzig = "0.13.0"    # exactly this one\n', '[tools]\nnode = "22"\npython =   # later\n\n# zig\nzig = "0.13.0"\n']) {
      const manifest = parseQmToml(text, '/p/qm.toml');
      assert.deepEqual(manifest.tools.map((t) => `${t.name} ${t.spec}`), ['node 22', 'zig 0.13.0'], text);
      assert.equal(manifest.problems.length, 1, JSON.stringify(manifest.problems));
      assert.deepEqual([manifest.problems[0]!.code, manifest.problems[0]!.range.start.line, manifest.problems[0]!.range.start.column], ['syntax', 3, 8]);
    }
    const atEnd = parseQmToml('[tools]\nnode = "22"\npython =\n', '/p/qm.toml');
    assert.deepEqual(atEnd.problems.map((p) => p.range.start.line), [3]);
  });

  it('reports a key or table defined twice as duplicate, on the second definition', () => {
    const keys = parseQmToml('[tools]\nnode = "22"\nnode = "20"\n', 'qm.toml');
    assert.deepEqual(problems(keys), ['error duplicate 3:1-3:5']);
    assert.equal(keys.problems[0]!.message, '"node" is defined more than once: a TOML key or table can be defined only once');
    assert.deepEqual(
      keys.tools.map((tool) => tool.spec),
      ['22'],
    );
    const tables = parseQmToml('[tools]\nnode = "22"\n\n["tools"]\ngo = "1.23"\n', 'qm.toml');
    assert.deepEqual(problems(tables), ['error duplicate 4:2-4:9']);
    assert.match(tables.problems[0]!.message, /^"tools" is defined more than once/);
  });

  it('reports two artifacts writing the same dest as duplicate', () => {
    const text = [
      `[artifacts.a]\nurl = "https://x.example/a"\nsha256 = "${SHA}"\ndest = "bin/tool"`,
      `[artifacts.b]\nurl = "https://x.example/b"\nsha256 = "${SHA}"\ndest = "./bin//tool"`,
    ].join('\n');
    const manifest = parseQmToml(text, 'qm.toml');
    assert.deepEqual(problems(manifest), ['error duplicate 8:8-8:21']);
    assert.equal(manifest.problems[0]!.message, 'dest for artifact "b" is also the dest of artifact "a": each artifact needs its own file');
  });

  it('accepts dotted keys and inline tables and checks them the same way', () => {
    const text = [
      'tools.node = "lts/iron"',
      `artifacts.a = { url = "https://x.example/a", sha256 = "${SHA}", size = 3 }`,
      'artifacts.b.url = "https://x.example/b"',
      `artifacts.b.sha256 = "${SHA}"`,
      '',
    ].join('\n');
    const manifest = parseQmToml(text, 'qm.toml');
    assert.deepEqual(problems(manifest), ['warning unknown-key 2:123-2:127']);
    assert.deepEqual(
      manifest.tools.map((tool) => [tool.name, tool.spec, textOf(text, tool.nameRange)]),
      [['node', 'lts/iron', 'node']],
    );
    assert.deepEqual(
      manifest.artifacts.map((artifact) => [artifact.name, artifact.url, textOf(text, artifact.headerRange)]),
      [
        ['a', 'https://x.example/a', 'artifacts.a'],
        ['b', 'https://x.example/b', 'artifacts.b.url'],
      ],
    );
    assert.equal(span(manifest.artifacts[1]!.entryRange), '3:1-4:88');
  });

  it('reports tools or artifacts of the wrong shape as bad-type or bad-spec', () => {
    const text = ['tools = "22"', 'artifacts.e = "x"', '[[artifacts.f]]', '[artifacts.g.url]', '[tools.go]', ''].join('\n');
    const manifest = parseQmToml(text, 'qm.toml');
    assert.deepEqual(problems(manifest), [
      'error bad-type 1:1-1:13',
      'error bad-type 2:15-2:18',
      'error bad-type 3:3-3:14',
      'error missing-key 4:1-4:18',
      'error bad-url 4:14-4:17',
      'error duplicate 5:2-5:7',
    ]);
    assert.equal(manifest.problems[1]!.message, 'Artifact "e" must be a table with url and sha256');
    assert.equal(manifest.problems[2]!.message, '[[artifacts.f]] is an array of tables; write [artifacts.f] instead');
    assert.equal(manifest.problems[4]!.message, 'url for artifact "g" must be a string (got a table)');
    const table = parseQmToml('[tools.go]\nversion = "1.23"\n[tools.erlang]\n', 'qm.toml');
    assert.deepEqual(problems(table), ['error bad-spec 1:8-1:10', 'warning unknown-tool 3:8-3:14']);
    assert.equal(table.problems[0]!.message, 'The version of tool "go" must be a string, like go = "1.23.4" (got a table)');
  });

  it('accepts https and loopback http URLs and rejects the rest', () => {
    const check = (url: string): string[] => {
      const manifest = parseQmToml(`[artifacts.a]\nurl = ${JSON.stringify(url)}\nsha256 = "${SHA}"\n`, 'qm.toml');
      return manifest.problems.map((problem) => `${problem.code}: ${problem.message}`);
    };
    for (const ok of ['https://example.com/a', 'http://127.0.0.1:8080/a', 'http://localhost/a', 'http://[::1]/a']) assert.deepEqual(check(ok), [], ok);
    assert.deepEqual(check('http://192.168.1.2/a'), [
      'bad-url: url for artifact "a" must use https:// (plain http:// is allowed only for localhost, where nobody on the network can alter the download)',
    ]);
    assert.deepEqual(check('ftp://example.com/a'), ['bad-url: url for artifact "a" must be an https:// URL (got ftp://)']);
    assert.deepEqual(check('example.com/a'), ['bad-url: url for artifact "a" is not a valid URL: "example.com/a"']);
    const numeric = parseQmToml(`[artifacts.a]\nurl = 3\nsha256 = "${SHA}"\n`, 'qm.toml');
    assert.deepEqual(problems(numeric), ['error bad-url 2:7-2:8']);
  });

  it('explains what is wrong with a digest', () => {
    const check = (sha256: string): string | undefined =>
      parseQmToml(`[artifacts.a]\nurl = "https://x.example/a"\nsha256 = "${sha256}"\n`, 'qm.toml').problems[0]?.message;
    assert.equal(check(SHA), undefined);
    assert.equal(check('g'.repeat(64)), 'sha256 for artifact "a" must be 64 hexadecimal characters (0-9, a-f)');
    assert.equal(check(`sha256:${SHA}`), 'sha256 for artifact "a" must be only the 64 hexadecimal characters of the digest, without a "sha256:" prefix');
    assert.equal(check(''), 'sha256 for artifact "a" must be 64 hexadecimal characters (got 0)');
  });

  it('keeps dest relative and inside the project', () => {
    const check = (dest: string): string | undefined =>
      parseQmToml(`[artifacts.a]\nurl = "https://x.example/a"\nsha256 = "${SHA}"\ndest = ${JSON.stringify(dest)}\n`, 'qm.toml').problems[0]?.message;
    for (const ok of ['a.wasm', 'components/a.wasm', 'a/../b.wasm', './a.wasm', '.config/a']) assert.equal(check(ok), undefined, ok);
    assert.equal(check('/etc/passwd'), 'dest for artifact "a" must be a path relative to the project, not absolute ("/etc/passwd")');
    assert.equal(check('C:\\tools\\a.exe'), 'dest for artifact "a" must be a path relative to the project, not absolute ("C:\\tools\\a.exe")');
    assert.equal(check('C:a.exe'), 'dest for artifact "a" must be a path relative to the project, not absolute ("C:a.exe")');
    assert.equal(check('\\\\server\\share\\a'), 'dest for artifact "a" must be a path relative to the project, not absolute ("\\\\server\\share\\a")');
    assert.equal(check('a/../../b'), 'dest for artifact "a" must stay inside the project ("a/../../b" leads outside it)');
    assert.equal(check('a\\..\\..\\b'), 'dest for artifact "a" must stay inside the project ("a\\..\\..\\b" leads outside it)');
    assert.equal(check('..'), 'dest for artifact "a" must stay inside the project (".." leads outside it)');
    assert.equal(check('a/..'), 'dest for artifact "a" must name a file inside the project, not the project directory itself');
    assert.equal(check(''), 'dest for artifact "a" must name a file inside the project (got an empty path)');
  });

  it('counts columns in UTF-16 units, lines at \\n, \\r\\n and \\r, and ignores a byte-order mark', () => {
    const text = '\uFEFF[tools]\r\n# 🦀 crab\r\nnode = "🦀"\r\n';
    const manifest = parseQmToml(text, 'qm.toml');
    assert.deepEqual(problems(manifest), ['error bad-spec 3:8-3:12']);
    assert.equal(textOf(text, manifest.problems[0]!.range), '"🦀"');
    const lone = parseQmToml('a = 1\rb = 2', 'qm.toml');
    // TOML does not allow a lone \r, but editors count it as a line break, so positions do too.
    const syntax = lone.problems.find((problem) => problem.code === 'syntax');
    assert.ok(syntax);
    assert.equal(span(syntax.range), '2:1-2:2');
    assert.equal(syntax.range.start.offset, 6);
  });

  it('exports the tools it knows', () => {
    assert.deepEqual([...KNOWN_TOOLS], ['node', 'go', 'zig', 'python', 'java', 'rust', 'deno', 'bun']);
  });

  it('never throws and keeps every range inside the text, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        assertRangesWithin(text, parseQmToml(text, 'qm.toml'));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString('utf8');
        assertRangesWithin(text, parseQmToml(text, 'qm.toml'));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and keeps every range inside the text, for random edits of a valid manifest', () => {
    const pieces = ['[', ']', '"', "'", '=', '.', '#', '\n', '\r\n', ' ', '{', '}', ',', 'tools', 'node', 'artifacts', 'url', 'x', '22', '"""', '\\', '🦀'];
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.nat({ max: 12 }),
      insert: fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((parts) => parts.join('')),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => {
        let text = EXAMPLE;
        for (const { at, remove, insert } of edits) {
          const start = at % (text.length + 1);
          text = text.slice(0, start) + insert + text.slice(start + remove);
        }
        assertRangesWithin(text, parseQmToml(text, 'qm.toml'));
      }),
      { numRuns: 1000 },
    );
  });

  it('survives absurd nesting without throwing', () => {
    const deep = `a = ${'['.repeat(20_000)}${']'.repeat(20_000)}\n[tools]\nnode = "22"\n`;
    const manifest = parseQmToml(deep, 'qm.toml');
    assertRangesWithin(deep, manifest);
  });

  it('parses a 1 MB manifest in reasonable time', () => {
    const parts = ['[tools]\nnode = "22"\ngo = "1.23.4"\n\n'];
    let size = parts[0]!.length;
    for (let i = 0; size < 1024 * 1024; i++) {
      const part = `[artifacts.a${i}]\nurl = "https://example.com/files/a${i}.wasm"\nsha256 = "${SHA}"\ndest = "out/a${i}.wasm" # comment\n\n`;
      parts.push(part);
      size += part.length;
    }
    const text = parts.join('');
    const started = performance.now();
    const manifest = parseQmToml(text, 'qm.toml');
    const elapsed = performance.now() - started;
    console.log(`parseQmToml: ${(text.length / 1024 / 1024).toFixed(2)} MB, ${manifest.artifacts.length} artifacts in ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(manifest.problems, []);
    assert.equal(manifest.artifacts.length, parts.length - 1);
    assert.ok(elapsed < 30_000, 'a generous sanity bound, not a benchmark');

    const broken = text.replace('[artifacts.a5]', '[artifacts.a5').replace('node = "22"', 'node = "22');
    const brokenStarted = performance.now();
    const recovered = parseQmToml(broken, 'qm.toml');
    console.log(`parseQmToml: 1 MB with 2 syntax errors in ${(performance.now() - brokenStarted).toFixed(0)} ms`);
    assert.deepEqual(
      recovered.problems.map((problem) => problem.code),
      ['syntax', 'syntax'],
    );
  });
});

describe('.tool-versions', () => {
  it('maps asdf names, takes the first installable version, and reports the rest', () => {
    const text = [
      '# asdf',
      'nodejs 22.11.0 20.18.1 # the main one',
      'golang system 1.23.4',
      'erlang 27.1',
      'zig',
      '  zig latest:0.13',
      'node 18',
      'golang ref:abc',
      '',
    ].join('\r\n');
    const manifest = parseToolVersions(text, '/p/.tool-versions');
    assert.equal(manifest.kind, '.tool-versions');
    assert.deepEqual(
      manifest.tools.map((tool) => [tool.name, tool.spec, span(tool.nameRange), span(tool.specRange), span(tool.entryRange)]),
      [
        ['node', '22.11.0', '2:1-2:7', '2:8-2:15', '2:1-2:23'],
        ['go', '1.23.4', '3:1-3:7', '3:15-3:21', '3:1-3:21'],
        ['zig', '0.13', '6:3-6:6', '6:7-6:18', '6:3-6:18'],
      ],
    );
    assert.deepEqual(problems(manifest), [
      'information bad-spec 3:8-3:14',
      'warning unknown-tool 4:1-4:7',
      'error bad-spec 5:1-5:4',
      'warning duplicate 7:1-7:5',
      'error bad-spec 8:8-8:15',
    ]);
    assert.deepEqual(
      manifest.problems.map((problem) => problem.message),
      [
        'Quartermaster cannot install "system", so it uses the fallback "1.23.4"',
        'Unknown tool "erlang": Quartermaster installs node, go, zig, python, java, rust, deno, bun and "github:<owner>/<repo>"; this entry is ignored',
        'No version for zig: write a line such as "zig 0.13.0"',
        'node is already listed on line 2; that line is used and this one ignored',
        'asdf\'s "ref:abc" cannot be installed by Quartermaster; write a version such as "1.23.4"',
      ],
    );
    assertRangesWithin(text, manifest);
  });

  it('translates asdf lts-<codename> and reports versions that are not specs', () => {
    const manifest = parseToolVersions('nodejs lts-iron\ngolang banana\n', '.tool-versions');
    assert.deepEqual(
      manifest.tools.map((tool) => tool.spec),
      ['lts/iron'],
    );
    assert.deepEqual(problems(manifest), ['error bad-spec 2:8-2:14']);
    assert.match(manifest.problems[0]!.message, /^Tool "go": "banana" is not a version spec/);
  });
});

describe('.nvmrc and .node-version', () => {
  it('reads one spec from .nvmrc, after comments, keeping a "v" prefix as written', () => {
    const text = '# pinned for CI\n\n  v22.11.0  # current LTS\nlts/*\n';
    const manifest = parseNodeVersionFile(text, '/p/.nvmrc', '.nvmrc');
    assert.equal(manifest.kind, '.nvmrc');
    assert.deepEqual(
      manifest.tools.map((tool) => [tool.name, tool.spec, span(tool.specRange)]),
      [['node', 'v22.11.0', '3:3-3:11']],
    );
    assert.deepEqual(problems(manifest), ['warning syntax 4:1-4:6']);
    assert.equal(manifest.problems[0]!.message, '.nvmrc holds one version; this line is ignored');
  });

  it('accepts lts/<codename>, lts/* and node', () => {
    for (const spec of ['lts/iron', 'lts/*', 'node', '22']) {
      const manifest = parseNodeVersionFile(`${spec}\n`, '.nvmrc', '.nvmrc');
      assert.deepEqual(problems(manifest), [], spec);
      assert.equal(manifest.tools[0]!.spec, spec);
    }
  });

  it('reports a version that is not a spec, and a file with none', () => {
    const bad = parseNodeVersionFile('lts/-1\n', '.node-version', '.node-version');
    assert.deepEqual(problems(bad), ['error bad-spec 1:1-1:7']);
    const empty = parseNodeVersionFile('\n  \n', '.node-version', '.node-version');
    assert.deepEqual(problems(empty), ['error bad-spec 1:1-1:1']);
    assert.equal(empty.problems[0]!.message, '.node-version names no version: write one such as "22" or "lts/*"');
    // .node-version has no comments: a "#" is part of the version and so wrong.
    assert.deepEqual(problems(parseNodeVersionFile('22 # x\n', '.node-version', '.node-version')), ['error bad-spec 1:1-1:7']);
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        assertRangesWithin(text, parseToolVersions(text, '.tool-versions'));
        assertRangesWithin(text, parseNodeVersionFile(text, '.nvmrc', '.nvmrc'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('findManifest, loadManifest and manifestError', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'qm-manifest-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function project(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      await mkdir(join(dir, file, '..'), { recursive: true });
      await writeFile(join(dir, file), text);
    }
    return dir;
  }

  it('prefers qm.toml, then .tool-versions, then .nvmrc, then .node-version in one directory', async () => {
    const dir = await project('precedence', { 'qm.toml': '', '.tool-versions': '', '.nvmrc': '', '.node-version': '' });
    assert.equal(await findManifest(dir), join(dir, 'qm.toml'));
    await rm(join(dir, 'qm.toml'));
    assert.equal(await findManifest(dir), join(dir, '.tool-versions'));
    await rm(join(dir, '.tool-versions'));
    assert.equal(await findManifest(dir), join(dir, '.nvmrc'));
    await rm(join(dir, '.nvmrc'));
    assert.equal(await findManifest(dir), join(dir, '.node-version'));
  });

  it('searches upward, and a nearer directory wins whatever the kinds', async () => {
    const dir = await project('upward', { 'qm.toml': '[tools]\n', 'packages/web/.nvmrc': '22\n', 'packages/api/src/index.ts': '' });
    assert.equal(await findManifest(join(dir, 'packages/api/src')), join(dir, 'qm.toml'));
    assert.equal(await findManifest(join(dir, 'packages/web')), join(dir, 'packages/web/.nvmrc'));
    assert.equal(await findManifest(join(dir, 'packages/api/src'), { stopAt: join(dir, 'packages') }), undefined);
    assert.equal(await findManifest(join(dir, 'packages/api/src'), { stopAt: dir }), join(dir, 'qm.toml'));
  });

  it('passes over a directory named like a manifest', async () => {
    const dir = await project('not-a-file', { 'qm.toml/keep': '', '.nvmrc': '20\n' });
    assert.equal(await findManifest(dir, { stopAt: dir }), join(dir, '.nvmrc'));
  });

  it('loads a manifest by its file name, without a byte-order mark', async () => {
    const dir = await project('load', { 'qm.toml': '\uFEFF[tools]\nnode = "22"\n', '.tool-versions': 'nodejs 20.1.0\n', '.nvmrc': 'lts/iron\n' });
    const toml = await loadManifest(join(dir, 'qm.toml'));
    assert.equal(toml.kind, 'qm.toml');
    assert.equal(toml.dir, dir);
    assert.equal(span(toml.tools[0]!.specRange), '2:8-2:12');
    assert.equal(toml.tools[0]!.specRange.start.offset, 15);
    assert.deepEqual(
      (await loadManifest(join(dir, '.tool-versions'))).tools.map((tool) => [tool.name, tool.spec]),
      [['node', '20.1.0']],
    );
    assert.equal((await loadManifest(join(dir, '.nvmrc'))).tools[0]!.spec, 'lts/iron');
    assert.equal(parseManifest('22\n', join(dir, '.node-version')).kind, '.node-version');
  });

  it('throws EMANIFEST for a missing file and EUSAGE for a name that is not a manifest', async () => {
    await assert.rejects(loadManifest(join(root, 'missing', 'qm.toml')), (error: unknown) => {
      return isQmError(error, 'EMANIFEST') && error.details.path === join(root, 'missing', 'qm.toml') && /ENOENT/.test(error.message);
    });
    await assert.rejects(loadManifest(join(root, 'Cargo.toml')), (error: unknown) => isQmError(error, 'EUSAGE'));
    assert.throws(() => parseManifest('', 'Cargo.toml'), (error: unknown) => isQmError(error, 'EUSAGE'));
  });

  it('turns the first error into EMANIFEST file:line:column, and ignores warnings', () => {
    const manifest = parseQmToml('[tools]\nerlang = "3"\nnode = 22\ngo = "x y"\n', '/p/qm.toml');
    const error = manifestError(manifest);
    assert.ok(error);
    assert.equal(error.code, 'EMANIFEST');
    assert.equal(error.message, '/p/qm.toml:3:8: The version of tool "node" must be a string, like node = "22.11.0" (got an integer)');
    assert.deepEqual(error.details, { path: '/p/qm.toml', line: 3, column: 8 });
    assert.equal(manifestError(parseQmToml('[tools]\nerlang = "3"\n', 'qm.toml')), undefined);
  });
});
