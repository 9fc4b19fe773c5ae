// The `qm` program (out/cli.js): small on purpose. `--version` answers from here; the fast path of
// `qm which`, `qm env` and `qm exec` (a terminal's launcher and shell hooks run these constantly)
// is out/cli-fast.js (src/cli/fast-path.ts); `qm install <tool>@<x.y.z>` is answered or claimed by
// out/cli-gate.js (install-gate.ts); everything else loads the full CLI (out/cli-main.js,
// src/cli/main.ts). All are other bundles, required at run time.
//
// Start-up is the budget here (issue 12: within 1.25× of bare `node -e 0`), so this file imports
// nothing but the version at its top: each module below is required where it is first needed, and
// esbuild evaluates a required module (and the Node built-ins it imports) only then. `--version`
// compiles 9 KB and loads no built-in at all; the fast path loads what it reads with; only
// `qm exec` loads child_process.
/* eslint-disable @typescript-eslint/no-require-imports -- run-time requires keep start-up lean (see above) */
import { writeSync } from 'node:fs';
import * as path from 'node:path';
import { QM_VERSION } from '../core/version';
import type { GateResult } from './install-gate';

async function start(argv: string[]): Promise<void> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    writeTo(1, () => process.stdout)(`${QM_VERSION}\n`);
    return;
  }
  const { interruptSignal } = require('./interrupt') as typeof import('./interrupt');
  const { enableCompileCache, loadBundle } = require('./compile-cache') as typeof import('./compile-cache');
  const signal = interruptSignal();
  // Each a bundle of its own, with V8's code for it cached under QM_HOME (src/cli/compile-cache.ts):
  // out/cli-gate.js for `qm install`, out/cli-fast.js for the rest.
  let gate: GateResult | undefined;
  if (argv[0] === 'install') {
    const gateBundle = loadBundle<typeof import('./install-gate')>(path.join(__dirname, 'cli-gate.js'), process.env);
    gate = await gateBundle.exports.installGate(argv, { out: process.stdout, err: process.stderr }, process.env, signal);
    await gateBundle.keep();
  } else {
    const fast = loadBundle<typeof import('./fast-path')>(path.join(__dirname, 'cli-fast.js'), process.env);
    const code = await fast.exports.fastPath(argv, { out: writeTo(1, () => process.stdout), err: writeTo(2, () => process.stderr), ready: () => fast.keep() }, process.env, process.cwd(), signal);
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
    await fast.keep();
  }
  if (gate !== undefined && 'code' in gate) {
    process.exitCode = gate.code;
    return;
  }
  const claim = gate?.claim;
  enableCompileCache(process.env);
  try {
    // Bundled, './main' is out/cli-main.js (build.mjs keeps it a run-time require).
    const { runCli } = require('./main') as typeof import('./main');
    await runCli(argv, signal, claim ? [claim] : []);
  } finally {
    await claim?.release();
  }
}

/**
 * Writes straight to the descriptor: process.stdout is a net.Socket or a stream whose modules
 * cost more to load than the answer takes. A descriptor that would block (a non-blocking pipe
 * that is full) gets the rest through the stream, which waits for it; a closed one gets nothing.
 */
function writeTo(fd: 1 | 2, stream: () => NodeJS.WriteStream): (text: string) => void {
  return (text) => {
    let rest = Buffer.from(text, 'utf8');
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(fd, rest));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Nobody reads any more (`qm env | head -0`): the rest is dropped, as `cat` would.
        if (code === 'EPIPE') return;
        if (code !== 'EAGAIN') throw error;
        stream().write(rest);
        return;
      }
    }
  };
}

void start(process.argv.slice(2));
