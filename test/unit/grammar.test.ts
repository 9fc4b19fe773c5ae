import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

// vscode-textmate and vscode-oniguruma are not dependencies, so these tests cannot tokenize a
// whole file as VS Code does. The grammar keeps to the regex syntax JavaScript and Oniguruma share,
// which lets each rule be checked here with RegExp on the lines it is meant for.

const ROOT = path.resolve(__dirname, '..', '..');

interface Capture {
  name?: string;
  patterns?: Rule[];
}

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  captures?: Record<string, Capture>;
  beginCaptures?: Record<string, Capture>;
  endCaptures?: Record<string, Capture>;
  patterns?: Rule[];
  repository?: Record<string, Rule>;
}

interface Grammar extends Rule {
  scopeName: string;
  repository: Record<string, Rule>;
}

function loadGrammar(file: string): Grammar {
  return JSON.parse(readFileSync(path.join(ROOT, 'syntaxes', file), 'utf8')) as Grammar;
}

const qmToml = loadGrammar('qm-toml.tmLanguage.json');
const qmLock = loadGrammar('qm-lock.tmLanguage.json');
const grammars = new Map([qmToml, qmLock].map((grammar) => [grammar.scopeName, grammar]));

/** Every rule below `rule`, with a path for messages: patterns, repository, capture patterns. */
function* walk(rule: Rule, where: string): Generator<[string, Rule]> {
  yield [where, rule];
  for (const [index, child] of (rule.patterns ?? []).entries()) yield* walk(child, `${where}.patterns[${index}]`);
  for (const [key, child] of Object.entries(rule.repository ?? {})) yield* walk(child, `${where}#${key}`);
  for (const field of ['captures', 'beginCaptures', 'endCaptures'] as const) {
    for (const [group, capture] of Object.entries(rule[field] ?? {})) {
      for (const [index, child] of (capture.patterns ?? []).entries()) yield* walk(child, `${where}.${field}[${group}].patterns[${index}]`);
    }
  }
}

function groupCount(source: string): number {
  return new RegExp(`${source}|`).exec('')!.length - 1;
}

/** The repository rule `name` of the qm-toml grammar, which must be a single `match`. */
function matcher(name: string): RegExp {
  const source = qmToml.repository[name]?.match;
  assert.ok(source, `#${name} is a match rule`);
  return new RegExp(source);
}

/** The first match of the rule named `name` among a patterns list (e.g. #number's alternatives). */
function firstMatch(name: string, text: string): { scope: string | undefined; text: string } | undefined {
  for (const rule of qmToml.repository[name]?.patterns ?? []) {
    if (!rule.match) continue;
    const found = new RegExp(rule.match).exec(text);
    if (found) return { scope: rule.name, text: found[0] };
  }
  return undefined;
}

