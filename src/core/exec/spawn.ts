import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { monotonicMs } from '../clock';
import { QmError, cancelledError } from '../errors';
import { pathValue } from './path-env';
import { readShebang } from './shebang';

export interface SpawnToolOptions {
  cwd?: string;
  /** The child's environment; its PATH (not process.env's) is where bare command names are looked up. */
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  /** Aborting kills the child with SIGTERM; runTool then rejects with ECANCELLED. */
  signal?: AbortSignal;
  /** How long to keep retrying a spawn that fails with ETXTBSY; 0 disables retrying. Default 2000. */
  etxtbsyBudgetMs?: number;
  /** Called before each retry after ETXTBSY, with the 1-based retry number. */
  onRetry?: (attempt: number, error: NodeJS.ErrnoException) => void;
  /** argv[0] for the program; default `command` as given (set it when `command` is a resolved path). */
  argv0?: string;
}

const DEFAULT_ETXTBSY_BUDGET_MS = 2000;
const FIRST_BACKOFF_MS = 1;
const MAX_BACKOFF_MS = 100;
/** Linux follows at most this many nested `#!` interpreters (BINPRM_MAX_RECURSION). */
const MAX_SHEBANG_DEPTH = 4;

/** What to hand to spawn after PATH lookup and `#!` unwrapping. */
interface Invocation {
  file: string;
  args: string[];
  /** argv[0] as a shell would set it: the name as written, not the resolved path. */
  argv0: string;
}

/**
 * Spawns, retrying on ETXTBSY; resolves once the child has really started ('spawn' event),
 * rejects with QmError otherwise. Scripts go through their interpreter. After it resolves, the
 * caller owns the child, including its 'error' event.
 */
export async function spawnTool(command: string, args: string[], options: SpawnToolOptions = {}): Promise<ChildProcess> {
  const { signal } = options;
  const what = `starting ${command}`;
  if (signal?.aborted) throw cancelledError(signal, what);
  const invocation = await resolveInvocation(command, args, options);
  const budgetMs = options.etxtbsyBudgetMs ?? DEFAULT_ETXTBSY_BUDGET_MS;
  const started = monotonicMs();
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw cancelledError(signal, what);
    let child: ChildProcess;
    try {
      child = await startOnce(invocation, options);
    } catch (error) {
      const errno = error as NodeJS.ErrnoException;
      // A process that forked while the file was open for writing keeps that descriptor until its
      // own exec, within milliseconds; so wait briefly and try again.
      if (errno.code !== 'ETXTBSY') throw await spawnError(errno, command, invocation, options);
      const wait = Math.min(FIRST_BACKOFF_MS * 2 ** attempt, MAX_BACKOFF_MS);
      const elapsed = monotonicMs() - started;
      if (elapsed + wait > budgetMs) {
        throw new QmError(
          'EIO',
          `Could not start ${command}: ${invocation.file} is busy (still open for writing by some process) ` +
            `after ${attempt + 1} attempts over ${Math.round(elapsed)} ms`,
          { path: invocation.file, cause: error },
        );
      }
      options.onRetry?.(attempt + 1, errno);
      try {
        await delay(wait, undefined, { signal });
      } catch {
        throw cancelledError(signal, what);
      }
      continue;
    }
    if (signal === undefined) return child;
    if (signal.aborted) {
      child.kill();
      throw cancelledError(signal, what);
    }
    const kill = (): void => void child.kill();
    signal.addEventListener('abort', kill, { once: true });
    child.once('exit', () => signal.removeEventListener('abort', kill));
    return child;
  }
}

/** spawnTool, then waits for exit; resolves the exit code, 128 + n for signal n as shells do. */
export async function runTool(command: string, args: string[], options: SpawnToolOptions = {}): Promise<number> {
  return exitCode(await spawnTool(command, args, options), command, options.signal);
}

/** Waits for a child started by spawnTool to exit; its exit code, 128 + n for signal n. */
export function exitCode(child: ChildProcess, command: string, signal?: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const settle = (code: number | null, signalName: NodeJS.Signals | null): void => {
      if (signal?.aborted) reject(cancelledError(signal, `running ${command}`));
      else resolve(code ?? 128 + (signalName === null ? 0 : os.constants.signals[signalName]));
    };
    if (child.exitCode !== null || child.signalCode !== null) {
      settle(child.exitCode, child.signalCode);
      return;
    }
    child.once('exit', settle);
    child.once('error', (error) => reject(new QmError('EIO', `While running ${command}: ${error.message}`, { cause: error })));
  });
}

/**
 * Finds a command on a PATH string like `which`: the first entry holding an executable file of
 * that name (with a PATHEXT extension on Windows). Empty entries are skipped rather than meaning
 * the current directory; relative entries resolve against `options.cwd`.
 */
export async function findOnPath(
  command: string,
  pathList: string,
  options: { cwd?: string; pathExt?: string } = {},
): Promise<string | undefined> {
  const cwd = options.cwd ?? process.cwd();
  const candidates = windowsNames(command, options.pathExt);
  if (hasDirectory(command)) return firstExecutable(candidates.map((name) => path.resolve(cwd, name)));
  for (const dir of pathList.split(path.delimiter)) {
    const unquoted = process.platform === 'win32' ? dir.replace(/^"(.*)"$/, '$1') : dir;
    if (unquoted === '') continue;
    // One entry after another, as a shell does: an entry after the one that has it is never
    // touched (a stale network mount there would hang us, and keep the process alive).
    const found = await firstExecutable(candidates.map((name) => path.resolve(cwd, unquoted, name)));
    if (found !== undefined) return found;
  }
  return undefined;
}

