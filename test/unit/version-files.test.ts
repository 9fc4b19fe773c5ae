import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { findManifest, loadManifest, manifestError, parseManifest } from '../../src/core/manifest/find';
import type { Manifest } from '../../src/core/manifest/types';
import { tempHome } from '../helpers/temp-home';

const tools = (manifest: Manifest): string[] => manifest.tools.map((t) => `${t.name} ${t.spec}`);
const problems = (manifest: Manifest): string[] =>
  manifest.problems.map((p) => `${p.severity} ${p.range.start.line}:${p.range.start.column} ${p.message}`);
/** The characters a tool's specRange covers: the range points at the value as written. */
const specText = (text: string, manifest: Manifest, index = 0): string => {
  const range = manifest.tools[index]!.specRange;
  return text.slice(range.start.offset, range.end.offset);
};

describe('version files other tools use', () => {
  it('.python-version: the first version, comments skipped; "system" is an error naming the line', () => {
    const text = '# pyenv local\n3.12.8\n3.11\n';
    const manifest = parseManifest(text, '/p/.python-version');
    assert.deepEqual(tools(manifest), ['python 3.12.8']);
    assert.equal(specText(text, manifest), '3.12.8');
    assert.deepEqual(problems(manifest), ['information 3:1 .python-version: only the first version is used; "3.11" is ignored']);
    assert.deepEqual(problems(parseManifest('\nsystem\n', '/p/.python-version')), ['error 2:1 .python-version: "system" means a python Quartermaster does not manage; write a version']);
    assert.match(problems(parseManifest('3.12.x.y\n', '/p/.python-version'))[0]!, /^error 1:1 \.python-version: Tool "python": "3\.12\.x\.y" is not a version spec/);
  });

  it('.java-version (jenv) and .sdkmanrc (SDKMAN!): vendors named in the version are read as Temurin', () => {
    assert.deepEqual(tools(parseManifest('temurin64-21.0.5\n', '/p/.java-version')), ['java 21.0.5']);
    assert.deepEqual(tools(parseManifest('17\n', '/p/.java-version')), ['java 17']);
    const rc = '# Enable auto-env through the sdkman_auto_env config\ngradle=8.10.2\njava=21.0.5-tem\n';
    const manifest = parseManifest(rc, '/p/.sdkmanrc');
    assert.deepEqual(tools(manifest), ['java 21.0.5']);
    assert.equal(specText(rc, manifest), '21.0.5-tem');
    assert.deepEqual(problems(manifest), []);
    assert.deepEqual(problems(parseManifest('java=21.0.5-zulu\n', '/p/.sdkmanrc')), ['information 1:6 .sdkmanrc: Quartermaster installs Eclipse Temurin, not "zulu"; 21.0.5 is Temurin\'s']);
    assert.deepEqual(problems(parseManifest('java=banana\n', '/p/.sdkmanrc')), ['error 1:6 .sdkmanrc: "banana" is not a java version such as "21.0.5-tem"']);
  });

  it('rust-toolchain.toml and rust-toolchain: the channel; nightly is refused; unknown components are noted', () => {
    const text = '[toolchain]\nchannel = "1.83.0"\ncomponents = ["rustfmt", "clippy", "rust-analyzer"]\nprofile = "minimal"\n';
    const manifest = parseManifest(text, '/p/rust-toolchain.toml');
    assert.deepEqual(tools(manifest), ['rust 1.83.0']);
    assert.equal(specText(text, manifest), '"1.83.0"');
    assert.deepEqual(problems(manifest), ['information 3:1 rust-toolchain.toml: Quartermaster installs rustc, cargo, rust-std, rustfmt and clippy; rust-analyzer is not installed']);
    assert.deepEqual(problems(parseManifest('[toolchain]\nchannel = "nightly-2024-11-01"\n', '/p/rust-toolchain.toml')), [
      'error 2:11 rust-toolchain.toml: Quartermaster installs stable Rust releases ("1.83", "1.83.0", "stable"), not "nightly-2024-11-01"',
    ]);
    assert.match(problems(parseManifest('[toolchain\n', '/p/rust-toolchain.toml'))[0]!, /^error .* rust-toolchain\.toml: TOML syntax error/);
    assert.deepEqual(tools(parseManifest('stable\n', '/p/rust-toolchain')), ['rust stable']);
  });

  it("go.mod: the toolchain line, else the go line", () => {
    const text = 'module example.com/m\n\ngo 1.22.0\n\ntoolchain go1.23.4 // pinned\n\nrequire golang.org/x/text v0.21.0\n';
    const manifest = parseManifest(text, '/p/go.mod');
    assert.deepEqual(tools(manifest), ['go 1.23.4']);
    assert.equal(specText(text, manifest), 'go1.23.4');
    assert.deepEqual(tools(parseManifest('module m\n\ngo 1.21\n', '/p/go.mod')), ['go 1.21']);
    assert.deepEqual(tools(parseManifest('module m\n', '/p/go.mod')), []);
  });

  it("package.json: volta.node, then devEngines.runtime, then engines.node", () => {
    const all = JSON.stringify({ engines: { node: '>=18' }, devEngines: { runtime: { name: 'node', version: '^22' } }, volta: { node: '22.11.0' } }, null, 2);
    assert.deepEqual(tools(parseManifest(all, '/p/package.json')), ['node 22.11.0']);
    const dev = JSON.stringify({ engines: { node: '>=18' }, devEngines: { runtime: [{ name: 'bun', version: '1' }, { name: 'node', version: '^22' }] } });
    const manifest = parseManifest(dev, '/p/package.json');
    assert.deepEqual(tools(manifest), ['node ^22']);
    assert.equal(specText(dev, manifest), '^22');
    assert.deepEqual(tools(parseManifest('{"engines": {"node": ">=20.18.1"}}', '/p/package.json')), ['node >=20.18.1']);
    assert.deepEqual(tools(parseManifest('{"name": "x"}', '/p/package.json')), []);
    assert.match(problems(parseManifest('{', '/p/package.json'))[0]!, /package\.json is not valid JSON/);
  });
});

