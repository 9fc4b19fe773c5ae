/**
 * npm run test:e2e — Quartermaster driven through VS Code's own UI, as a person would: VS Code's
 * server (code-server's copy) on 127.0.0.1 with the extension installed from a fresh .vsix of the
 * repository (no smoke-test driver: notifications are toasts, as a user sees them), its web
 * workbench in headless Chromium, the fixture world behind it with Node.js archives slow
 * enough (about 3.5 s each) that downloads really overlap.
 *
 *   1. A workspace declaring node 22 and go 1.23, autoInstall "always", workspace trust off.
 *   2. The automatic fetch: the status bar spins with a percentage, then shows both, no warning.
 *   3. "Quartermaster: Install Toolchain…" from the palette: zig, 0.13.0; a toast shows the progress,
 *      then says it is installed.
 *   4. Switch Version from the status bar to node 20.18.1 while, during that download, `qm install
 *      node@20.18.1` runs in an integrated terminal and another `qm` runs outside VS Code.
 *      Everything ends installed; the mirror served every archive once and every index at most once.
 *   5. The UI tells the truth (test/e2e/ui/honest-ui.ts): a broken qm.toml, Clean Up's report, a
 *      prompt that goes away once it no longer applies.
 *   6. Two windows, one cache (test/e2e/ui/two-windows.ts): a fresh world and server, two tabs
 *      with a folder each, both installing node 22 with one GET; the leader's tab closes and the
 *      other window takes over within a second and finishes.
 *
 * Screenshots of each moment go to test-results/ui/ (failure.png too when it fails, with the
 * server's and the extension's logs printed). Needs `npm run build` first. QM_UI_TIMEOUT_MS
 * (default 300000) bounds the whole run; QM_UI_SCENARIOS ("main", "two-windows") runs only those.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { REPO_ROOT, type FixtureWorld } from './fixture-world';
import { Deadline } from './ui/deadline';
import { DownloadAudit, type ToolName } from './ui/download-audit';
import { nearestSpecQuickFixes, toolchainContextMenu, versionPickerOrder } from './ui/editor-actions';
import { honestUi } from './ui/honest-ui';
import { whenFile } from './ui/file-watch';
import { runOutsideCli } from './ui/outside-cli';
import { statusBarHistory } from './ui/status-bar-probe';
import { twoWindowsTakeOver } from './ui/two-windows';
import { Workbench } from './ui/workbench';
import type { VsCodeServer } from './vscode-server';
import { packageVsix } from './vsix';
import { withWorkbenchSession } from './workbench-session';

const RESULTS = path.join(REPO_ROOT, 'test-results', 'ui');
const MANIFEST = '[tools]\nnode = "22"\ngo = "1.23"\n';
/** 2 MiB at 600 KiB/s: about 3.5 s per Node.js archive. */
const SLOW_NODE = { payloadBytes: 2 * 1024 * 1024, bytesPerSecond: 600 * 1024 };
const USER_SETTINGS = {
  'quartermaster.autoInstall': 'always',
  // bash for its shell integration, which marks prompts and finished commands in the DOM.
  'terminal.integrated.defaultProfile.linux': 'bash',
  'terminal.integrated.suggest.enabled': false,
};

const started = performance.now();
function lap(what: string): void {
  console.log(`[ui-e2e ${((performance.now() - started) / 1000).toFixed(1)}s] ${what}`);
}

interface Run {
  world: FixtureWorld;
  audit: DownloadAudit;
  workbench: Workbench;
  deadline: Deadline;
  /** What the audit expects to have been fetched, filled in as steps run. */
  fetched: Array<{ tool: ToolName; version: string }>;
}