describe('qm.toml grammar', () => {
  it('has the scope names package.json registers', () => {
    assert.equal(qmToml.scopeName, 'source.qm-toml');
    assert.equal(qmLock.scopeName, 'source.qm-lock');
  });

  for (const grammar of grammars.values()) {
    it(`${grammar.scopeName}: every regex compiles, and captures name groups that exist`, () => {
      let checked = 0;
      for (const [where, rule] of walk(grammar, grammar.scopeName)) {
        for (const field of ['match', 'begin', 'end'] as const) {
          const source = rule[field];
          if (source === undefined) continue;
          assert.doesNotThrow(() => new RegExp(source), `${where}.${field}: ${source}`);
          checked++;
        }
        const groups = groupCount(rule.match ?? rule.begin ?? '');
        for (const field of ['captures', 'beginCaptures'] as const) {
          for (const group of Object.keys(rule[field] ?? {})) assert.ok(Number(group) <= groups, `${where}.${field}[${group}] of ${groups} groups`);
        }
        for (const group of Object.keys(rule.endCaptures ?? {})) assert.ok(Number(group) <= groupCount(rule.end ?? ''), `${where}.endCaptures[${group}]`);
      }
      assert.ok(checked > 0 || grammar === qmLock);
    });

    it(`${grammar.scopeName}: every include resolves`, () => {
      for (const [where, rule] of walk(grammar, grammar.scopeName)) {
        const include = rule.include;
        if (include === undefined || include === '$self' || include === '$base') continue;
        const [scope, key] = include.startsWith('#') ? [grammar.scopeName, include.slice(1)] : include.split('#');
        const target = grammars.get(scope!);
        assert.ok(target, `${where}: include ${include} names a grammar this extension contributes`);
        if (key) assert.ok(target.repository[key], `${where}: include ${include} names a repository rule`);
      }
    });

    it(`${grammar.scopeName}: every scope ends in its language`, () => {
      for (const [where, rule] of walk(grammar, grammar.scopeName)) {
        const captures = Object.values({ ...rule.captures, ...rule.beginCaptures, ...rule.endCaptures });
        // A grammar's own `name` is its display name, not a scope.
        const own = rule === grammar ? undefined : rule.name;
        for (const name of [own, ...captures.map((capture) => capture.name)]) {
          for (const scope of name?.split(' ') ?? []) assert.match(scope, /\.(toml|qm-toml)$/, `${where}: ${scope}`);
        }
      }
    });
  }

  it('qm.lock reuses the plain TOML rules, not the manifest keys', () => {
    assert.deepEqual(qmLock.patterns, [{ include: 'source.qm-toml#toml' }]);
    const plain = JSON.stringify(qmToml.repository.toml);
    assert.doesNotMatch(plain, /tools-section|artifacts-section|tool-key|qm-dotted-key/);
  });

  it('numbers: decimal, hex, octal, binary, underscores, floats, inf and nan; not versions', () => {
    const cases: Array<[string, string | undefined]> = [
      ['22', 'constant.numeric.integer.toml'],
      ['-17', 'constant.numeric.integer.toml'],
      ['1_000', 'constant.numeric.integer.toml'],
      ['0xDEAD_beef', 'constant.numeric.integer.toml'],
      ['0o755', 'constant.numeric.integer.toml'],
      ['0b1010', 'constant.numeric.integer.toml'],
      ['3.1415', 'constant.numeric.float.toml'],
      ['6.626e-34', 'constant.numeric.float.toml'],
      ['5e+22', 'constant.numeric.float.toml'],
      ['-inf', 'constant.numeric.float.toml'],
      ['nan', 'constant.numeric.float.toml'],
      ['1.2.3', undefined],
      ['01', undefined],
      ['1__0', undefined],
      ['node22', undefined],
    ];
    for (const [text, scope] of cases) {
      const found = firstMatch('number', text);
      if (scope === undefined) assert.equal(found, undefined, text);
      else assert.deepEqual(found, { scope, text }, text);
    }
  });

  it('dates and times, with T or a space, offsets and fractions', () => {
    const cases: Array<[string, string]> = [
      ['1979-05-27T07:32:00Z', 'constant.other.datetime.toml'],
      ['1979-05-27 07:32:00.999999-07:00', 'constant.other.datetime.toml'],
      ['1979-05-27T07:32', 'constant.other.datetime.toml'],
      ['1979-05-27', 'constant.other.date.toml'],
      ['07:32:00', 'constant.other.time.toml'],
      ['00:32:00.5', 'constant.other.time.toml'],
    ];
    for (const [text, scope] of cases) assert.deepEqual(firstMatch('datetime', text), { scope, text }, text);
  });

  it('booleans are whole words', () => {
    const boolean = matcher('boolean');
    assert.equal(boolean.exec('x = true')?.[0], 'true');
    assert.equal(boolean.exec('x = falsey'), null);
    assert.equal(boolean.exec('true-ish = 1'), null);
  });

  it('escapes: the TOML ones are escapes, anything else is marked invalid', () => {
    const [valid, invalid] = qmToml.repository.escape!.patterns!.map((rule) => new RegExp(`^(?:${rule.match})$`));
    for (const text of ['\\n', '\\t', '\\"', '\\\\', '\\u00e9', '\\U0001F600', '\\e', '\\x41']) assert.ok(valid!.test(text), text);
    for (const text of ['\\q', '\\u12', '\\ ']) {
      assert.ok(!valid!.test(text), text);
      assert.ok(invalid!.test(text.slice(0, 2)), text);
    }
  });

  it('keys: bare, quoted and dotted, up to their =', () => {
    const key = matcher('key');
    assert.equal(key.exec('node = "22"')?.[1], 'node');
    assert.equal(key.exec('site."google.com" = true')?.[1], 'site."google.com"');
    assert.equal(key.exec("a . 'b=c' . d = 1")?.[1], "a . 'b=c' . d");
    assert.equal(key.exec('"quoted \\" key" = 1')?.[1], '"quoted \\" key"');
    assert.equal(key.exec('x = "no key in here"')?.index, 0);
    assert.equal(key.exec('"22"'), null);
  });

  it('strings: multi-line delimiters close on the last of up to five quotes', () => {
    const [basicMulti, literalMulti] = qmToml.repository.string!.patterns!;
    assert.equal(new RegExp(basicMulti!.end!).exec('one quote inside""""')?.index, 17);
    assert.equal(new RegExp(literalMulti!.end!).exec("two quotes inside'''''")?.index, 19);
  });

  it('[tools] and [artifacts.<name>] open their sections; other tables do not', () => {
    const tools = new RegExp(qmToml.repository['tools-section']!.begin!);
    const artifacts = new RegExp(qmToml.repository['artifacts-section']!.begin!);
    assert.ok(tools.test('[tools]'));
    assert.ok(tools.test('  [ tools ]  # what the project needs'));
    assert.ok(!tools.test('[tools.node]'));
    assert.ok(!tools.test('[[tools]]'));
    assert.ok(!tools.test('[toolsx]'));
    assert.equal(artifacts.exec('[artifacts.protoc]')?.[4], 'protoc');
    assert.equal(artifacts.exec('[artifacts."my tool"]')?.[4], '"my tool"');
    assert.ok(artifacts.test('[artifacts]'));
    assert.ok(!artifacts.test('[artifacts.protoc.url]'));
    const end = new RegExp(qmToml.repository['tools-section']!.end!);
    assert.ok(end.test('[artifacts.x]'));
    assert.ok(!end.test('node = [ "22" ]'));
  });

  it('known keys: node, go, zig in [tools]; url, sha256, dest in an artifact; their dotted forms', () => {
    const toolKey = matcher('tool-key');
    assert.equal(toolKey.exec('node = "22"')?.[1], 'node');
    assert.equal(toolKey.exec('  zig="0.13.0"')?.[1], 'zig');
    assert.equal(toolKey.exec('nodejs = "22"'), null);
    const field = matcher('artifact-field-key');
    assert.equal(field.exec('sha256 = "abc"')?.[3], 'sha256');
    assert.deepEqual(field.exec('protoc.url = "https://x"')?.slice(1, 4), ['protoc', '.', 'url']);
    assert.equal(field.exec('urls = "x"'), null);
    const [dottedTools, dottedArtifacts] = qmToml.repository['qm-dotted-key']!.patterns!.map((rule) => new RegExp(rule.match!));
    assert.equal(dottedTools!.exec('tools.go = "1.23"')?.[3], 'go');
    assert.equal(dottedTools!.exec('tools = { node = "22" }')?.[1], 'tools');
    assert.equal(dottedArtifacts!.exec('artifacts.protoc.dest = "bin/protoc"')?.[5], 'dest');
    assert.equal(dottedArtifacts!.exec('artifactsx = 1'), null);
  });

  it('comments run to the end of the line', () => {
    assert.equal(matcher('comment').exec('node = "22" # the LTS')?.[0], '# the LTS');
  });
});
