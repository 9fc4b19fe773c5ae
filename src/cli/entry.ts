// The `qm` program (out/cli.js): small on purpose. `--version` and the fast path of `qm which`,
// `qm env` and `qm exec` (a terminal's launcher and shell hooks run these constantly) answer from
// here; everything else loads the full CLI (out/cli-main.js, src/cli/main.ts) on demand.
//
// Start-up is the budget here (issue 12: within 1.25× of bare `node -e 0`), so this file imports
// nothing but the version at its top: each module below is required where it is first needed, and
// esbuild evaluates a required module (and the Node built-ins it imports) only then. `--version`
// loads no built-in at all; the fast path loads what it reads with; only `qm exec` loads
// child_process.
/* eslint-disable @typescript-eslint/no-require-imports -- run-time requires keep start-up lean (see above) */
import { writeSync } from 'node:fs';
import { QM_VERSION } from '../core/version';

async function start(argv: string[]): Promise<void> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    writeTo(1, () => process.stdout)(`${QM_VERSION}\n`);
    return;
  }
  const { interruptSignal } = require('./interrupt') as typeof import('./interrupt');
  const { fastPath } = require('./fast-path') as typeof import('./fast-path');
  const signal = interruptSignal();
  const code = await fastPath(argv, { out: writeTo(1, () => process.stdout), err: writeTo(2, () => process.stderr) }, process.env, process.cwd(), signal);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  const { enableCompileCache } = require('./compile-cache') as typeof import('./compile-cache');
  enableCompileCache(process.env);
  // Bundled, './main' is out/cli-main.js (build.mjs keeps it a run-time require).
  const { runCli } = require('./main') as typeof import('./main');
  await runCli(argv, signal);
}

/**
 * Writes straight to the descriptor: process.stdout is a net.Socket or a stream whose modules
 * cost more to load than the answer takes. A descriptor that would block (a non-blocking pipe
 * that is full) gets the rest through the stream, which waits for it.
 */
function writeTo(fd: 1 | 2, stream: () => NodeJS.WriteStream): (text: string) => void {
  return (text) => {
    let rest = Buffer.from(text, 'utf8');
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(fd, rest));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        stream().write(rest);
        return;
      }
    }
  };
}

void start(process.argv.slice(2));