function hasDirectory(command: string): boolean {
  return command.includes('/') || (process.platform === 'win32' && command.includes('\\'));
}

/** On Windows `tool` means `tool.exe`, `tool.cmd`, ...; `tool.exe` is tried as given first. */
function windowsNames(command: string, pathExt: string | undefined): string[] {
  if (process.platform !== 'win32') return [command];
  const extensions = (pathExt ?? process.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((ext) => ext !== '');
  const given = extensions.some((ext) => command.toUpperCase().endsWith(ext.toUpperCase()));
  return [...(given ? [command] : []), ...extensions.map((ext) => command + ext)];
}

async function firstExecutable(files: string[]): Promise<string | undefined> {
  for (const file of files) {
    try {
      if (!(await fs.stat(file)).isFile()) continue;
      if (process.platform !== 'win32') await fs.access(file, fs.constants.X_OK);
      return file;
    } catch {
      // Missing or not executable: keep looking, as `which` does.
    }
  }
  return undefined;
}

/** Looks up a bare name on the child's PATH and follows `#!` lines down to a real executable. */
async function resolveInvocation(command: string, args: string[], options: SpawnToolOptions): Promise<Invocation> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let invocation: Invocation = { file: await locate(command, env, cwd), args, argv0: options.argv0 ?? command };
  for (let depth = 0; ; depth++) {
    const shebang = await readShebang(invocation.file);
    if (shebang === undefined) return invocation;
    if (depth === MAX_SHEBANG_DEPTH) {
      throw new QmError('EUSAGE', `Cannot run ${command}: more than ${MAX_SHEBANG_DEPTH} nested #! interpreters`, {
        path: invocation.file,
      });
    }
    const interpreter = await locate(shebang.interpreter, env, cwd, invocation.file);
    invocation = {
      file: interpreter,
      args: [...shebang.args, invocation.file, ...invocation.args],
      argv0: shebang.interpreter,
    };
  }
}

/** An absolute path for `name`: resolved against cwd when it names a directory, else from PATH. */
async function locate(name: string, env: NodeJS.ProcessEnv, cwd: string, script?: string): Promise<string> {
  if (hasDirectory(name)) return path.resolve(cwd, name);
  const searched = pathValue(env);
  const found = await findOnPath(name, searched, { cwd, pathExt: env.PATHEXT });
  if (found !== undefined) return found;
  const where = searched === '' ? 'PATH is empty' : `looked in PATH ${searched}`;
  const message =
    script === undefined
      ? `command not found: ${name} (${where})`
      : `command not found: ${name}, the interpreter named by the #! line of ${script} (${where})`;
  throw new QmError('EUSAGE', message, { path: script });
}

/** Spawns once; resolves on 'spawn', rejects with the raw errno error, thrown or emitted. */
function startOnce(invocation: Invocation, options: SpawnToolOptions): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(invocation.file, invocation.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: options.stdio,
        argv0: invocation.argv0,
        windowsHide: true,
      });
    } catch (error) {
      // Node throws ETXTBSY (and other unexpected errno values) instead of emitting 'error'.
      reject(error);
      return;
    }
    const onSpawn = (): void => {
      child.off('error', onError);
      resolve(child);
    };
    const onError = (error: Error): void => {
      child.off('spawn', onSpawn);
      reject(error);
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

/** Turns a spawn failure into a QmError that says which of the usual causes it was. */
async function spawnError(
  error: NodeJS.ErrnoException,
  command: string,
  invocation: Invocation,
  options: SpawnToolOptions,
): Promise<QmError> {
  const file = invocation.file;
  const details = { path: file, cause: error };
  if (error.code === 'ENOENT' || error.code === 'EACCES') {
    if (options.cwd !== undefined && !(await isDirectory(options.cwd))) {
      return new QmError('EUSAGE', `Cannot run ${command}: the working directory ${options.cwd} does not exist`, {
        path: options.cwd,
        cause: error,
      });
    }
  }
  if (error.code === 'ENOENT') {
    const stats = await fs.stat(file).catch(() => undefined);
    if (stats === undefined) return new QmError('EUSAGE', `command not found: ${command} (no such file ${file})`, details);
    // execve says ENOENT for an existing file whose ELF loader is missing, e.g. a glibc build on musl.
    return new QmError(
      'EUSAGE',
      `Cannot run ${command}: ${file} exists but its program loader is missing (built for another platform or libc?)`,
      details,
    );
  }
  if (error.code === 'EACCES') {
    const stats = await fs.stat(file).catch(() => undefined);
    const reason =
      stats === undefined
        ? 'a directory on the way is not searchable'
        : stats.isDirectory()
          ? 'it is a directory'
          : (stats.mode & 0o111) === 0
            ? `it is not executable (mode ${(stats.mode & 0o777).toString(8)})`
            : 'it is on a file system mounted noexec, or its directory is not searchable';
    return new QmError('EUSAGE', `Permission denied running ${command}: ${file}: ${reason}`, details);
  }
  return new QmError('EIO', `Could not start ${command} (${file}): ${error.message}`, details);
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await fs.stat(dir).catch(() => undefined))?.isDirectory() ?? false;
}
