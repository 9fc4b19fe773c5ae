// The main job on the embedded default: the bundled local mirror of generated Node.js, Go, Zig,
// Python, Java, Rust, Deno and Bun releases (in their upstream layouts; these machines have no
// internet), and VS Code in the browser — VS Code's own server on 127.0.0.1 — with Quartermaster
// installed from its .vsix and a sample project open, as a user would have it: notifications as
// toasts, dialogs, workspace trust. Prints the URL to open; Ctrl-C stops everything and removes the
// scratch dir, as does a failed start.
//   npm start [-- --port N] [-- --keep]
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { VsCodeServer } from '../test/e2e/vscode-server';
import { packageVsix } from '../test/e2e/vsix';
import { publishAllDists } from '../test/fixtures/all-dists';
import { MirrorServer } from '../test/fixtures/mirror-server';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_PORT = 8080;
/** Each toolchain archive on the mirror: big enough that progress shows, small enough to be quick. */
const PAYLOAD_BYTES = 8 * 1024 * 1024;

class StartError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, keep: { type: 'boolean', default: false } } });
  const chosen = values.port ?? process.env.PORT;
  const port = await portToUse(chosen);

  // Ctrl-C from here on stops what has started, removes the scratch dir, and exits.
  const stopped = new AbortController();
  const onSignal = (): void => stopped.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const scratch = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'quartermaster-main-')));
  const project = path.join(scratch, 'sample-project');
  const home = path.join(scratch, 'qm-home');
  let mirror: MirrorServer | undefined;
  let server: VsCodeServer | undefined;
  let started = false;
  try {
    await fs.cp(path.join(ROOT, 'demo', 'sample-project'), project, { recursive: true });
    console.log('Packaging the extension (.vsix)…');
    const vsix = await packageVsix(path.join(scratch, 'quartermaster.vsix'));
    stopped.signal.throwIfAborted();

    mirror = await MirrorServer.start();
    const env = { QM_HOME: home, ...(await publishAllDists(mirror, { payloadBytes: PAYLOAD_BYTES })) };
    stopped.signal.throwIfAborted();

    console.log("Starting VS Code's server (the first run installs it into a cache outside the repository: a few minutes)…");
    server = await VsCodeServer.start({ port, installExtensions: [vsix], env }).catch((error: unknown) => {
      throw new StartError(whyServerFailed(error, port));
    });
    stopped.signal.throwIfAborted();
    started = true;

    // The payload's openFile shows qm.toml beside the folder, as `code folder folder/qm.toml` would.
    const payload = JSON.stringify([['openFile', server.remoteUri(path.join(project, 'qm.toml'))]]);
    const url = `${server.url}/?folder=${encodeURIComponent(project)}&payload=${encodeURIComponent(payload)}`;
    const fellBack = chosen === undefined && port !== DEFAULT_PORT ? ` (port ${DEFAULT_PORT} is taken, so on another)` : '';
    console.log(`
Quartermaster is running in VS Code in the browser${fellBack}:

    ${url}

  local mirror  ${mirror.url}  (nodejs.org, go.dev, ziglang.org, Adoptium, static.rust-lang.org and GitHub layouts)
  QM_HOME       ${home}
  project       ${project}  (qm.toml: node, go, zig, python, java, rust)

The folder opens in Restricted Mode (the banner at the top), where Quartermaster downloads
nothing by itself: click "Manage" in the banner, then "Trust", and Quartermaster offers (bottom
right) to install what qm.toml declares; the progress shows there, in the status bar and above
each line of qm.toml. Then try the status bar switcher, "Quartermaster:
Install Toolchain…" in the palette (F1), and "node --version" or "qm list" in a terminal.
Press Ctrl-C here to stop.`);

    await new Promise<void>((resolve) => stopped.signal.addEventListener('abort', () => resolve(), { once: true }));
    console.log('\nStopping…');
  } catch (error) {
    if (!stopped.signal.aborted) throw error;
    console.log('\nStopped before VS Code was up.');
  } finally {
    await server?.stop();
    await mirror?.close();
    if (values.keep && started) console.log(`Kept ${scratch}`);
    else await fs.rm(scratch, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The port asked for (--port, else PORT), checked free on 127.0.0.1 so that a taken one is said
 * plainly; with neither, 8080 or, when that is taken, any free port.
 */
async function portToUse(chosen: string | undefined): Promise<number> {
  if (chosen !== undefined) {
    const port = Number(chosen);
    if (chosen.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new StartError(`--port (or PORT) wants a port number, 0 for any free one; got '${chosen}'`);
    const problem = await cannotListen(port);
    if (problem !== undefined) throw new StartError(`Cannot listen on 127.0.0.1:${port}: ${problem}. Choose another port: npm start -- --port N (0: any free one).`);
    return port;
  }
  return (await cannotListen(DEFAULT_PORT)) === undefined ? DEFAULT_PORT : 0;
}

/** Why a server could not listen on 127.0.0.1:port (e.g. "another program is using it"), or undefined. */
function cannotListen(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' ? 'another program is using it' : error.code === 'EACCES' ? 'this user may not use that port' : error.message),
    );
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** What went wrong, from VS Code server's own log when it got that far (EADDRINUSE: someone took the port since the check). */
function whyServerFailed(error: unknown, port: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/EADDRINUSE/.test(message)) return `${message}\n\nAnother program took 127.0.0.1:${port} while VS Code's server started: npm start -- --port 0 picks a free one.`;
  return `Could not start VS Code's server:\n${message}`;
}

void main().catch((error: unknown) => {
  console.error(error instanceof StartError ? error.message : error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
