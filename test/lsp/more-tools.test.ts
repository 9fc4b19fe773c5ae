import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CompletionList, Diagnostic, MarkupContent } from 'vscode-languageserver-protocol';
import type { LspTestClient } from '../helpers/lsp-client';
import { LspWorld } from '../helpers/lsp-world';

const timeout = 60_000;

const messageOf = (diagnostic: Diagnostic): string => (typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value);
const labels = (list: CompletionList): string[] => list.items.map((item) => item.label);

/**
 * Python, Java, Rust, Deno and Bun in the language server: their versions (from their own index
 * formats, through the coordinator) completed and hovered, their specs diagnosed, in qm.toml and
 * .tool-versions alike.
 */
describe('language server: the tools beyond Node.js, Go and Zig', { timeout }, () => {
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

  /** Completion once the tool's versions have arrived (the list is incomplete until then). */
  async function completeWarm(uri: string, line: number, character: number): Promise<CompletionList> {
    for (;;) {
      const refreshed = client.nextLensRefresh();
      const list = await client.completion(uri, { line, character });
      if (!list.isIncomplete) {
        refreshed.catch(() => undefined);
        return list;
      }
      await refreshed;
    }
  }

  it('completes each tool\'s versions and its own keywords: lts for Java, stable for Rust', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, '[tools]\npython = "3"\njava = "2"\nrust = "1"\ndeno = "2"\nbun = "1"\n');
    assert.deepEqual(labels(await completeWarm(uri, 1, 11)), ['latest', '3.14.0-alpha.3', '3.13.1', '3.12.8', '3.11.11']);
    const java = await completeWarm(uri, 2, 9);
    assert.deepEqual(labels(java), ['latest', 'lts', '23.0.1', '21.0.5', '21.0.4', '17.0.13']);
    assert.equal(java.items.find((item) => item.label === 'lts')?.labelDetails?.description, '→ 21.0.5');
    assert.deepEqual(labels(await completeWarm(uri, 3, 9)), ['latest', 'stable', '1.83.0']);
    assert.deepEqual(labels(await completeWarm(uri, 4, 9)), ['latest', '2.1.4', '2.0.6', '1.46.3']);
    assert.deepEqual(labels(await completeWarm(uri, 5, 8)), ['latest', '1.1.38', '1.1.37', '1.0.36']);
  });

  it('hovers with the tool\'s name and what the spec resolves to', async () => {
    const uri = world.uri(await world.project(), 'qm.toml');
    await client.open(uri, '[tools]\njava = "lts"\n');
    await client.current(uri, (d) => d.some((x) => x.code === 'not-installed'));
    const hover = await client.hover(uri, { line: 1, character: 9 });
    const text = (hover?.contents as MarkupContent).value;
    assert.match(text, /^\*\*Java \(Eclipse Temurin\)\*\* `lts`/);
    assert.match(text, /21\.0\.5/);
  });

  it('diagnoses specs: no LTS for Rust, a Python no release matches, .tool-versions with asdf-java\'s names', async () => {
    const dir = await world.project();
    const uri = world.uri(dir, 'qm.toml');
    await client.open(uri, '[tools]\nrust = "lts"\npython = "3.10"\n');
    const settled = await client.current(uri, (d) => d.some((x) => x.code === 'no-version'));
    const rust = settled.find((d) => d.range.start.line === 1)!;
    assert.equal(messageOf(rust), 'Tool "rust": only Node.js and Java have LTS releases; write a version such as "1.83.0" or "latest"');
    const python = settled.find((d) => d.code === 'no-version')!;
    assert.match(messageOf(python), /python/);
    const toolVersions = world.uri(dir, '.tool-versions');
    await client.open(toolVersions, 'python 3.12.8\njava temurin-21.0.5+11.0.LTS\nrust 1.83.0\n');
    const asdf = await client.current(toolVersions, (d) => d.filter((x) => x.code === 'not-installed').length === 3);
    // A declared size (Java's API gives one) is added to the message; the others have none.
    assert.deepEqual(asdf.map((d) => messageOf(d).replace(/ \(a [\d.]+ [kMG]?B download\)$/, '')), ['python 3.12.8 is not installed', 'java 21.0.5 is not installed', 'rust 1.83.0 is not installed']);
  });
});
