/**
 * npm run test:vscode — the Mocha suite of test/vscode in a real VS Code: VS Code's server
 * (code-server's copy) on 127.0.0.1 with the repository as the development extension, its web
 * workbench in headless Chromium, the fixture world (mirror, QM_HOME, workspace) behind it.
 * Exits with the suite's code. Needs `npm run build` first (out/extension.js, out/test/vscode).
 *
 * Environment: QM_VSCODE_TIMEOUT_MS (default 180000) bounds the whole suite; QM_TEST_GREP runs
 * only the tests whose full title matches; QM_VSCODE_VERBOSE=1 also shows the workbench's and
 * Chromium's console. A failed run leaves test-results/vscode-<time>-<pid>/ (one per run, so
 * runs side by side never mix them up) with a screenshot, the server's and extension host's logs
 * and the workbench's.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { exposeAutomationExit, type AutomationExitReport } from './automation-exit';
import { launchChromium } from './browser';
import { forwardExtensionHostConsole } from './console-forwarder';
import { assertBuilt, EXTENSION_TESTS_PATH, FixtureWorld, REPO_ROOT } from './fixture-world';
import { VsCodeServer } from './vscode-server';

const RESULTS = path.join(REPO_ROOT, 'test-results', `vscode-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);

const started = performance.now();
function lap(what: string): void {
  console.log(`[vscode-e2e ${((performance.now() - started) / 1000).toFixed(1)}s] ${what}`);
}

async function main(signal: AbortSignal): Promise<number> {
  await assertBuilt();
  const timeoutMs = Number(process.env.QM_VSCODE_TIMEOUT_MS ?? 180_000);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`QM_VSCODE_TIMEOUT_MS must be a positive number of milliseconds, got '${process.env.QM_VSCODE_TIMEOUT_MS}'`);

  const world = await FixtureWorld.create();
  try {
    const server = await VsCodeServer.start({ env: world.env, disableWorkspaceTrust: true });
    lap(`VS Code server on ${server.url}`);
    try {
      const browser = await launchChromium();
      try {
        const report = await runSuite(browser.page, server, world, timeoutMs, signal);
        if (signal.aborted) return 130;
        if (report?.code !== 0) await saveFailure(browser.page, server, report);
        return report?.code ?? 1;
      } finally {
        await browser.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await world.dispose();
  }
}

/** The workbench's report, or undefined when it never came (timeout, interrupt, page failure: said on stderr). */
async function runSuite(
  page: Page,
  server: VsCodeServer,
  world: FixtureWorld,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<AutomationExitReport | undefined> {
  const { exited } = await exposeAutomationExit(page);
  const forwarder = forwardExtensionHostConsole(page, (line) => console.log(line), { verbose: process.env.QM_VSCODE_VERBOSE === '1' });
  const payload = [
    ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
    ['extensionTestsPath', server.remoteUri(EXTENSION_TESTS_PATH)],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(world.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  lap(`opening the workbench on ${world.workspace}`);
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  let report: AutomationExitReport;
  try {
    await page.goto(url);
    report = await untilAborted(exited, deadline);
  } catch (error) {
    await forwarder.flush();
    if (signal.aborted) console.error('vscode-e2e: interrupted');
    else if (deadline.aborted) console.error(`vscode-e2e: the suite did not finish within ${timeoutMs / 1000} s (no codeAutomationExit call; QM_VSCODE_TIMEOUT_MS raises the limit)`);
    else console.error(`vscode-e2e: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  await forwarder.flush();
  lap(`suite finished with exit code ${report.code}`);
  return report;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Screenshot, the server's logs (its extension host's too) and the workbench's into RESULTS; the server log's tail on stderr. */
async function saveFailure(page: Page, server: VsCodeServer, report: AutomationExitReport | undefined): Promise<void> {
  await fs.mkdir(RESULTS, { recursive: true });
  try {
    await page.screenshot({ path: path.join(RESULTS, 'screenshot.png') });
  } catch (error) {
    console.error(`vscode-e2e: no screenshot: ${error instanceof Error ? error.message : String(error)}`);
  }
  await fs.copyFile(server.logFile, path.join(RESULTS, 'server.log')).catch(() => undefined);
  await fs.cp(server.logsDir, path.join(RESULTS, 'server-logs'), { recursive: true }).catch(() => undefined);
  for (const log of report?.logs ?? []) {
    // relativePath comes from the page: keep it inside RESULTS/logs.
    const file = path.join(RESULTS, 'logs', path.normalize(`/${log.relativePath}`));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, log.contents);
  }
  console.error(`--- VS Code server log (last 40 lines)\n${await server.logTail(40)}\n---`);
  console.error(`vscode-e2e: screenshot and logs in ${path.relative(REPO_ROOT, RESULTS)}/`);
}

const interrupted = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => interrupted.abort());

main(interrupted.signal).then(
  (code) => {
    lap(code === 0 ? 'passed' : `FAILED (exit code ${code})`);
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('vscode-e2e:', error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  },
);