async function main(interrupt: AbortSignal): Promise<number> {
  for (const bundle of ['out/extension.js', 'out/server.js', 'out/cli.js']) {
    await fs.access(path.join(REPO_ROOT, bundle)).catch(() => {
      throw new Error(`${bundle} is missing: run npm run build first`);
    });
  }
  const timeoutMs = Number(process.env.QM_UI_TIMEOUT_MS ?? 300_000);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`QM_UI_TIMEOUT_MS must be a positive number of milliseconds, got '${process.env.QM_UI_TIMEOUT_MS}'`);
  const scenarios = chosenScenarios(process.env.QM_UI_SCENARIOS);
  await fs.rm(RESULTS, { recursive: true, force: true });
  const deadline = new Deadline(timeoutMs, interrupt);
  try {
    if (scenarios.includes('main')) {
      const code = await runAll(deadline);
      if (code !== 0) return code;
    }
    if (scenarios.includes('two-windows')) {
      try {
        await twoWindowsTakeOver({ deadline, results: RESULTS, userSettings: USER_SETTINGS, lap });
      } catch (error) {
        console.error(`\nui-e2e: FAILED in step "${deadline.currentStep}": ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        return 1;
      }
    }
    return 0;
  } finally {
    deadline.dispose();
  }
}

const SCENARIOS = ['main', 'two-windows'] as const;

/** QM_UI_SCENARIOS, e.g. "two-windows": only those; default all, in order. */
function chosenScenarios(names: string | undefined): ReadonlyArray<(typeof SCENARIOS)[number]> {
  if (names === undefined || names.trim() === '') return SCENARIOS;
  const wanted = names.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`QM_UI_SCENARIOS: no scenario ${unknown.join(', ')}; there are ${SCENARIOS.join(', ')}`);
  return SCENARIOS.filter((name) => wanted.includes(name));
}

async function runAll(deadline: Deadline): Promise<number> {
  deadline.step('1. fixture world and VS Code');
  // Installed from its .vsix, as a user has it (and as npm start shows it): the workbench runs
  // without the smoke-test driver, so notifications are toasts and dialogs are real.
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-ui-vsix-'));
  try {
    const vsix = await deadline.wait('vsce package', () => packageVsix(path.join(scratch, 'quartermaster.vsix')));
    return await inSession(deadline, vsix);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function inSession(deadline: Deadline, vsix: string): Promise<number> {
  let audit: DownloadAudit | undefined;
  return withWorkbenchSession(
    {
      prepare: async (world) => {
        audit = await DownloadAudit.prepare(world.mirror, SLOW_NODE);
        await fs.writeFile(path.join(world.workspace, 'qm.toml'), MANIFEST);
      },
      server: (world) => ({ env: world.env, disableWorkspaceTrust: true, userSettings: USER_SETTINGS, installExtensions: [vsix] }),
      onServer: (server, world) => lap(`VS Code server on ${server.url}; mirror on ${world.mirror.url}`),
    },
    async ({ world, server, page }) => {
      try {
        const url = `${server.url}/?folder=${encodeURIComponent(world.workspace)}`;
        const workbench = await Workbench.open(page, url, deadline, RESULTS);
        lap('workbench up, Quartermaster active');
        const run: Run = { world, audit: audit!, workbench, deadline, fetched: [] };
        await automaticFetch(run);
        await installFromPalette(run);
        await switchWhileOthersInstall(run);
        auditDownloads(run);
        await showOutcome(run);
        await editorActions(run);
        await honestUi({ workbench, deadline, workspace: world.workspace, repoRoot: REPO_ROOT, env: productEnv(world), lap });
        return 0;
      } catch (error) {
        console.error(`\nui-e2e: FAILED in step "${deadline.currentStep}": ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        await reportFailure(page, server, audit!);
        return 1;
      }
    },
  );
}

/** 2. autoInstall "always": the manifest's node and go arrive without anyone asking. */
async function automaticFetch(run: Run): Promise<void> {
  const { workbench, deadline } = run;
  deadline.step('2. automatic fetch');
  const done = await workbench.waitForStatusBar('node 22.12.0 and go 1.23.x installed', /^\$\(tools\) node 22\.12\.0 {2}go 1\.23\.\d+$/);
  const history = await workbench.statusBarHistory();
  lap(`status bar went through: ${history.map((t) => JSON.stringify(t)).join(' -> ')}`);
  assert.ok(history.some((t) => /^\$\(sync~spin\) node 22\.12\.0 {2}go 1\.23\.\d+ \d+%$/.test(t)), 'the status bar never showed the spinner with a percentage');
  assert.doesNotMatch(await workbench.accessibilityLabel(), /missing/);
  const go = /go (1\.23\.\d+)$/.exec(done)![1]!;
  run.fetched.push({ tool: 'node', version: '22.12.0' }, { tool: 'go', version: go });
  await workbench.hoverStatusBarItem(`go = "1.23" → ${go}: installed`);
  await workbench.screenshot('01-auto-fetch-done.png', { keepHover: true });
  lap(`automatic fetch done: ${done}`);
}

