import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { QuartermasterApi } from '../../../src/extension/api';
import { inTerminal, quartermasterApi, until, workspaceRoot } from '../quartermaster';

/**
 * Runs after toolchains.test.ts (file order): qm.toml declares node 20.18.1 and zig 0.13.0, both
 * installed. Each test puts qm.toml back as it found it.
 */
suite('An honest status bar: a broken manifest never costs the toolchains', () => {
  let api: QuartermasterApi;
  let manifest: string;
  let good: string;

  suiteSetup(async () => {
    api = await quartermasterApi();
    manifest = path.join(workspaceRoot(), 'qm.toml');
    await api.whenIdle();
    good = await fs.readFile(manifest, 'utf8');
  });

  // A write while a refresh is still under way is a different race (tested elsewhere): start settled.
  setup(() => api.whenIdle());

  teardown(async () => {
    await fs.writeFile(manifest, good);
    await until(api, 'the good qm.toml in force again', () => !api.statusBar().error && !status()?.heldBack && api.statusBar().text.includes('node 20.18.1'));
  });

  function status(): ReturnType<QuartermasterApi['manifests']>[number] | undefined {
    return api.manifests().find((m) => m.file === manifest);
  }

  /** The line (1-based) of qm.toml that starts with `start`. */
  function lineOf(text: string, start: string): number {
    return text.split('\n').findIndex((line) => line.startsWith(start)) + 1;
  }

  test('a half-typed line: the last good manifest stays in force in new terminals, and the status bar names line and column', async () => {
    const before = status();
    assert.ok(before && !before.heldBack, JSON.stringify(before));
    const node = before.tools.find((t) => t.name === 'node');
    assert.equal(node?.version, '20.18.1');
    assert.equal(node?.installed, true);

    const broken = `${good.trimEnd()}\npython =\n`;
    await fs.writeFile(manifest, broken);
    const bar = await until(api, 'the error look', () => api.statusBar().error && api.statusBar());
    const line = lineOf(broken, 'python =');
    assert.match(bar.text, new RegExp(`^\\$\\(error\\) node 20\\.18\\.1 {2}zig 0\\.13\\.0 · qm\\.toml:${line}:8$`), bar.text);
    assert.deepEqual(bar.goesTo, { file: manifest, line, column: 8 });
    assert.match(bar.tooltip, /No value after "="/);
    assert.match(bar.tooltip, /last version that could be used stays in force/);
    assert.match(bar.tooltip, /Click to go to the error/);

    const held = status();
    assert.equal(held?.heldBack, true);
    assert.deepEqual(held?.tools.map((t) => [t.name, t.version, t.installed, t.binPaths]), before.tools.map((t) => [t.name, t.version, t.installed, t.binPaths]));
    const printed = await inTerminal('command -v node > "$OUT"');
    assert.equal(printed.trim(), path.join(node.binPaths[0]!, 'node'), 'a new terminal still runs the declared node');
  });

  test('a spec naming no release, or with a comment inside its quotes, is never shown as in force', async () => {
    const noRelease = good.replace(/^node = .*$/m, 'node = "99.0.0"');
    await fs.writeFile(manifest, noRelease);
    let bar = await until(api, 'the error look for node 99.0.0', () => api.statusBar().error && api.statusBar());
    assert.doesNotMatch(bar.text, /99\.0\.0/);
    assert.match(bar.text, new RegExp(`node 20\\.18\\.1 .*qm\\.toml:${lineOf(noRelease, 'node =')}:8$`), bar.text);
    await fs.writeFile(manifest, good);
    await until(api, 'the good qm.toml in force again', () => !api.statusBar().error && api.statusBar());
    await api.whenIdle();

    const commented = good.replace(/^zig = .*$/m, 'zig = "0.13.0 # exactly this one"');
    await fs.writeFile(manifest, commented);
    bar = await until(api, 'the error look for the comment', () => api.statusBar().error && api.statusBar());
    assert.doesNotMatch(bar.text, /#|exactly/);
    assert.match(bar.text, new RegExp(`zig 0\\.13\\.0 · qm\\.toml:${lineOf(commented, 'zig =')}:7$`), bar.text);
  });

  test('a manifest that declares nothing does not offer to switch a version', async () => {
    await fs.writeFile(manifest, '[tools]\n');
    const bar = await until(api, 'no toolchains', () => /no toolchains/.test(api.statusBar().text) && api.statusBar());
    assert.equal(bar.error, false);
    assert.doesNotMatch(bar.tooltip, /Click to switch/);
  });
});
