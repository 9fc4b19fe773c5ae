import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError, isQmError } from '../core/errors';
import { defaultHome, HomeLayout } from '../core/home';
import { findManifest } from '../core/manifest/locate';
import { currentPlatform } from '../core/platform';
import { usedWithin } from '../core/state/usage-names';
import { readActiveRecord, resolutionKey, type ActiveRecordTool } from './active-record';
import { exitCodeFor } from './exit-codes';
import { renderPath, SHELLS, type Shell } from './shell-env';

/** How often the fast path records a manifest's use for `qm gc` (which keeps 30 days of uses). */
const USE_RECORD_INTERVAL_MS = 60 * 60 * 1000;

/** Where the fast path writes: plain functions, so that answering never builds process.stdout (net, stream). */
export interface FastOutput {
  out(text: string): void;
  err(text: string): void;
  /** Called once the answer is known, before it is given (or the command runs): the entry keeps its code cache then. */
  ready?(): Promise<void>;
}

type FastRequest = { command: 'which'; program: string } | { command: 'env'; shell: Shell } | { command: 'exec'; program: string; args: string[] };

/**
 * `qm which <program>`, `qm env [--shell S]` and `qm exec -- <command>` answered from the record
 * the full CLI left for this manifest (src/cli/active-record.ts), resolving nothing and loading
 * neither semver nor the rest of the CLI. Undefined when it cannot answer exactly as the full CLI
 * would (other arguments, no record, a stale one, a missing toolchain): the full CLI runs then.
 */
export async function fastPath(argv: string[], output: FastOutput, env: NodeJS.ProcessEnv, cwd: string, signal: AbortSignal): Promise<number | undefined> {
  const request = fastRequest(argv);
  if (request === undefined) return undefined;
  let home: string;
  let manifest: string | undefined;
  try {
    home = defaultHome(env);
    manifest = await findManifest(cwd);
  } catch {
    return undefined;
  }
  if (manifest === undefined) return undefined;
  let tools: ActiveRecordTool[] | undefined;
  try {
    tools = await readActiveRecord(home, manifest, resolutionKey(env, currentPlatform(env)), Date.now());
  } catch {
    return undefined; // e.g. QM_PLATFORM unparsable: the full CLI says so
  }
  if (tools === undefined) return undefined;
  // A toolchain's own variables (JAVA_HOME), or not knowing them, is the full CLI's to handle.
  if (request.command !== 'which' && tools.some((tool) => tool.env === null || Object.keys(tool.env).length > 0)) return undefined;

  const layout = new HomeLayout(home);
  let answer: (() => Promise<number>) | undefined;
  if (request.command === 'which') {
    const found = await whichOf(tools, request.program);
    if (found === undefined) return undefined;
    answer = () => Promise.resolve(output.out(`${found}\n`)).then(() => 0);
  } else if (request.command === 'env') {
    const dirs = tools.flatMap((tool) => tool.binPaths);
    answer = () => Promise.resolve(dirs.length > 0 && output.out(renderPath(request.shell, dirs))).then(() => 0);
  } else {
    answer = () => execLeased(request.program, request.args, tools, layout, { env, cwd, signal });
  }
  // What `qm gc` keeps toolchains for, as the full path records it (at most hourly from here).
  if (!usedWithin(layout, manifest, Date.now(), USE_RECORD_INTERVAL_MS)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the writing code loads only when a record is due
    const { recordManifestUse } = require('../core/state/usage') as typeof import('../core/state/usage');
    await recordManifestUse(layout, manifest).catch(() => undefined);
  }
  await output.ready?.();
  try {
    return await answer();
  } catch (error) {
    // Removed since the record was checked, before anything ran: the full CLI installs it again.
    if (request.command === 'exec' && isQmError(error, 'ENOTINSTALLED')) return undefined;
    // Past this point the command may have run: report here, never run it again in the full CLI.
    const qmError = isQmError(error) ? error : new QmError('EIO', error instanceof Error ? error.message : String(error), { cause: error });
    output.err(`qm: error ${qmError.code}: ${qmError.message}\n`);
    return exitCodeFor(qmError);
  }
}

function fastRequest(argv: string[]): FastRequest | undefined {
  const [command, ...rest] = argv;
  if (command === 'which' && rest.length === 1 && !rest[0]!.startsWith('-')) return { command, program: rest[0]! };
  if (command === 'env') {
    const shell = rest.length === 0 ? 'bash' : rest.length === 2 && rest[0] === '--shell' ? rest[1] : rest.length === 1 && rest[0]!.startsWith('--shell=') ? rest[0]!.slice('--shell='.length) : undefined;
    return (SHELLS as readonly string[]).includes(shell ?? '') ? { command, shell: shell as Shell } : undefined;
  }
  if (command === 'exec' && rest[0] === '--' && rest.length >= 2) return { command, program: rest[1]!, args: rest.slice(2) };
  return undefined;
}

/** As `qm which` finds it: the tool that provides the program, then its first bin directory that has it. */
async function whichOf(tools: ActiveRecordTool[], program: string): Promise<string | undefined> {
  const owner = tools.find((tool) => tool.executables.includes(program) || tool.tool === program);
  if (owner === undefined) return undefined;
  const names = process.platform === 'win32' ? [`${program}.exe`, `${program}.cmd`, program] : [program];
  for (const dir of owner.binPaths) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (await fs.access(candidate).then(() => true, () => false)) return candidate;
    }
  }
  return undefined;
}

/**
 * `qm exec` as the full CLI runs it (src/core/exec/run-in-toolchains.ts): each toolchain leased
 * from before the command is looked up until it exits, so gc and uninstall leave its tree alone,
 * and a program a toolchain provides runs from that tree or not at all. The trees are the
 * record's, each still receipted; one gone meanwhile is ENOTINSTALLED (the full CLI takes over).
 */
async function execLeased(program: string, args: string[], tools: ActiveRecordTool[], layout: HomeLayout, options: { env: NodeJS.ProcessEnv; cwd: string; signal: AbortSignal }): Promise<number> {
  /* eslint-disable @typescript-eslint/no-require-imports -- child_process and the lease code only for exec (src/cli/entry.ts) */
  const { runInToolchains } = require('../core/exec/run-in-toolchains') as typeof import('../core/exec/run-in-toolchains');
  const { LeaseManager } = require('../core/install/leases') as typeof import('../core/install/leases');
  const { readReceipt } = require('../core/install/receipt') as typeof import('../core/install/receipt');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const installer = {
    find: async (tool: ActiveRecordTool) => {
      const dir = path.dirname(tool.receipt);
      const receipt = await readReceipt(dir);
      return receipt && { tool: tool.tool, version: tool.version, platform: tool.platform, dir, binPaths: tool.binPaths, env: tool.env ?? {}, receipt, installed: false };
    },
  };
  return runInToolchains({ leases: new LeaseManager(layout), installer }, tools, program, args, { env: options.env, cwd: options.cwd, stdio: 'inherit', signal: options.signal });
}
