import { isQmError } from '../core/errors';
import { defaultHome, HomeLayout } from '../core/home';
import { readReceipt } from '../core/install/receipt';
import type { Logger } from '../core/log';
import { currentPlatform } from '../core/platform';
import { storePlatform } from '../core/providers/platform-names';
import { toolchainLockKey } from '../core/store/lock-keys';
import { LockManager, lockStaleMsFromEnv, type HeldLock } from '../core/store/locks';
import { TOOL_NAMES, type BuiltInTool } from '../core/tools/catalog';
import type { CliStreams } from './context';
import { exitCodeFor } from './exit-codes';
import { installedLine } from './format';
import { waitingText } from './progress';

/** The gate's answer: an exit code when it answered alone, else the toolchain's lock if it took it. */
export type GateResult = { code: number } | { claim: HeldLock | undefined };

/** A version in the spelling the store names trees by (semver's x.y.z); any other spec needs an index. */
const EXACT_VERSION = /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)$/;

/**
 * `qm install <tool>@<x.y.z>`, the form that many processes run at once (CI jobs, terminals
 * opened together), answered or claimed before the full CLI and its HTTP stack load. The
 * toolchain's directory and lock key follow from the name alone: a receipted tree there is the
 * answer ("already installed"); otherwise the first process takes the toolchain's lock and
 * hands it to the full CLI (LockManager.adopt), and every other one sleeps on that lock until
 * the tree appears, then answers, having resolved no index and loaded nothing more. A waiter
 * that finds the lock free and no tree (the holder failed) takes the lock and goes on as the
 * holder did. Undefined for any other command, or when anything here fails: the full CLI then
 * does all of it and reports what went wrong.
 */
export async function installGate(argv: string[], streams: CliStreams, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<GateResult | undefined> {
  const request = exactInstall(argv);
  if (request === undefined) return undefined;
  try {
    const layout = new HomeLayout(defaultHome(env));
    const platform = storePlatform(request.tool, currentPlatform(env));
    const toolchain = { tool: request.tool, version: request.version, platform };
    const dir = layout.toolchainDir(request.tool, request.version, platform);
    const answer = (installed: boolean): GateResult => {
      streams.out.write(installedLine({ tool: request.tool, version: request.version, dir, installed }));
      return { code: 0 };
    };
    if ((await readReceipt(dir)) !== undefined) return answer(false);
    const staleMs = lockStaleMsFromEnv(env);
    const locks = new LockManager(layout.locksDir, { logger: warnings(streams), ...(staleMs !== undefined ? { staleMs } : {}) });
    const acquired = await locks.acquire(toolchainLockKey(toolchain), {
      purpose: `install ${request.tool} ${request.version}`,
      signal,
      onWait: (owner) => streams.err.write(`${request.tool} ${request.version}: ${waitingText(owner)}\n`),
      check: () => readReceipt(dir),
    });
    return acquired.done !== undefined ? answer(false) : { claim: acquired.lock };
  } catch (error) {
    if (!isQmError(error, 'ECANCELLED')) return undefined;
    streams.err.write(`qm: error ${error.code}: ${error.message}\n`);
    return { code: exitCodeFor(error) };
  }
}

/** `install <tool>@<x.y.z>` with a built-in tool, and nothing else on the command line. */
function exactInstall(argv: string[]): { tool: BuiltInTool; version: string } | undefined {
  if (argv.length !== 2 || argv[0] !== 'install') return undefined;
  const [tool, version, ...rest] = argv[1]!.split('@');
  if (rest.length > 0 || version === undefined || !EXACT_VERSION.test(version)) return undefined;
  const known = TOOL_NAMES.find((name) => name === tool);
  return known && { tool: known, version };
}

function warnings(streams: CliStreams): Logger {
  const ignore = (): void => undefined;
  return { debug: ignore, info: ignore, warn: (message) => streams.err.write(`qm: warning: ${message}\n`), error: (message) => streams.err.write(`qm: error: ${message}\n`) };
}
