// Language server benchmark (prints figures, asserts nothing). The bundled server (out/server.js)
// over stdio, answering from a real coordinator on the fixture mirror through the test double of
// the client. (1) Completion latency of versions on a warm view, p50/p95 over 1,000 requests,
// with the fixture's 6 Node.js releases and with an index of ~700 (nodejs.org lists about 800).
// (2) Time from didOpen to the first diagnostics: the first document of a fresh server (parse
// only, then with the coordinator's answers, index fetched cold), later documents, and 1 MB.
import { performance } from 'node:perf_hooks';
import type { FixtureRelease } from '../test/fixtures/node-dist';
import type { LspTestClient } from '../test/helpers/lsp-client';
import { LspWorld } from '../test/helpers/lsp-world';
import { percentile } from './measure';

const REQUESTS = Number(process.env.QM_BENCH_REQUESTS ?? 1000);
const OPENS = Number(process.env.QM_BENCH_OPENS ?? 100);

/** Many releases, newest first, shaped like nodejs.org's: even majors get LTS codenames. */
function manyReleases(): FixtureRelease[] {
  const releases: FixtureRelease[] = [];
  for (let major = 4; major <= 23; major++) {
    for (let minor = 0; minor < 6; minor++) {
      for (let patch = 0; patch < 6; patch++) {
        const lts = major % 2 === 0 && minor >= 3 ? `Codename${String.fromCharCode(65 + major)}` : false;
        releases.push({ version: `v${major}.${minor}.${patch}`, lts, date: `20${String(major).padStart(2, '0')}-0${minor + 1}-1${patch}` });
      }
    }
  }
  return releases;
}

function row(label: string, values: number[]): string {
  return `  ${label.padEnd(44)} p50 ${percentile(values, 50).toFixed(2)} ms   p95 ${percentile(values, 95).toFixed(2)} ms   max ${Math.max(...values).toFixed(2)} ms`;
}

async function settledDocument(world: LspWorld, client: LspTestClient, text: string): Promise<string> {
  const uri = world.uri(await world.project(), 'qm.toml');
  await client.open(uri, text);
  await client.lensesUntil(uri, (lenses) => lenses.length > 0 && lenses.every((lens) => !lens.command!.title.endsWith('resolving…')));
  return uri;
}

async function completionLatency(label: string, releases?: FixtureRelease[]): Promise<void> {
  const world = await LspWorld.start(releases ? { nodeReleases: releases } : {});
  try {
    const { client } = await world.server({ bundle: true });
    const uri = await settledDocument(world, client, '[tools]\nnode = "2"\n');
    const position = { line: 1, character: 9 };
    const first = await client.completion(uri, position);
    for (let i = 0; i < 50; i++) await client.completion(uri, position); // JIT warm-up
    const timings: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now();
      await client.completion(uri, position);
      timings.push(performance.now() - start);
    }
    console.log(row(`${label} (${first.items.length} items)`, timings));
    await client.shutdown();
  } finally {
    await world.dispose();
  }
}

async function firstDiagnostics(): Promise<void> {
  const world = await LspWorld.start();
  try {
    const { client } = await world.server({ bundle: true });
    const text = '[tools]\nnode = "22"\ngo = "1.23"\nzig = "0.13.0"\n';
    const uri = world.uri(await world.project(), 'qm.toml');
    let start = performance.now();
    await client.open(uri, text);
    await client.diagnostics(uri);
    const parsed = performance.now() - start;
    await client.diagnostics(uri, (p) => p.diagnostics.filter((d) => d.code === 'not-installed').length === 3);
    const answered = performance.now() - start;
    console.log(`  first document of a fresh server: first diagnostics ${parsed.toFixed(1)} ms, with the coordinator's answers (cold indexes) ${answered.toFixed(1)} ms`);

    const later: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const next = world.uri(await world.project(), 'qm.toml');
      start = performance.now();
      await client.open(next, text);
      await client.diagnostics(next, (p) => p.diagnostics.filter((d) => d.code === 'not-installed').length === 3);
      later.push(performance.now() - start);
    }
    console.log(row(`later documents, answers warm (${OPENS} opens)`, later));

    let big = '[tools]\nnode = "22"\n';
    for (let i = 0; big.length < 1_000_000; i++) big += `\n[artifacts.a${i}]\nurl = "https://example.com/a${i}.tgz"\nsha256 = "${'ab'.repeat(32)}"\n`;
    const bigUri = world.uri(await world.project(), 'qm.toml');
    start = performance.now();
    await client.open(bigUri, big);
    await client.diagnostics(bigUri);
    console.log(`  a 1 MB qm.toml: first diagnostics ${(performance.now() - start).toFixed(0)} ms`);
    await client.shutdown();
  } finally {
    await world.dispose();
  }
}

async function main(): Promise<void> {
  console.log(`language server: version completion on a warm view, ${REQUESTS} requests each (bundled server over stdio):`);
  await completionLatency('fixture index, 6 Node.js releases');
  await completionLatency('~700 Node.js releases', manyReleases());
  console.log('language server: time from didOpen to diagnostics:');
  await firstDiagnostics();
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
