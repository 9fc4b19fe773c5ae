/**
 * An extension as a user gets it: `vsce package` of a directory (by default this repository: out/
 * from `npm run build`, filtered by .vscodeignore). The main job, the UI test and the extension
 * benchmark install such files into VS Code's server.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

export interface PackageOptions {
  /** The extension's directory; default the repository. */
  dir?: string;
  /** More vsce arguments, e.g. ['--skip-license']. */
  extraArgs?: string[];
}

/** Writes the .vsix to `out`; a failure carries vsce's own output. */
export async function packageVsix(out: string, options: PackageOptions = {}): Promise<string> {
  const dir = options.dir ?? REPO_ROOT;
  const args = [require.resolve('@vscode/vsce/vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', ...(options.extraArgs ?? []), '--out', out];
  try {
    await run(process.execPath, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`vsce package in ${dir} failed: ${error instanceof Error ? error.message : String(error)}\n${`${stdout}${stderr}`.trim()}`);
  }
  return out;
}