/** 3. The palette's Install Toolchain…: tool, then version, then the notification. */
async function installFromPalette(run: Run): Promise<void> {
  const { workbench, deadline, world } = run;
  deadline.step('3. Install Toolchain… from the command palette');
  await workbench.runCommand('Quartermaster: Install Toolchain…');
  await workbench.pickQuickItem('Install Toolchain (1/2)', 'zig');
  await workbench.waitForQuickItem('Install Toolchain (2/2)', '0.13.0');
  assert.match(await workbench.quickItemDescription('0.13.0'), /latest/);
  await workbench.screenshot('02-install-toolchain.png');
  await workbench.pickQuickItem('Install Toolchain (2/2)', '0.13.0');
  const message = await workbench.waitForNotification('zig 0.13.0 is installed.');
  await workbench.waitForNotificationGone('Installing zig 0.13.0');
  run.fetched.push({ tool: 'zig', version: '0.13.0' });
  const receipt = await receiptOf(world.home, 'zig', '0.13.0');
  lap(`notification "${message}"; receipt ${path.relative(world.home, receipt)}`);
  await workbench.screenshot('02b-install-toolchain-done.png');
  await workbench.hideNotifications();
}

/**
 * 4. Switch Version from the status bar to node 20.18.1; while the mirror is still sending that
 * archive, a terminal's `qm` and a `qm` outside VS Code ask for the same version.
 */
