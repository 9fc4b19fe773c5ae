import { parseArgs } from 'node:util';
import { QmError, isQmError } from '../core/errors';
import type { HeldLock } from '../core/store/locks';
import { QM_VERSION } from '../core/version';
import type { Command, ParsedArgs } from './command';
import { envCommand } from './commands/env';
import { execCommand } from './commands/exec';
import { coordinatorCommand } from './commands/coordinator';
import { gcCommand } from './commands/gc';
import { doctorCommand } from './commands/doctor';
import { installCommand } from './commands/install';
import { listCommand } from './commands/list';
import { lockCommand } from './commands/lock';
import { useCommand } from './commands/use';
import { uninstallCommand } from './commands/uninstall';
import { whichCommand } from './commands/which';
import { CliContext, type CliStreams } from './context';
import { EXIT_OK, exitCodeFor } from './exit-codes';
import { interruptSignal } from './interrupt';

const COMMANDS: Command[] = [installCommand, uninstallCommand, listCommand, useCommand, whichCommand, execCommand, envCommand, lockCommand, gcCommand, doctorCommand, coordinatorCommand];

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  offline: { type: 'boolean' },
} as const;

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `qm ${QM_VERSION} — install and switch developer toolchains declared in qm.toml

Usage: qm [options] <command> [arguments]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help       Show help (qm <command> --help for one command)
  -V, --version    Print the version
  -v, --verbose    Show debug output and stack traces
      --json       Machine-readable output on stdout (progress as JSON lines on stderr)
      --offline    Use cached indexes only; never touch the network

Environment:
  QM_HOME          The shared cache (default: $XDG_CACHE_HOME/quartermaster)
  QM_MIRROR_NODE, QM_MIRROR_GO, QM_MIRROR_ZIG, QM_MIRROR_PYTHON, QM_MIRROR_JAVA,
  QM_MIRROR_RUST, QM_MIRROR_DENO, QM_MIRROR_BUN, QM_MIRROR_GITHUB
                   Base URLs replacing each tool's upstream (docs/providers.md)
  QM_SIGNATURES    if-published (default), require or off
  QM_KEYS_NODE, QM_KEYS_BUN, QM_KEYS_ZIG
                   Trusted keys replacing the built-in ones
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                   Proxies, as usual
  QM_COORDINATOR   Set by the VS Code extension in its terminals

Exit codes: 0 success, 1 failure, 2 usage or bad input.
`;
}

/** Splits argv at the first "--": what follows belongs to the command qm exec runs. */
function splitRest(argv: string[]): { own: string[]; rest: string[] } {
  const at = argv.indexOf('--');
  return at < 0 ? { own: argv, rest: [] } : { own: argv.slice(0, at), rest: argv.slice(at + 1) };
}

/** One error boundary for the whole run: codes map to exit codes, stacks only with --verbose. */
export async function main(
  argv: string[],
  streams: CliStreams = { out: process.stdout, err: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
  signal: AbortSignal = new AbortController().signal,
  /** Locks the small entry took for this run (install-gate.ts), handed to the core's lock manager. */
  claims: HeldLock[] = [],
): Promise<number> {
  const { own, rest } = splitRest(argv);
  const verbose = own.includes('--verbose') || own.includes('-v');
  let context: CliContext | undefined;
  try {
    const name = own.find((arg) => !arg.startsWith('-'));
    const command = COMMANDS.find((c) => c.name === name);
    if (name !== undefined && !command) throw new QmError('EUSAGE', `Unknown command "${name}". Run "qm --help" for the list of commands.`);
    const { values, positionals } = parseArgs({
      args: own,
      allowPositionals: true,
      strict: true,
      options: { ...GLOBAL_OPTIONS, ...command?.options },
    });
    if (values.version) {
      streams.out.write(`${QM_VERSION}\n`);
      return EXIT_OK;
    }
    if (!command) {
      streams.out.write(help());
      return EXIT_OK;
    }
    if (values.help) {
      streams.out.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
      return EXIT_OK;
    }
    if (rest.length > 0 && command !== execCommand) throw new QmError('EUSAGE', `qm ${command.name} takes no arguments after "--"`);
    context = new CliContext(streams, env, process.cwd(), { json: values.json === true, verbose, offline: values.offline === true }, signal, claims);
    const args: ParsedArgs = { values, positionals: positionals.slice(1), rest };
    return await command.run(context, args);
  } catch (error) {
    const qmError = toQmError(error);
    streams.err.write(`qm: error ${qmError.code}: ${qmError.message}\n`);
    if (verbose && error instanceof Error && error.stack) streams.err.write(`${error.stack}\n`);
    return exitCodeFor(qmError);
  } finally {
    await context?.close();
  }
}

function toQmError(error: unknown): QmError {
  if (isQmError(error)) return error;
  // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    return new QmError('EUSAGE', `${(error as Error).message}. Run "qm --help" for usage.`);
  }
  return new QmError('EIO', error instanceof Error ? error.message : String(error), { cause: error });
}

/** Runs `qm` with this process's arguments and streams, and sets its exit code. */
export function runCli(argv: string[] = process.argv.slice(2), signal: AbortSignal = interruptSignal(), claims: HeldLock[] = []): Promise<void> {
  return main(argv, undefined, undefined, signal, claims).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) void runCli();
