/**
 * Two VS Code windows on one QM_HOME, as two browser tabs on one VS Code server: each window
 * (tab) has its own extension host process, so one is the coordinator's leader and the other its
 * client, exactly as between two desktop windows. Each window opens a folder of its own declaring
 * node 22. Both ask to install it, and the mirror sees one GET; the leader's tab is closed while
 * the archive is still arriving (its first transfer is paced very slowly); the other window's
 * extension host becomes the leader within a second, finishes its job, and its status bar never
 * says anything wrong on the way.
 *
 * How the takeover is proven: each extension host writes its own Quartermaster.log (exthost1,
 * exthost2 in the server's logs), naming its pid and role at activation; the first says "leader",
 * the second "client" and, after the close, "Coordinator role: leader"; the first one's process is
 * gone; the mirror saw a second request for the archive (the new leader's) and nothing more.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT, type FixtureWorld } from '../fixture-world';
import type { VsCodeServer } from '../vscode-server';
import { withWorkbenchSession } from '../workbench-session';
import type { Deadline } from './deadline';
import { DownloadAudit, type Archive } from './download-audit';
import { logLines, quartermasterLogs, whenLogLine } from './extension-host-logs';
import { Workbench } from './workbench';

const MANIFEST = '[tools]\nnode = "22"\n';
/** The first transfer crawls (the leader's tab closes during it); the one after the takeover does not. */
const FIRST_TRANSFER_BYTES_PER_SECOND = 16 * 1024;
const SLOW_NODE = { payloadBytes: 2 * 1024 * 1024, bytesPerSecond: 600 * 1024 };
const TAKEOVER_LIMIT_MS = 1000;

export interface TwoWindowsOptions {
  deadline: Deadline;
  results: string;
  userSettings: Record<string, unknown>;
  lap: (what: string) => void;
}

export async function twoWindowsTakeOver(options: TwoWindowsOptions): Promise<void> {
  const { deadline, results, lap } = options;
  deadline.step('5. two windows, one cache: a fresh world');
  let audit: DownloadAudit | undefined;
  let second = '';
  await withWorkbenchSession(
    {
      prepare: async (world) => {
        audit = await DownloadAudit.prepare(world.mirror, SLOW_NODE);
        for (const archive of audit.candidates('node', '22.12.0')) {
          world.mirror.clearFaults(archive.path);
          world.mirror.fault(archive.path, { kind: 'throttle', bytesPerSecond: FIRST_TRANSFER_BYTES_PER_SECOND, times: 1 });
          world.mirror.fault(archive.path, { kind: 'throttle', bytesPerSecond: SLOW_NODE.bytesPerSecond });
        }
        second = path.join(path.dirname(world.workspace), 'second-window');
        await fs.mkdir(second);
        await fs.writeFile(path.join(world.workspace, 'qm.toml'), MANIFEST);
        await fs.writeFile(path.join(second, 'qm.toml'), MANIFEST);
      },
      // Nothing installs by itself: each window is asked, so each has a job of its own to finish. The
      // driver is on because each tab loads the repository as the development extension (payload).
      server: (world) => ({ env: world.env, disableWorkspaceTrust: true, smokeTestDriver: true, userSettings: { ...options.userSettings, 'quartermaster.autoInstall': 'never' } }),
      onServer: (server) => lap(`two windows: VS Code server on ${server.url}`),
    },
    async ({ world, server, page }) => {
      try {
        await run(options, world, server, page, audit!, second);
      } catch (error) {
        await fs.mkdir(results, { recursive: true });
        for (const [index, open] of page.context().pages().entries()) {
          await open.screenshot({ path: path.join(results, `two-windows-failure-${index + 1}.png`), timeout: 15_000 }).catch(() => undefined);
        }
        console.error(`--- the mirror served\n${audit!.report()}`);
        for (const log of await quartermasterLogs(server.logsDir)) {
          console.error(`--- ${path.relative(server.logsDir, log)}\n${(await fs.readFile(log, 'utf8')).trimEnd().split('\n').slice(-60).join('\n')}`);
        }
        console.error(`--- VS Code server log (last 30 lines)\n${await server.logTail(30)}`);
        throw error;
      }
    },
  );
}

