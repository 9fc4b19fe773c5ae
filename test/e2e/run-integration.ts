/**
 * npm run test:vscode — the Mocha suite of test/vscode in a real VS Code: VS Code's server
 * (code-server's copy) on 127.0.0.1 with the repository as the development extension, its web
 * workbench in headless Chromium, the fixture world (mirror, QM_HOME, workspace) behind it.
 * Exits with the suite's code. Needs `npm run build` first (out/extension.js, out/test/vscode).
 *
 * The suite runs in two sessions, one after the other, each with its own fixture world, server and
 * browser (SESSIONS below): "trusted" with workspace trust disabled, and "untrusted" with trust on
 * and the folder in restricted mode, running only the suites whose title starts with "Untrusted"
 * (test/vscode/index.ts picks them by QM_TEST_SESSION).
 *
 * Environment: QM_VSCODE_TIMEOUT_MS (default 180000) bounds each session's suite; QM_TEST_GREP
 * runs only the tests whose full title matches; QM_VSCODE_SESSIONS (e.g. "untrusted") runs only
 * the named sessions; QM_VSCODE_VERBOSE=1 also shows the workbench's and Chromium's console. A
 * failed session leaves test-results/vscode-<time>-<pid>/<session>/ (one per run, so runs side by
 * side never mix them up) with a screenshot, the server's and extension host's logs and the
 * workbench's.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { packageApiConsumer } from './api-consumer-vsix';
import { exposeAutomationExit, type AutomationExitReport } from './automation-exit';
import { forwardExtensionHostConsole } from './console-forwarder';
import { assertBuilt, EXTENSION_TESTS_PATH, FixtureWorld, REPO_ROOT } from './fixture-world';
import type { VsCodeServer } from './vscode-server';
import { withWorkbenchSession } from './workbench-session';

const RESULTS = path.join(REPO_ROOT, 'test-results', `vscode-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);

const started = performance.now();
function lap(what: string): void {
  console.log(`[vscode-e2e ${((performance.now() - started) / 1000).toFixed(1)}s] ${what}`);
}

/** One VS Code session: how its server is started and what its workspace holds. */
interface Session {
  /** Reaches the extension host as QM_TEST_SESSION; test/vscode/index.ts chooses the suites by it. */
  name: 'trusted' | 'untrusted';
  disableWorkspaceTrust: boolean;
  userSettings: Record<string, unknown>;
  /** Rewrites the copied workspace before VS Code opens it. */
  prepare?: (world: FixtureWorld) => Promise<void>;
}

/**
 * For every session. The web workbench's default for files.autoSave is "afterDelay" (the desktop's
 * is "off"): an edit a test makes and never saves would reach the disk a second later.
 */
const SESSION_SETTINGS: Readonly<Record<string, unknown>> = Object.freeze({ 'files.autoSave': 'off' });

const SESSIONS: readonly Session[] = [
  { name: 'trusted', disableWorkspaceTrust: true, userSettings: SESSION_SETTINGS },
  {
    name: 'untrusted',
    disableWorkspaceTrust: false,
    userSettings: {
      ...SESSION_SETTINGS,
      // No modal "Do you trust the authors?" at start: the folder opens in restricted mode, as
      // after choosing "Don't Trust" (VS Code's workspace trust docs; the default is "once").
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'never',
      // In user settings, which restricted mode honours: only the missing trust stops a fetch.
      'quartermaster.autoInstall': 'always',
    },
    prepare: writeLockedWorkspace,
  },
];

async function main(signal: AbortSignal): Promise<number> {
  await assertBuilt();
  const timeoutMs = Number(process.env.QM_VSCODE_TIMEOUT_MS ?? 180_000);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`QM_VSCODE_TIMEOUT_MS must be a positive number of milliseconds, got '${process.env.QM_VSCODE_TIMEOUT_MS}'`);
  const sessions = chosenSessions(process.env.QM_VSCODE_SESSIONS);

  // The suite's second extension, installed into each session's server as a user would install it.
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-vscode-consumer-'));
  try {
    const consumer = await packageApiConsumer(scratch);
    let exitCode = 0;
    for (const session of sessions) {
      const code = await runSession(session, consumer, timeoutMs, signal);
      if (signal.aborted) return 130;
      lap(`${session.name}: ${code === 0 ? 'passed' : `FAILED (exit code ${code})`}`);
      if (exitCode === 0) exitCode = code;
    }
    return exitCode;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

function chosenSessions(names: string | undefined): readonly Session[] {
  if (names === undefined || names.trim() === '') return SESSIONS;
  const wanted = names.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !SESSIONS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`QM_VSCODE_SESSIONS: no session ${unknown.join(', ')}; there are ${SESSIONS.map((s) => s.name).join(', ')}`);
  return SESSIONS.filter((s) => wanted.includes(s.name));
}

