/**
 * npm run test:vscode:electron — the same Mocha suite as npm run test:vscode, in a desktop VS Code
 * that @vscode/test-electron downloads into .vscode-test/. For machines that can reach
 * update.code.visualstudio.com (this project's CI machines cannot: there, test:vscode runs the
 * suite in VS Code's server + Chromium). On Linux without a display, run it under xvfb-run.
 * Needs `npm run build` first.
 *
 * Environment: QM_VSCODE_VERSION (default 'stable'; e.g. '1.91.0', the oldest engines.vscode allows),
 * QM_TEST_GREP as for test:vscode.
 */
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { API_CONSUMER_PATH, assertBuilt, EXTENSION_TESTS_PATH, FixtureWorld, REPO_ROOT } from '../e2e/fixture-world';
import { DEFAULT_USER_SETTINGS } from '../e2e/vscode-server';

async function main(): Promise<number> {
  await assertBuilt();
  const world = await FixtureWorld.create();
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-vscode-electron-'));
  try {
    const userData = path.join(profile, 'user-data');
    await fs.mkdir(path.join(userData, 'User'), { recursive: true });
    await fs.writeFile(path.join(userData, 'User/settings.json'), `${JSON.stringify(DEFAULT_USER_SETTINGS, null, 2)}\n`);
    return await runTests({
      version: process.env.QM_VSCODE_VERSION ?? 'stable',
      // Ours, and the second extension that uses its API (test/vscode/api-consumer).
      extensionDevelopmentPath: [REPO_ROOT, API_CONSUMER_PATH],
      extensionTestsPath: EXTENSION_TESTS_PATH,
      // The VS Code process gets these and its extension host inherits them.
      extensionTestsEnv: world.env,
      launchArgs: [
        world.workspace,
        '--disable-extensions', // every other extension; the one under development still loads
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-gpu',
        '--user-data-dir', userData,
        '--extensions-dir', path.join(profile, 'extensions'),
      ],
    });
  } catch (error) {
    // A failing suite is an exit code, not a crash of this script.
    if (error instanceof TestRunFailedError) return error.code ?? 1;
    throw error;
  } finally {
    await fs.rm(profile, { recursive: true, force: true });
    await world.dispose();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('vscode-electron:', error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  },
);
