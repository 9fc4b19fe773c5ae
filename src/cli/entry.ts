// The `qm` program (out/cli.js): small on purpose. `--version` and the fast path of `qm which`,
// `qm env` and `qm exec` (a terminal's launcher and shell hooks run these constantly) answer from
// here, and `qm install <tool>@<x.y.z>` is answered or its toolchain's lock taken here
// (install-gate.ts); everything else loads the full CLI (out/cli-main.js, src/cli/main.ts) on demand.
import { QM_VERSION } from '../core/version';
import { enableCompileCache } from './compile-cache';
import { fastPath } from './fast-path';
import { installGate } from './install-gate';
import { interruptSignal } from './interrupt';

async function start(argv: string[]): Promise<void> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${QM_VERSION}\n`);
    return;
  }
  const signal = interruptSignal();
  const code = await fastPath(argv, { out: process.stdout, err: process.stderr }, process.env, process.cwd(), signal);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  const gate = await installGate(argv, { out: process.stdout, err: process.stderr }, process.env, signal);
  if (gate !== undefined && 'code' in gate) {
    process.exitCode = gate.code;
    return;
  }
  const claim = gate?.claim;
  enableCompileCache(process.env);
  try {
    // Bundled, './main' is out/cli-main.js (build.mjs keeps it a run-time require).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when the fast path cannot answer
    const { runCli } = require('./main') as typeof import('./main');
    await runCli(argv, signal, claim ? [claim] : []);
  } finally {
    await claim?.release();
  }
}

void start(process.argv.slice(2));