async function run(options: TwoWindowsOptions, world: FixtureWorld, server: VsCodeServer, first: Page, audit: DownloadAudit, second: string): Promise<void> {
  const { deadline, results, lap } = options;
  const url = (folder: string): string => {
    const payload = [['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)]];
    return `${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  };

  deadline.step('5. two windows: open the first (the leader) and the second (its client)');
  const a = await Workbench.open(first, url(world.workspace), deadline, results);
  const [logA] = await quartermasterLogs(server.logsDir);
  assert.ok(logA, 'the first window wrote no Quartermaster log');
  const roleA = await deadline.wait("the first window's role", () => whenLogLine(logA, /coordinator (leader|client|standalone) at .*pid \d+/, deadline.signal));
  assert.match(roleA.text, /coordinator leader at/, `the first window is not the leader: ${roleA.text}`);
  const pidA = Number(/pid (\d+)/.exec(roleA.text)![1]);

  const secondPage = await first.context().newPage();
  const b = await Workbench.open(secondPage, url(second), deadline, results);
  const logB = (await quartermasterLogs(server.logsDir)).find((file) => file !== logA);
  assert.ok(logB, 'the second window wrote no Quartermaster log of its own: it shares the first one\'s extension host');
  const roleB = await deadline.wait("the second window's role", () => whenLogLine(logB, /coordinator (leader|client|standalone) at .*pid \d+/, deadline.signal));
  assert.match(roleB.text, /coordinator client at/, `the second window is not a client: ${roleB.text}`);
  const pidB = Number(/pid (\d+)/.exec(roleB.text)![1]);
  assert.notEqual(pidA, pidB, 'both windows report the same extension host');
  lap(`first window: extension host pid ${pidA}, leader (${path.relative(server.logsDir, logA)}); second: pid ${pidB}, client (${path.relative(server.logsDir, logB)})`);
  for (const workbench of [a, b]) await workbench.waitForStatusBar('node 22.12.0, not installed', /^\$\(warning\) node 22\.12\.0$/);

  deadline.step('5. two windows: both install node 22; one GET');
  await a.runCommand('Quartermaster: Install Everything in the Manifest');
  const archive = await deadline.wait('the GET for node 22.12.0', () => audit.whenRequested('node', '22.12.0', deadline.signal));
  await b.runCommand('Quartermaster: Install Everything in the Manifest');
  // The leader reports the second window's own job: it joined the transfer under way.
  await deadline.wait("the second window's job to join the download", () => whenLogLine(logB, new RegExp(`Job vscode-${pidB}-\\w+ \\[command .*\\]: node 22\\.12\\.0 (waiting|downloading)`), deadline.signal));
  const spinner = /^\$\(sync~spin\) node 22\.12\.0 \d+%$/;
  const [shownA, shownB] = [await a.waitForStatusBar('the download with a percentage', spinner), await b.waitForStatusBar('the download with a percentage', spinner)];
  assert.equal(audit.stats(archive.path).requests, 1, `the mirror: ${JSON.stringify(audit.stats(archive.path))}`);
  assert.equal(audit.stats(archive.path).gets, 1);
  await a.screenshot('05a-two-windows-first-leader.png');
  await b.screenshot('05b-two-windows-second-client.png');
  lap(`both windows show the download (${shownA} | ${shownB}); the mirror saw ${JSON.stringify(audit.stats(archive.path))}`);

  deadline.step("5. two windows: close the leader's window");
  const historyBefore = (await b.statusBarHistory()).length;
  const closedAt = Date.now();
  await first.close({ runBeforeUnload: true });
  const leader = await deadline.wait('the second window to become the leader', () => whenLogLine(logB, /Coordinator role: leader/, deadline.signal));
  const wentAway = (await logLines(logB)).find((line) => line.time >= closedAt - 1000 && /The coordinator went away|electing again/.test(line.text));
  lap(`closed the first window at ${new Date(closedAt).toISOString()}; the second became the leader ${leader.time - closedAt} ms later` + (wentAway ? ` (${leader.time - wentAway.time} ms after it saw the leader go: "${wentAway.text}")` : ''));
  assert.ok(leader.time - closedAt <= TAKEOVER_LIMIT_MS, `the takeover took ${leader.time - closedAt} ms after the close (limit ${TAKEOVER_LIMIT_MS} ms)`);
  await b.screenshot('05c-two-windows-second-took-over.png');

  const final = await b.waitForStatusBar('node 22.12.0 installed', /^\$\(tools\) node 22\.12\.0$/);
  const after = (await b.statusBarHistory()).slice(historyBefore);
  lap(`the second window's status bar after the close: ${after.map((t) => JSON.stringify(t)).join(' -> ')}`);
  for (const text of after) assert.match(text, /^\$\((sync~spin|tools)\) node 22\.12\.0( \d+%)?$/, `the status bar showed ${JSON.stringify(text)} during the takeover`);
  assert.doesNotMatch(await b.accessibilityLabel(), /missing/);
  assert.equal(processAlive(pidA), false, `the first window's extension host (pid ${pidA}) still runs`);
  await assertReceipt(world.home);
  assertServed(audit, archive);
  await b.screenshot('05d-two-windows-done.png');
  lap(`two windows: ${final}; the mirror served:\n${audit.report()}`);
  await showLanguageStatus(b, deadline);
}

/** qm.toml open, and the `{}` language status beside its language mode opened: the versions and the log link. */
async function showLanguageStatus(workbench: Workbench, deadline: Deadline): Promise<void> {
  deadline.step('5. the language status item of qm.toml');
  await workbench.openFile('qm.toml', 'node = "22"');
  const page = workbench.page;
  await deadline.wait('the language status entry in the status bar', () => page.locator('[id="status.languageStatus"]').click({ timeout: deadline.remainingMs() }));
  const hover = page.locator('.workbench-hover, .monaco-hover', { hasText: 'node 22.12.0' }).first();
  await deadline.wait('the language status hover with node 22.12.0', () => hover.waitFor({ timeout: deadline.remainingMs() }));
  const text = (await hover.textContent({ timeout: deadline.remainingMs() })) ?? '';
  assert.match(text, /installed/, text);
  assert.match(text, /Show Log/, text);
  await workbench.screenshot('05e-language-status.png', { keepHover: true });
}

/** One transfer per leader: the first window's, cut by its close, and the second window's, which finished. */
function assertServed(audit: DownloadAudit, archive: Archive): void {
  const stats = audit.stats(archive.path);
  assert.equal(stats.requests, 2, `the archive was requested ${stats.requests} times: ${JSON.stringify(stats)}`);
  assert.equal(stats.fullBodies + (stats.rangeRequests > 0 ? 1 : 0) >= 1, true, JSON.stringify(stats));
  for (const other of audit.candidates('node', '22.12.0').filter((c) => c.path !== archive.path)) {
    assert.equal(audit.stats(other.path).requests, 0, `${other.path} was requested too`);
  }
}

async function assertReceipt(home: string): Promise<void> {
  const dir = path.join(home, 'toolchains', 'node');
  const entry = (await fs.readdir(dir)).find((name) => name.startsWith('22.12.0-'));
  assert.ok(entry, `no node 22.12.0 under ${dir}`);
  await fs.access(path.join(dir, entry, '.qm-receipt.json'));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
