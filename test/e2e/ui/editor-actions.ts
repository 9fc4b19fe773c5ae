/**
 * UI steps for what a person does beside installing: the version picker's order (stable first,
 * prereleases apart and never active), the quick fixes for a spec that matches nothing, and the
 * Toolchains view's context menu. Each takes a screenshot and checks what it shows.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Deadline } from './deadline';
import type { Workbench } from './workbench';

/** Install Toolchain… → go: the active row is a stable release; the release candidate sits under "prereleases". */
export async function versionPickerOrder(workbench: Workbench, deadline: Deadline): Promise<void> {
  const { page } = workbench;
  const timeout = (): { timeout: number } => ({ timeout: deadline.remainingMs() });
  await workbench.runCommand('Quartermaster: Install Toolchain…');
  await workbench.pickQuickItem('Install Toolchain (1/2)', 'go');
  await workbench.waitForQuickItem('Install Toolchain (2/2)', '1.23.4');
  const active = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused .label-name');
  await deadline.wait('an active row in the version picker', () => active.first().waitFor(timeout()));
  const activeLabel = (await active.first().textContent(timeout()))?.trim() ?? '';
  assert.equal(activeLabel, '1.23.4', 'the newest stable release is active, not the release candidate');
  assert.match(await workbench.quickItemDescription('1.23.4'), /latest/);
  // The prerelease is further down: type to bring it into view with its heading and mark.
  await page.locator('.quick-input-widget input.input').fill('rc');
  const candidate = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'rc' }).first();
  await deadline.wait('the release candidate in the picker', () => candidate.waitFor(timeout()));
  assert.match(await candidate.textContent(timeout()) ?? '', /prerelease/);
  await page.locator('.quick-input-widget input.input').fill('');
  await deadline.wait('the stable release active again', () => workbench.waitForQuickItem('Install Toolchain (2/2)', '1.23.4'));
  await workbench.screenshot('05-version-picker-stable-first.png');
  await page.keyboard.press('Escape');
}

/**
 * qm.toml asks for node 20.99.0, which does not exist: Ctrl+. on it offers the newest 20.x, the
 * latest LTS and the latest; Enter applies the first.
 */
export async function nearestSpecQuickFixes(workbench: Workbench, deadline: Deadline, workspace: string): Promise<void> {
  const { page } = workbench;
  const timeout = (): { timeout: number } => ({ timeout: deadline.remainingMs() });
  const manifest = path.join(workspace, 'qm.toml');
  const text = await fs.readFile(manifest, 'utf8');
  await fs.writeFile(manifest, text.replace(/^node = ".*"$/m, 'node = "20.99.0"'));
  await workbench.openFile('qm.toml', 'node = "20.99.0"');
  const squiggle = page.locator('.editor-instance .monaco-editor .squiggly-error').first();
  await deadline.wait('the "no matching release" squiggle', () => squiggle.waitFor(timeout()));
  await page.locator('.editor-instance .view-lines span', { hasText: '20.99.0' }).last().click(timeout());
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget');
  const fix = menu.locator('.monaco-list-row', { hasText: 'Change node to "20.18.1"' });
  await deadline.wait('the quick fixes for node 20.99.0', () => fix.first().waitFor(timeout()));
  const rows = (await menu.locator('.monaco-list-row').allTextContents()).map((row) => row.replace(/\s+/g, ' ').trim());
  assert.ok(rows.some((row) => /Change node to "lts" \(22\.12\.0\): the latest LTS release/.test(row)), rows.join('\n'));
  assert.ok(rows.some((row) => /Change node to "latest" \(23\.\d+\.\d+\): the latest release/.test(row)), rows.join('\n'));
  await workbench.screenshot('06-quick-fixes-nearest-spec.png', { keepHover: true });
  await fix.first().click(timeout());
  await deadline.wait('the fix applied in the editor', () =>
    page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'node = "20.18.1"' }).first().waitFor(timeout()),
  );
  await deadline.wait('the squiggle gone', () => squiggle.waitFor({ state: 'detached', ...timeout() }));
}

/** The Toolchains view: a right click on an installed toolchain lists what can be done with it. */
export async function toolchainContextMenu(workbench: Workbench, deadline: Deadline, label: string): Promise<void> {
  const { page } = workbench;
  const timeout = (): { timeout: number } => ({ timeout: deadline.remainingMs() });
  await page.locator('.activitybar .action-item a[aria-label^="Toolchains"], .activitybar .action-item[aria-label^="Toolchains"]').first().click(timeout());
  const row = page.locator('.pane-body .monaco-list-row', { hasText: label }).first();
  await deadline.wait(`"${label}" in the Toolchains view`, () => row.waitFor(timeout()));
  await row.click({ button: 'right', ...timeout() });
  const menu = page.locator('.monaco-menu .actions-container');
  await deadline.wait('the context menu', () => menu.locator('.action-label', { hasText: 'Open Terminal Here' }).first().waitFor(timeout()));
  const entries = (await menu.locator('.action-label').allTextContents()).map((entry) => entry.trim()).filter(Boolean);
  for (const entry of ['Use in qm.toml', 'Copy Path', 'Reveal Folder', 'Open Terminal Here', 'Uninstall…']) assert.ok(entries.includes(entry), `"${entry}" in ${JSON.stringify(entries)}`);
  await workbench.screenshot('07-toolchain-context-menu.png', { keepHover: true });
  await menu.locator('.action-label', { hasText: 'Open Terminal Here' }).first().click(timeout());
  await deadline.wait(`a terminal named "${label}"`, () => page.locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: label }).first().waitFor(timeout()));
  await workbench.screenshot('07b-terminal-here.png');
}