async function switchWhileOthersInstall(run: Run): Promise<void> {
  const { workbench, deadline, world, audit } = run;
  deadline.step('4. switch node from the status bar, with two more installers at once');
  const scratch = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'qm-ui-')));
  const terminalJson = path.join(scratch, 'terminal.json');
  const terminalExit = path.join(scratch, 'terminal.exit');
  try {
    await workbench.openTerminal();
    await workbench.clickStatusBarItem();
    await workbench.pickQuickItem('Switch Version (qm.toml) (1/3)', 'node');
    await workbench.waitForQuickItem('Switch Version (qm.toml) (2/3)', '20.18.1');
    assert.match(await workbench.quickItemDescription('22.12.0'), /LTS Jod.*installed.*current/);
    assert.match(await workbench.quickItemDescription('20.18.1'), /LTS Iron/);
    await workbench.screenshot('03a-switch-version-pick.png');
    await workbench.pickQuickItem('Switch Version (qm.toml) (2/3)', '20.18.1');
    // qm.toml says "22": the same form, "20", comes first; the pin and the LTS line are offered too.
    await workbench.waitForQuickItem('Switch Version (qm.toml) (3/3)', '20');
    assert.match(await workbench.quickItemDescription('20'), /the newest 20\.x release/);
    assert.match(await workbench.quickItemDescription('20.18.1'), /exactly this release/);
    assert.match(await workbench.quickItemDescription('lts/iron'), /Iron LTS/);
    await workbench.screenshot('03b-switch-version-form.png');
    await workbench.pickQuickItem('Switch Version (qm.toml) (3/3)', '20');

    const archive = await deadline.wait('the mirror to receive the GET for node 20.18.1', () => audit.whenRequested('node', '20.18.1', deadline.signal));
    const servedBeforeOutside = audit.fullBodies('node', '20.18.1');
    const outside = runOutsideCli({ repoRoot: REPO_ROOT, args: ['install', 'node@20.18.1', '--json'], env: productEnv(world), signal: deadline.signal });
    const outsideJoined = outside.firstProgress.then((line) => ({ line, served: audit.fullBodies('node', '20.18.1') }));
    lap(`${archive.path} requested; outside qm (pid ${outside.pid}) started with ${servedBeforeOutside} full bodies served`);
    assert.equal(servedBeforeOutside, 0, 'the archive was already fully served when the outside qm started: nothing was concurrent');

    // One line, so the shell never takes typing between commands; its tail is for the last screenshot.
    await workbench.runInTerminal(
      `d=${shellQuote(scratch)}; qm install node@20.18.1 --json > "$d/terminal.json" 2>&1; echo $? > "$d/terminal.exit"; ` +
        `echo "qm exited $(cat "$d/terminal.exit")"; grep -E '"(tool|version|coordinator)"' "$d/terminal.json"; : > "$d/shown"`,
    );
    const servedBeforeTerminal = audit.fullBodies('node', '20.18.1');
    const switched = workbench.waitForStatusBar('node 20.18.1 installed', /^\$\(tools\) node 20\.18\.1 {2}go 1\.23\.\d+$/);
    // A clear failure, not a wait until the limit, if this machine took longer than the whole download.
    const busy = await Promise.race([
      workbench.waitForStatusBar('the spinner with a percentage', /^\$\(sync~spin\) .+ \d+%$/),
      switched.then((text) => Promise.reject(new Error(`the switch was over (${text}) before the in-progress screenshot; raise SLOW_NODE's payload`))),
    ]);
    await workbench.screenshot('03-switch-in-progress.png');
    lap(`terminal command entered with ${servedBeforeTerminal} full bodies served; in progress: ${busy}; after the screenshot: ${audit.fullBodies('node', '20.18.1')} served`);

    const [final, exitText, outsideResult, joined] = await Promise.all([
      switched,
      deadline.wait(`${terminalExit} from the terminal`, () => whenFile(terminalExit, (t) => t.endsWith('\n'), deadline.signal)),
      deadline.wait('the outside qm to exit', () => outside.exited),
      deadline.wait("the outside qm's first progress line", () => outsideJoined),
    ]);
    run.fetched.push({ tool: 'node', version: '20.18.1' });
    lap(`status bar: ${final}`);
    lap(`outside qm's first progress: ${JSON.stringify(joined.line)} (${joined.served} full bodies served by then)`);

    assert.doesNotMatch(await workbench.accessibilityLabel(), /missing/);
    assert.match(await fs.readFile(path.join(world.workspace, 'qm.toml'), 'utf8'), /^node = "20"$/m, 'the spec keeps its form');

    const terminalText = await fs.readFile(terminalJson, 'utf8');
    assert.equal(exitText.trim(), '0', `qm in the terminal exited ${exitText.trim()}:\n${terminalText}`);
    const terminalResult = lastJsonDocument(terminalText);
    assertInstalled(terminalResult, 'the terminal');
    lap(`terminal qm: exit 0, ${JSON.stringify(terminalResult)}`);

    assert.equal(outsideResult.code, 0, `the outside qm exited ${outsideResult.code ?? outsideResult.signal}:\n${outsideResult.stdout}\n${outsideResult.stderr}`);
    const outsideJson = JSON.parse(outsideResult.stdout) as unknown;
    assertInstalled(outsideJson, 'the outside qm');
    lap(`outside qm: exit 0, ${JSON.stringify(outsideJson)}`);

    await deadline.wait("the terminal's summary line", () => whenFile(path.join(scratch, 'shown'), () => true, deadline.signal));
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Over the whole run: each archive fetched once, whoever asked, and each index at most once. */
function auditDownloads(run: Run): void {
  run.deadline.step('4. audit of what the mirror served');
  const problems = run.audit.problems(run.fetched);
  lap(`the mirror served:\n${run.audit.report()}`);
  assert.deepEqual(problems, [], `the mirror's counts break the rules:\n${problems.join('\n')}`);
}

/** The last look: qm.toml open with the new pin, the status bar, the terminal's output. */
async function showOutcome(run: Run): Promise<void> {
  run.deadline.step('4. final screenshot');
  await run.workbench.openFile('qm.toml', 'node = "20"');
  await run.workbench.screenshot('04-final.png');
  lap(`screenshots in ${path.relative(REPO_ROOT, RESULTS)}/`);
}

/** 5–7. The version picker's order, the quick fixes for a spec that matches nothing, the view's context menu. */
async function editorActions(run: Run): Promise<void> {
  const { workbench, deadline, world } = run;
  deadline.step('5. the version picker: stable releases first');
  await versionPickerOrder(workbench, deadline);
  deadline.step('6. quick fixes for node = "20.99.0"');
  await nearestSpecQuickFixes(workbench, deadline, world.workspace);
  deadline.step("7. the Toolchains view's context menu");
  await toolchainContextMenu(workbench, deadline, 'zig 0.13.0');
  lap('picker, quick fixes and context menu checked');
}

/** { tools: [{ tool: 'node', version: '20.18.1', ... }], coordinator: true }, as `qm install --json` prints. */
function assertInstalled(result: unknown, who: string): void {
  const value = result as { tools?: Array<{ tool?: unknown; version?: unknown }>; coordinator?: unknown };
  assert.equal(value.tools?.length, 1, `${who}: ${JSON.stringify(result)}`);
  assert.equal(value.tools[0]?.tool, 'node', `${who}: ${JSON.stringify(result)}`);
  assert.equal(value.tools[0]?.version, '20.18.1', `${who}: ${JSON.stringify(result)}`);
  assert.equal(value.coordinator, true, `${who} did not go through the coordinator: ${JSON.stringify(result)}`);
}

/** `--json` output with stderr merged in: JSON progress lines, then the result, pretty-printed from a line holding `{`. */
function lastJsonDocument(text: string): unknown {
  const start = text.startsWith('{\n') ? 0 : text.lastIndexOf('\n{\n') + 1;
  if (start === 0 && !text.startsWith('{\n')) throw new Error(`no JSON result in:\n${text}`);
  return JSON.parse(text.slice(start)) as unknown;
}

async function receiptOf(home: string, tool: string, version: string): Promise<string> {
  const dir = path.join(home, 'toolchains', tool);
  const entry = (await fs.readdir(dir)).find((name) => name.startsWith(`${version}-`));
  assert.ok(entry, `no ${tool} ${version} under ${dir}`);
  const receipt = path.join(dir, entry, '.qm-receipt.json');
  await fs.access(receipt);
  return receipt;
}

/** The variables any `qm` on this machine would have: the shared home and the mirrors. */
function productEnv(world: FixtureWorld): Record<string, string> {
  const { QM_HOME, QM_MIRROR_NODE, QM_MIRROR_GO, QM_MIRROR_ZIG } = world.env;
  return { QM_HOME: QM_HOME!, QM_MIRROR_NODE: QM_MIRROR_NODE!, QM_MIRROR_GO: QM_MIRROR_GO!, QM_MIRROR_ZIG: QM_MIRROR_ZIG! };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** failure.png, the server log's tail and the Quartermaster output channel's log. */
async function reportFailure(page: Page, server: VsCodeServer, audit: DownloadAudit): Promise<void> {
  await fs.mkdir(RESULTS, { recursive: true });
  try {
    await page.screenshot({ path: path.join(RESULTS, 'failure.png'), timeout: 15_000 });
    console.error(`ui-e2e: screenshot ${path.relative(REPO_ROOT, path.join(RESULTS, 'failure.png'))}`);
  } catch (error) {
    console.error(`ui-e2e: no screenshot: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (page) console.error(`--- the status bar showed\n${(await withinSeconds(10, statusBarHistory(page)).catch(() => ['(the page did not answer)'])).join('\n')}`);
  console.error(`--- the mirror served\n${audit.report()}`);
  console.error(`--- VS Code server log (last 40 lines)\n${await server.logTail(40)}`);
  // The output channel's log: <logs>/<session>/exthost1/quartermaster.quartermaster/Quartermaster.log
  const logs = await fs.readdir(server.logsDir, { recursive: true }).catch(() => []);
  for (const name of logs.filter((file) => /Quartermaster[^/]*\.log$/.test(file))) {
    const text = await fs.readFile(path.join(server.logsDir, name), 'utf8').catch(() => '');
    console.error(`--- ${name} (last 80 lines)\n${text.trimEnd().split('\n').slice(-80).join('\n')}`);
  }
  console.error('---');
}

/** For diagnostics from a page that may itself be stuck. */
function withinSeconds<T>(seconds: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${seconds} s`)), seconds * 1000)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const interrupted = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => interrupted.abort());

main(interrupted.signal).then(
  (code) => {
    lap(code === 0 ? 'passed' : `FAILED (exit code ${code})`);
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('ui-e2e:', error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  },
);
