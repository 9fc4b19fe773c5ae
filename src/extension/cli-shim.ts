import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/store/atomic-write';

/**
 * Writes a `qm` launcher into `dir` that runs the CLI bundled with the extension on the Node
 * that runs the extension host (Electron's, as plain Node, in desktop VS Code), so `qm` typed in
 * an integrated terminal works without a separate install and matches this extension's version.
 * Replaced by rename: a terminal starting `qm` meanwhile sees the old file or the new one.
 */
export async function writeCliShim(dir: string, cliPath: string, nodePath: string = process.execPath): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const windows = process.platform === 'win32';
  const file = path.join(dir, windows ? 'qm.cmd' : 'qm');
  const text = windows
    ? `@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"${nodePath}" "${cliPath}" %*\r\n`
    : `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec ${shellQuote(nodePath)} ${shellQuote(cliPath)} "$@"\n`;
  await writeFileAtomic(file, text, { mode: 0o755, durable: false, action: 'write the qm launcher' });
  return file;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