describe('version files beside a manifest', () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome()));
  afterEach(() => dispose());
  const write = (name: string, text: string): Promise<void> => fs.writeFile(path.join(dir, name), text);

  it('add the tools qm.toml does not declare, each naming its file; qm.toml wins for the rest', async () => {
    await write('qm.toml', '[tools]\nnode = "22"\n');
    await write('.python-version', '3.12\n');
    await write('package.json', '{"engines": {"node": ">=18"}}');
    await write('rust-toolchain.toml', '[toolchain]\nchannel = "1.83"\n');
    const manifest = await loadManifest(path.join(dir, 'qm.toml'));
    assert.deepEqual(tools(manifest), ['node 22', 'python 3.12', 'rust 1.83']);
    assert.equal(manifest.tools[0]!.file, undefined);
    assert.equal(manifest.tools[1]!.file, path.join(dir, '.python-version'));
    assert.equal(manifestError(manifest), undefined);
  });

  it('a bad version file beside qm.toml stops a run with its own file, line and value; one qm.toml overrides does not', async () => {
    await write('qm.toml', '[tools]\nnode = "22"\n');
    await write('.python-version', '\n\nsystem\n');
    await write('package.json', '{"engines": {"node": "a banana"}}');
    const error = manifestError(await loadManifest(path.join(dir, 'qm.toml')));
    assert.equal(error?.code, 'EMANIFEST');
    assert.equal(error?.message, `${path.join(dir, '.python-version')}:3:1: .python-version: "system" means a python Quartermaster does not manage; write a version`);
    assert.equal(error?.details.path, path.join(dir, '.python-version'));
    await fs.rm(path.join(dir, '.python-version'));
    assert.equal(manifestError(await loadManifest(path.join(dir, 'qm.toml'))), undefined, "package.json's node is qm.toml's to declare: its mistake does not stop a run");
  });

  it('a directory with only version files is a project; package.json and go.mod only when they declare a tool', async () => {
    const sub = path.join(dir, 'sub');
    await fs.mkdir(sub);
    await write('.java-version', '21\n');
    await fs.writeFile(path.join(sub, 'package.json'), '{"name": "no-engines"}');
    assert.equal(await findManifest(sub), path.join(dir, '.java-version'), 'a package.json without engines is passed over');
    await fs.writeFile(path.join(sub, 'package.json'), '{"engines": {"node": "22"}}');
    assert.equal(await findManifest(sub), path.join(sub, 'package.json'));
    await fs.writeFile(path.join(sub, 'go.mod'), 'module m\n\ngo 1.23\n');
    const manifest = await loadManifest(path.join(sub, 'package.json'));
    assert.deepEqual(tools(manifest), ['node 22', 'go 1.23']);
  });
});
