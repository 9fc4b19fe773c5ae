/**
 * 5. The UI tells the truth (issue 11), after the main scenario: qm.toml declares node 20.18.1
 * and go 1.23, both installed, node 22.12.0 is installed and unused, and qm.toml is open.
 *
 *   a. A half-typed `python =`: the status bar turns to its error look naming qm.toml:4:8, the
 *      versions in force stay; a click puts the cursor there.
 *   b. Clean Up Unused: the modal preview says what goes and what stays and why (node 22.12.0's
 *      archive is under an hour old), Remove, and the result says the same.
 *   c. A prompt that no longer applies goes away: with autoInstall "prompt", qm.toml asks for
 *      node 22 again; a `qm install` outside VS Code brings it, and the prompt leaves by itself.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Deadline } from './deadline';
import { runOutsideCli } from './outside-cli';
import type { Workbench } from './workbench';

export interface HonestUiRun {
  workbench: Workbench;
  deadline: Deadline;
  workspace: string;
  repoRoot: string;
  /** The variables any `qm` on this machine would have. */
  env: Record<string, string>;
  lap: (what: string) => void;
}

export async function honestUi(run: HonestUiRun): Promise<void> {
  // For 5c, written first: VS Code takes a moment to read a new .vscode/settings.json.
  await fs.mkdir(path.join(run.workspace, '.vscode'), { recursive: true });
  await fs.writeFile(path.join(run.workspace, '.vscode', 'settings.json'), '{ "quartermaster.autoInstall": "prompt" }\n');
  await brokenManifest(run);
  await cleanUpReport(run);
  await stalePromptGoes(run);
}

function wait(run: HonestUiRun, what: string, check: (timeout: { timeout: number }) => Promise<unknown>): Promise<unknown> {
  return run.deadline.wait(what, () => check({ timeout: Math.max(1, run.deadline.remainingMs()) }));
}

async function brokenManifest(run: HonestUiRun): Promise<void> {
  const { workbench, deadline } = run;
  deadline.step('5a. a half-typed line in qm.toml');
  const manifest = path.join(run.workspace, 'qm.toml');
  const good = await fs.readFile(manifest, 'utf8');
  const broken = `${good.trimEnd()}\npython =\n`;
  const line = broken.split('\n').indexOf('python =') + 1;
  await fs.writeFile(manifest, broken);
  const text = await workbench.waitForStatusBar('the error look', new RegExp(`^\\$\\(error\\) node 20\\.18\\.1 {2}go 1\\.23\\.\\d+ · qm\\.toml:${line}:8$`));
  await workbench.hoverStatusBarItem('stays in force');
  await workbench.screenshot('05-broken-manifest-status-bar.png', { keepHover: true });
  await workbench.clickStatusBarItem();
  const selection = workbench.page.locator('[id="status.editor.selection"]', { hasText: `Ln ${line}, Col 8` });
  await wait(run, `the cursor at line ${line}, column 8`, (timeout) => selection.waitFor(timeout));
  await workbench.screenshot('05b-broken-manifest-click.png');
  run.lap(`broken qm.toml: "${text}"; the click went to line ${line}, column 8`);
  await fs.writeFile(manifest, good);
  await workbench.waitForStatusBar('qm.toml in force again', /^\$\(tools\) node 20\.18\.1 {2}go 1\.23\.\d+$/);
}

async function cleanUpReport(run: HonestUiRun): Promise<void> {
  const { workbench, deadline } = run;
  deadline.step('5b. Clean Up Unused: the preview and the result');
  // The terminals opened earlier hold leases on what they run (node 22.12.0 from before the
  // switch): Clean Up would rightly keep it as busy. This step is about an unused toolchain.
  await workbench.runCommand('Terminal: Kill All Terminals');
  await deadline.wait('the terminals\' shells to exit', () => shellsGone(run.env.QM_HOME!));
  await workbench.runCommand('Quartermaster: Clean Up Unused');
  const dialog = workbench.page.locator('.monaco-dialog-box');
  await wait(run, 'the Clean Up preview', (timeout) => dialog.waitFor(timeout));
  const preview = (await dialog.innerText()).replace(/\s+\n/g, '\n');
  assert.match(preview, /Frees [\d.]+ [KM]iB of the [\d.]+ [KM]iB cache \([\d.]+ [KM]iB left\)\?/, preview);
  assert.match(preview, /node 22\.12\.0 \(linux-x64\)/, preview);
  assert.match(preview, /fetched under an hour ago: an install may be about to unpack it/, preview);
  assert.match(preview, /indexes, state and partial downloads/, preview);
  await workbench.screenshot('06-clean-up-preview.png');
  await dialog.locator('.monaco-button', { hasText: 'Remove' }).first().click({ timeout: Math.max(1, deadline.remainingMs()) });
  const result = await workbench.waitForNotification('Freed ');
  assert.match(result, /^Freed [\d.]+ (?:B|[KM]iB) of the [\d.]+ [KM]iB cache \([\d.]+ [KM]iB left\)\. Kept [\d.]+ [KM]iB in use, [\d.]+ [KM]iB in \d+ downloads? under an hour old, [\d.]+ [KM]iB of indexes and state\./, result);
  await workbench.screenshot('06b-clean-up-result.png');
  await workbench.hideNotifications();
  run.lap(`Clean Up: "${preview.split('\n')[0]}" then "${result}"`);
}

/** Resolves once no shell of this world's workbench runs: no bash or sh with its QM_HOME. Polled: /proc has no event. */
async function shellsGone(home: string): Promise<void> {
  const shells = async (): Promise<number> => {
    let count = 0;
    for (const pid of (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
      const comm = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
      if (comm !== 'bash' && comm !== 'sh') continue;
      const environ = await fs.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (environ.split('\0').includes(`QM_HOME=${home}`)) count++;
    }
    return count;
  };
  while ((await shells()) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function stalePromptGoes(run: HonestUiRun): Promise<void> {
  const { workbench, deadline } = run;
  deadline.step('5c. a prompt that no longer applies goes away');
  const manifest = path.join(run.workspace, 'qm.toml');
  await fs.writeFile(manifest, (await fs.readFile(manifest, 'utf8')).replace(/^node = .*$/m, 'node = "22"'));
  const prompt = await workbench.waitForNotification('declares node 22.12.0, which is not installed');
  await workbench.screenshot('07-install-prompt.png');
  const outside = runOutsideCli({ repoRoot: run.repoRoot, args: ['install', 'node@22.12.0', '--json'], env: run.env, signal: deadline.signal });
  const exited = await deadline.wait('the outside qm install to exit', () => outside.exited);
  assert.equal(exited.code, 0, exited.stderr);
  await workbench.waitForNotificationGone('declares node 22.12.0');
  await workbench.screenshot('07b-install-prompt-gone.png');
  await workbench.hideNotifications();
  run.lap(`the prompt "${prompt}" went away once qm outside VS Code installed node 22.12.0`);
}
