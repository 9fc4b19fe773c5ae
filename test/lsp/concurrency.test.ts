import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { spawnQm } from '../helpers/child';
import type { LspTestClient } from '../helpers/lsp-client';
import type { BackendCalls } from '../helpers/lsp-coordinator';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 90_000;
const KiB = 1024;
const DOCUMENTS = 20;
/** Specs that all pick node 22.12.0, cycled through by the edits. */
const SPECS = ['22', '^22', '22.12', 'lts/jod', '>=22 <23', '22'];

const notInstalled = (diagnostics: Diagnostic[]): boolean => diagnostics.some((d) => d.code === 'not-installed');

describe('language server under concurrency: 20 documents edited while a qm CLI installs the same toolchain', { timeout }, () => {
  let world: LspWorld;
  let client: LspTestClient;
  let calls: BackendCalls;

  before(async () => {
    world = await LspWorld.start({ nodePayloadBytes: 256 * KiB });
    ({ client, calls } = await world.server());
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0);
    await world.dispose();
  });

  it('fetches each index once, never crashes, and converges on "installed"', async () => {
    const archive = world.node.find((a) => a.version === 'v22.12.0' && a.ext === 'tar.gz')!;
    // Slow enough (about 2 s) that many rounds of the edits below overlap the download.
    world.mirror.fault(archive.path, { kind: 'throttle', bytesPerSecond: 128 * KiB, times: 1 });
    const uris = await Promise.all(Array.from({ length: DOCUMENTS }, async () => world.uri(await world.project(), 'qm.toml')));
    await Promise.all(uris.map((uri, i) => client.open(uri, `# project ${i}\n[tools]\nnode = "${SPECS[i % SPECS.length]!}"\n`)));
    await Promise.all(uris.map((uri) => client.current(uri, notInstalled)));
    assert.equal(world.mirror.stats('/dist/index.json').gets, 1);

    // The CLI resolves from the index the coordinator already cached on disk, then installs through the coordinator.
    const cli = spawnQm(['install', 'node@22', '--json'], { cwd: world.root, env: { ...world.env, QM_COORDINATOR: world.host.endpoint } });
    let cliDone = false;
    const exited = cli.exited.then((result) => {
      cliDone = true;
      return result;
    });
    let rounds = 0;
    let sawDownloading = false;
    while (!cliDone || rounds < 3) {
      rounds++;
      // Every document gets an edit at once; the round ends when each has its diagnostics for that edit.
      await Promise.all(
        uris.map(async (uri, i) => {
          const spec = SPECS[(i + rounds) % SPECS.length]!;
          // Replace what is between the quotes of `node = "..."`.
          await client.edit(uri, [{ range: { start: client.positionOf(uri, '"', 1), end: client.positionOf(uri, '"', 0, 1) }, text: spec }]);
          await client.current(uri);
        }),
      );
      const lens = await client.codeLenses(uris[rounds % DOCUMENTS]!);
      if (/downloading|installing|waiting|queued/.test(lens[0]?.command?.title ?? '')) sawDownloading = true;
    }
    const { code } = await exited;
    assert.equal(code, 0, `qm install succeeded; stderr:\n${cli.stderr.join('\n')}`);
    const doc = JSON.parse(cli.stdout.join('\n')) as { coordinator: boolean; tools: Array<{ version: string }> };
    assert.equal(doc.coordinator, true, 'the CLI installed through the coordinator');

    for (const uri of uris) {
      const diagnostics = await client.current(uri, (d) => !notInstalled(d));
      assert.deepEqual(diagnostics, [], `${uri} converged: nothing left to report`);
      await client.lensesUntil(uri, (lenses) => lenses[0]?.command?.title === 'node 22.12.0: installed');
    }
    assert.ok(rounds >= 3, `${rounds} rounds of edits`);
    assert.ok(sawDownloading, `a lens showed the CLI's download while it ran (${rounds} rounds)`);
    assert.ok(client.alive, 'the server is alive');
    assert.equal(world.mirror.stats('/dist/index.json').gets, 1, 'the Node.js index was fetched once, for the server and the CLI together');
    assert.equal(world.mirror.stats('/dist/v22.12.0/SHASUMS256.txt').gets, 1, 'the release checksums too');
    assert.equal(world.mirror.stats(archive.path).gets, 1, 'the archive was downloaded once');
    assert.equal(calls.listRemote, 1, 'the server asked for the versions of node once');
    assert.ok(calls.resolve <= SPECS.length, `one resolution per distinct spec (${calls.resolve})`);
    assert.equal(calls.install, 0, 'the server installed nothing itself');
    console.log(`# ${rounds} rounds of ${DOCUMENTS} edits during the install; lens showed the download: ${sawDownloading}`);
  });

  it('follows an install it was not told about once the client says installs changed', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, '[tools]\nzig = "0.13.0"\n');
    await client.current(uri, notInstalled);
    const standalone = spawnQm(['install', 'zig@0.13.0', '--json'], { cwd: world.root, env: { ...world.env, QM_COORDINATOR: 'off' } });
    assert.equal((await standalone.exited).code, 0, standalone.stderr.join('\n'));
    assert.ok(notInstalled(await client.current(uri)), 'nothing told the server yet');
    await client.installedChanged();
    assert.deepEqual(await client.current(uri, (d) => !notInstalled(d)), []);
  });
});
