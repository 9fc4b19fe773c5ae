/**
 * The second extension of the integration suite (test/vscode/api-consumer, bundled by `npm run
 * build` into out/test/api-consumer) as a .vsix, for VS Code's server to install like any user's
 * extension: the web workbench takes only one extensionDevelopmentPath.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { API_CONSUMER_PATH } from './fixture-world';

/** Writes the .vsix into `dir` and returns its path. */
export async function packageApiConsumer(dir: string): Promise<string> {
  const vsix = path.join(dir, 'qm-api-consumer.vsix');
  const vsce = require.resolve('@vscode/vsce/vsce');
  await promisify(execFile)(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix], { cwd: API_CONSUMER_PATH });
  return vsix;
}
