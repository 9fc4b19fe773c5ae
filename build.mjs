// Bundles one file per entry point with esbuild; `tsc --noEmit` does the type-checking.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const entries = {
  extension: 'src/extension/extension.ts',
  server: 'src/server/server.ts',
  cli: 'src/cli/main.ts',
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
  logLevel: 'info',
};

// The integration suite the extension host loads (extensionTestsPath = out/test/vscode/index.js):
// the Mocha runner with Mocha bundled in, and one bundle per suite file for Mocha to require.
// Not minified, so failures point at readable lines. .vscodeignore keeps all of it out of the .vsix.
const testOptions = {
  entryPoints: ['test/vscode/index.ts', 'test/vscode/suite/*.test.ts'],
  outbase: 'test/vscode',
  outdir: 'out/test/vscode',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode'],
  logLevel: 'info',
  // Mocha's parallel mode resolves worker files at run time; the extension host never uses it.
  logOverride: { 'require-resolve-not-external': 'silent' },
};

if (watch) {
  const contexts = await Promise.all([esbuild.context(options), esbuild.context(testOptions)]);
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all([esbuild.build(options), esbuild.build(testOptions)]);
}