/** A fixture world, server and browser of its own; the session's exit code. */
async function runSession(session: Session, consumerVsix: string, timeoutMs: number, signal: AbortSignal): Promise<number> {
  return withWorkbenchSession(
    {
      ...(session.prepare ? { prepare: session.prepare } : {}),
      server: (world) => ({
        env: { ...world.env, QM_TEST_SESSION: session.name },
        userSettings: session.userSettings,
        disableWorkspaceTrust: session.disableWorkspaceTrust,
        // The suite arrives through the URL's payload (extensionTestsPath), which only the driver honours.
        smokeTestDriver: true,
        installExtensions: [consumerVsix],
      }),
      onServer: (server) => lap(`${session.name}: VS Code server on ${server.url}`),
    },
    async ({ world, server, page }) => {
      const report = await runSuite(session, page, server, world, timeoutMs, signal);
      if (signal.aborted) return 130;
      if (report?.code !== 0) await saveFailure(path.join(RESULTS, session.name), page, server, report);
      return report?.code ?? 1;
    },
  );
}

/**
 * The untrusted session's workspace: qm.toml declaring node, and the qm.lock the real CLI writes
 * for it against this world's mirror (in a QM_HOME of its own, so the world's stays empty). The
 * mirror's counters are reset afterwards: whatever the session's tests see, VS Code asked for.
 */
async function writeLockedWorkspace(world: FixtureWorld): Promise<void> {
  await fs.writeFile(path.join(world.workspace, 'qm.toml'), '# The untrusted session\'s workspace: node is pinned by qm.lock.\n[tools]\nnode = "22"\n');
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-vscode-lock-home-'));
  try {
    // Only this world's variables: a QM_COORDINATOR or QM_HOME of the shell running the harness must not leak in.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('QM_')));
    const { QM_MIRROR_NODE, QM_MIRROR_GO, QM_MIRROR_ZIG } = world.env;
    await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'out/cli.js'), 'lock'], {
      cwd: world.workspace,
      env: { ...inherited, QM_HOME: home, QM_MIRROR_NODE, QM_MIRROR_GO, QM_MIRROR_ZIG },
    });
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
  world.mirror.resetStats();
}

/** The workbench's report, or undefined when it never came (timeout, interrupt, page failure: said on stderr). */
async function runSuite(
  session: Session,
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
  lap(`${session.name}: opening the workbench on ${world.workspace}`);
  // Our own timer, held until the end: on Node 20 an AbortSignal.timeout() reachable only through
  // AbortSignal.any() can be garbage-collected, and then the limit never fires.
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(), timeoutMs);
  const deadline = AbortSignal.any([signal, limit.signal]);
  let report: AutomationExitReport;
  try {
    await page.goto(url);
    report = await untilAborted(exited, deadline);
  } catch (error) {
    await forwarder.flush();
    if (signal.aborted) console.error(`vscode-e2e: ${session.name}: interrupted`);
    else if (deadline.aborted) console.error(`vscode-e2e: ${session.name}: the suite did not finish within ${timeoutMs / 1000} s (no codeAutomationExit call; QM_VSCODE_TIMEOUT_MS raises the limit)`);
    else console.error(`vscode-e2e: ${session.name}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
  await forwarder.flush();
  lap(`${session.name}: suite finished with exit code ${report.code}`);
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

/** Screenshot, the server's logs (its extension host's too) and the workbench's into `results`; the server log's tail on stderr. */
async function saveFailure(results: string, page: Page, server: VsCodeServer, report: AutomationExitReport | undefined): Promise<void> {
  await fs.mkdir(results, { recursive: true });
  try {
    await page.screenshot({ path: path.join(results, 'screenshot.png') });
  } catch (error) {
    console.error(`vscode-e2e: no screenshot: ${error instanceof Error ? error.message : String(error)}`);
  }
  await fs.copyFile(server.logFile, path.join(results, 'server.log')).catch(() => undefined);
  await fs.cp(server.logsDir, path.join(results, 'server-logs'), { recursive: true }).catch(() => undefined);
  for (const log of report?.logs ?? []) {
    // relativePath comes from the page: keep it inside results/logs.
    const file = path.join(results, 'logs', path.normalize(`/${log.relativePath}`));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, log.contents);
  }
  console.error(`--- VS Code server log (last 40 lines)\n${await server.logTail(40)}\n---`);
  console.error(`vscode-e2e: screenshot and logs in ${path.relative(REPO_ROOT, results)}/`);
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
