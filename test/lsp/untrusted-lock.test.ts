import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { LspTestClient } from '../helpers/lsp-client';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 60_000;

function messageOf(diagnostic: Diagnostic): string {
  return typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
}

/**
 * The language server reads qm.lock from a clone it did not vet: a qm.lock committed as a symlink
 * to /dev/zero is reported, not streamed forever, and a hostile name in it is named.
 */
describe('language server on a hostile qm.lock', { timeout }, () => {
  let world: LspWorld;
  let client: LspTestClient;

  before(async () => {
    world = await LspWorld.start();
    ({ client } = await world.server());
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0);
    await world.dispose();
  });

  const unreadable = (diagnostics: Diagnostic[]): Diagnostic | undefined => diagnostics.find((d) => d.code === 'lock-unreadable');

  it('a qm.lock that is a symlink to /dev/zero is reported as unreadable, and the server still answers', async () => {
    const dir = await world.project();
    await fs.symlink('/dev/zero', path.join(dir, 'qm.lock'));
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\n');
    const diagnostics = await client.current(uri, (d) => unreadable(d) !== undefined);
    assert.match(messageOf(unreadable(diagnostics)!), /qm\.lock .*(device|EUNSAFEPATH)/);
    await client.hover(uri, { line: 0, character: 0 });
    assert.ok(client.alive);
  });

  it('a qm.lock whose version climbs out of QM_HOME is reported with its line and value', async () => {
    const dir = await world.project({
      'qm.lock': `version = 1\n\n[[tool]]\nname = "node"\nspec = "22"\nplatform = "linux-x64"\nversion = "../../../victim"\nurl = "https://nodejs.org/x.tar.gz"\nsha256 = "${'0'.repeat(64)}"\n`,
    });
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\nnode = "22"\n');
    const diagnostics = await client.current(uri, (d) => unreadable(d) !== undefined);
    assert.match(messageOf(unreadable(diagnostics)!), /qm\.lock:7: version "\.\.\/\.\.\/\.\.\/victim" of node/);
  });
});
