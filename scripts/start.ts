// The main job on the embedded default: the bundled local mirror of generated Node.js, Go, Zig,
// Python, Java, Rust, Deno and Bun releases (in their upstream layouts; these machines have no internet), and VS Code in the
// browser — VS Code's own server on 127.0.0.1 — with Quartermaster installed from its .vsix and a
// sample project open. Prints the URL to open; Ctrl-C stops everything and removes the scratch dir.
//   npm start [-- --port N] [-- --keep]
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { VsCodeServer } from '../test/e2e/vscode-server';
import { publishAllDists } from '../test/fixtures/all-dists';
import { MirrorServer } from '../test/fixtures/mirror-server';

const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: process.env.PORT ?? '8080' }, keep: { type: 'boolean', default: false } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port wants a port number (0 = any free one), got '${values.port}'`);

  const scratch = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'quartermaster-main-')));
  const project = path.join(scratch, 'sample-project');
  const home = path.join(scratch, 'qm-home');
  await fs.cp(path.join(ROOT, 'demo', 'sample-project'), project, { recursive: true });

  console.log('Packaging the extension (.vsix)…');
  const vsix = path.join(scratch, 'quartermaster.vsix');
  await run(process.execPath, [require.resolve('@vscode/vsce/vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', vsix], { cwd: ROOT });

  const mirror = await MirrorServer.start();
  const payloadBytes = 8 * 1024 * 1024;
  const env = { QM_HOME: home, ...(await publishAllDists(mirror, { payloadBytes })) };

  console.log("Starting VS Code's server (the first run installs it into a cache outside the repository: a few minutes)…");
  let server: VsCodeServer;
  try {
    server = await VsCodeServer.start({ port, installExtensions: [vsix], env, userSettings: { 'workbench.startupEditor': 'none' } });
  } catch (error) {
    await mirror.close();
    throw new Error(`${error instanceof Error ? error.message : String(error)}${port !== 0 ? `\n(Is port ${port} in use? Try npm start -- --port 0)` : ''}`);
  }
  const url = `${server.url}/?folder=${encodeURIComponent(project)}`;
  console.log(`
Quartermaster is running in VS Code in the browser:

    ${url}

  local mirror  ${mirror.url}  (nodejs.org, go.dev, ziglang.org, Adoptium, static.rust-lang.org and GitHub layouts)
  QM_HOME       ${home}
  project       ${project}  (qm.toml: node, go, zig, python, java, rust)

The folder opens in Restricted Mode, where Quartermaster downloads nothing by itself: click
"Restricted Mode" in the status bar and trust the folder, and it offers to fetch what qm.toml
declares. Then try the status bar switcher, "Quartermaster: Install Toolchain…" in the palette, the
Toolchains view, and "qm install" / "node --version" in a terminal. Press Ctrl-C here to stop.`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('\nStopping…');
  await server.stop();
  await mirror.close();
  if (!values.keep) await fs.rm(scratch, { recursive: true, force: true });
  else console.log(`Kept ${scratch}`);
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
