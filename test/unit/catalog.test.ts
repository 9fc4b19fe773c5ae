import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { applyMirrors } from '../../src/core/fetch/url-policy';
import { canonicalTool, isKnownTool, MIRROR_KEYS, TOOL_NAMES, TOOLS, toolPathSegment } from '../../src/core/tools/catalog';
import { IndexCache } from '../../src/core/providers/index-cache';
import { createProviders, mirrorRules, mirrorsFromEnv, providerFor } from '../../src/core/providers/registry';
import { TOOL_TITLES } from '../../src/shared/wording';
import { parseToolArg } from '../../src/cli/tool-args';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the tool catalog is the one list of tools', () => {
  it('every catalog tool has a provider, a title and a mirror; the settings schema offers exactly the mirror keys', () => {
    const providers = createProviders(new IndexCache({ dir: '/nonexistent', fetcher: { downloadBuffer: () => Promise.reject(new Error('no network')) } }));
    for (const tool of TOOLS) {
      assert.equal(providerFor(providers, tool.name).tool, tool.name);
      assert.equal(TOOL_TITLES[tool.name], tool.title);
      assert.match(tool.mirror.env, /^QM_MIRROR_[A-Z]+$/);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { properties?: Record<string, unknown> }> } };
    };
    assert.deepEqual(Object.keys(pkg.contributes.configuration.properties['quartermaster.mirrors']!.properties!).sort(), [...MIRROR_KEYS].sort());
    assert.deepEqual([...TOOL_NAMES], ['node', 'go', 'zig', 'python', 'java', 'rust', 'deno', 'bun']);
    // The grammar marks the known tool keys; it is JSON, so a test keeps it equal to the catalog.
    const grammar = JSON.parse(fs.readFileSync(path.join(ROOT, 'syntaxes', 'qm-toml.tmLanguage.json'), 'utf8')) as { repository: Record<string, { match?: string }> };
    const named = /\((node\|[^"]*?)\|"github:/.exec(grammar.repository['tool-key']!.match!)?.[1]?.split('|');
    assert.deepEqual(named, [...TOOL_NAMES]);
    assert.ok(new RegExp(grammar.repository['tool-key']!.match!).test('"github:cli/cli" = "2.63"'));
  });

  it('a tool\'s own mirror beats GitHub\'s; GitHub\'s API and raw files map as on GitHub Enterprise', () => {
    const rules = mirrorRules(mirrorsFromEnv({ QM_MIRROR_PYTHON: 'https://pbs.example/dl/', QM_MIRROR_GITHUB: 'https://ghe.example' }));
    assert.equal(applyMirrors('https://github.com/astral-sh/python-build-standalone/releases/download/20241219/SHA256SUMS', rules), 'https://pbs.example/dl/20241219/SHA256SUMS');
    assert.equal(applyMirrors('https://github.com/oven-sh/bun/releases/download/bun-v1.1.38/bun-linux-x64.zip', rules), 'https://ghe.example/oven-sh/bun/releases/download/bun-v1.1.38/bun-linux-x64.zip');
    assert.equal(applyMirrors('https://api.github.com/repos/denoland/deno/releases?per_page=100', rules), 'https://ghe.example/api/v3/repos/denoland/deno/releases?per_page=100');
    assert.equal(applyMirrors('https://raw.githubusercontent.com/astral-sh/python-build-standalone/latest-release/latest-release.json', rules), 'https://ghe.example/raw/astral-sh/python-build-standalone/latest-release/latest-release.json');
    assert.equal(applyMirrors('https://static.rust-lang.org/dist/channel-rust-stable.toml', rules), 'https://static.rust-lang.org/dist/channel-rust-stable.toml', 'no rust mirror set');
  });

  it('names: asdf aliases, github:owner/repo checked before it reaches a path, one path segment per tool', () => {
    assert.equal(canonicalTool('nodejs'), 'node');
    assert.equal(canonicalTool('golang'), 'go');
    assert.equal(canonicalTool('temurin'), 'java');
    assert.equal(canonicalTool('python'), 'python');
    for (const good of ['github:cli/cli', 'github:BurntSushi/ripgrep', 'github:a-b/c.d_e']) assert.ok(isKnownTool(good), good);
    for (const bad of ['github:../x', 'github:a/..', 'github:a/.', 'github:a/b/c', 'github:a', 'github:-a/b', 'github:a\\b/c', 'github:a/b c']) assert.ok(!isKnownTool(bad), bad);
    assert.equal(toolPathSegment('github:cli/cli'), 'github+cli+cli');
    assert.equal(toolPathSegment('node'), 'node');
    assert.deepEqual(parseToolArg('github:cli/cli@2.63.0'), { name: 'github:cli/cli', spec: '2.63.0' });
    assert.throws(() => parseToolArg('github:../etc@1'), /Unknown tool "github:\.\.\/etc"/);
  });
});
