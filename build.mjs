// Bundles one file per entry point with esbuild; `tsc --noEmit` does the type-checking.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const entries = {
  // The extension: a small entry VS Code loads and activates, the rest loaded on the next turn of
  // the event loop (docs/extension.md, "Activation"), and vscode-languageclient when the client starts.
  extension: 'src/extension/extension.ts',
  'extension-main': 'src/extension/main.ts',
  'vscode-languageclient': 'src/extension/vscode-languageclient.ts',
  server: 'src/server/server.ts',
  // `qm`: a small entry answering --version; the which/env/exec fast path is out/cli-fast.js and
  // the rest of the CLI out/cli-main.js, each loaded on demand (src/cli/entry.ts).
  cli: 'src/cli/entry.ts',
  'cli-fast': 'src/cli/fast-path.ts',
  // `qm install <tool>@<x.y.z>` answered or claimed before the full CLI (src/cli/install-gate.ts):
  // eight processes installing one version at once each load this much and no more.
  'cli-gate': 'src/cli/install-gate.ts',
  'cli-main': 'src/cli/main.ts',
  // undici (over half of each bundle) in its own file, loaded on the first download only: the
  // extension's activation and commands like `qm which` never parse it.
  dispatcher: 'src/core/fetch/dispatcher.ts',
  // openpgp likewise, loaded on the first signature to check (src/core/signatures/verifier.ts).
  'openpgp-verify': 'src/core/signatures/openpgp-verify.ts',
  // The extraction worker thread's code (src/core/archive/tar-extract.ts starts it from here).
  'extract-worker': 'src/core/archive/extract-worker.ts',
};

const options = {
  entryPoints: entries,
  outdir: 'out',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: true,
  keepNames: true,
  external: ['vscode'],
  plugins: [deferredDispatcher()],
  logLevel: 'info',
};

/** Run-time requires between bundles: [importing source file, request, the bundle it means]. */
const DEFERRED = [
  // undici has files named dispatcher too: only the downloader's own import is deferred.
  [path.join('src', 'core', 'fetch', 'downloader.ts'), './dispatcher', './dispatcher'],
  [path.join('src', 'cli', 'entry.ts'), './main', './cli-main.js'],
  [path.join('src', 'extension', 'extension.ts'), './main', './extension-main.js'],
  [path.join('src', 'extension', 'language-client.ts'), './vscode-languageclient', './vscode-languageclient.js'],
  [path.join('src', 'core', 'signatures', 'verifier.ts'), './openpgp-verify', './openpgp-verify'],
];

/** Keeps each deferred require a run-time require of the other bundle in out/. */
function deferredDispatcher() {
  return {
    name: 'deferred-bundles',
    setup(build) {
      build.onResolve({ filter: /^\.\/(dispatcher|main|openpgp-verify|vscode-languageclient)$/ }, (args) => {
        const match = DEFERRED.find(([importer, request]) => args.importer.endsWith(importer) && args.path === request);
        return match ? { path: match[2], external: true } : undefined;
      });
    },
  };
}

// The integration suite the extension host loads (extensionTestsPath = out/test/vscode/index.js):
// the Mocha runner with Mocha bundled in, and one bundle per suite file for Mocha to require.
// Not minified, so failures point at readable lines. .vscodeignore keeps all of it out of the .vsix.
/** What every test bundle shares: readable (not minified) CommonJS for the extension host's Node. */
const testBundle = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external: ['vscode'], logLevel: 'info' };

const testOptions = {
  ...testBundle,
  entryPoints: ['test/vscode/index.ts', 'test/vscode/suite/*.test.ts'],
  outbase: 'test/vscode',
  outdir: 'out/test/vscode',
  // Mocha's parallel mode resolves worker files at run time; the extension host never uses it.
  logOverride: { 'require-resolve-not-external': 'silent' },
};

// A second extension the integration tests load beside Quartermaster (its package.json is copied
// next to the bundle): it uses the API as another extension would.
const consumerOptions = {
  ...testBundle,
  entryPoints: { extension: 'test/vscode/api-consumer/extension.ts' },
  outdir: 'out/test/api-consumer',
};
await fs.mkdir('out/test/api-consumer', { recursive: true });
await fs.copyFile('test/vscode/api-consumer/package.json', 'out/test/api-consumer/package.json');

if (watch) {
  const contexts = await Promise.all([esbuild.context(options), esbuild.context(testOptions), esbuild.context(consumerOptions)]);
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all([esbuild.build(options), esbuild.build(testOptions), esbuild.build(consumerOptions)]);
}
