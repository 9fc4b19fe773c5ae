import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError, isQmError } from '../core/errors';
import { prependPath } from '../core/exec/path-env';
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

  let answer: (() => Promise<number>) | undefined;
  if (request.command === 'which') {
    const found = await whichOf(tools, request.program);
    if (found === undefined) return undefined;
    answer = () => Promise.resolve(output.out(`${found}\n`)).then(() => 0);
  } else if (request.command === 'env') {
    const dirs = tools.flatMap((tool) => tool.binPaths);
    answer = () => Promise.resolve(dirs.length > 0 && output.out(renderPath(request.shell, dirs))).then(() => 0);
  } else {
    const runEnv = prependPath(env, tools.flatMap((tool) => tool.binPaths));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- child_process only for exec (src/cli/entry.ts)
    const { runTool } = require('../core/exec/spawn') as typeof import('../core/exec/spawn');
    answer = () => runTool(request.program, request.args, { env: runEnv, cwd, stdio: 'inherit', signal });
  }
  // What `qm gc` keeps toolchains for, as the full path records it (at most hourly from here).
  const layout = new HomeLayout(home);
  if (!usedWithin(layout, manifest, Date.now(), USE_RECORD_INTERVAL_MS)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- writing loads node:crypto (temp names): only when due
    const { recordManifestUse } = require('../core/state/usage') as typeof import('../core/state/usage');
    await recordManifestUse(layout, manifest).catch(() => undefined);
  }
  try {
    return await answer();
  } catch (error) {
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
