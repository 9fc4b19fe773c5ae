/**
 * The VS Code web workbench as a person uses it: the command palette, quick picks, the status
 * bar, an integrated terminal, notification toasts and the Notification Center, screenshots. Selectors are the
 * workbench's own classes, ids and ARIA attributes (read from page.content() of VS Code 1.139).
 * Every wait takes what is left of the run's Deadline and says what it waits for.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Deadline } from './deadline';
import { installStatusBarProbe, STATUS_ITEM_DOM_ID, statusBarHistory, statusBarText, untilStatusBar } from './status-bar-probe';

const QUICK_INPUT = '.quick-input-widget';
const NOTIFICATION_CENTER = '.notifications-center';
const TOAST = '.notifications-toasts .notification-toast-container';

export class Workbench {
  readonly page: Page;
  readonly #deadline: Deadline;
  readonly #screenshots: string;

  private constructor(page: Page, deadline: Deadline, screenshots: string) {
    this.page = page;
    this.#deadline = deadline;
    this.#screenshots = screenshots;
  }

  /** Opens `url` and waits for the workbench and for our status bar item (the extension is active). */
  static async open(page: Page, url: string, deadline: Deadline, screenshots: string): Promise<Workbench> {
    const workbench = new Workbench(page, deadline, screenshots);
    await installStatusBarProbe(page);
    await deadline.wait('the workbench page to load', () => page.goto(url));
    await deadline.wait('the workbench to render', () => page.locator('.monaco-workbench').waitFor(workbench.#timeout()));
    await deadline.wait('the Quartermaster status bar item', () => workbench.statusBarItem().waitFor(workbench.#timeout()));
    return workbench;
  }

  // --- command palette and quick picks

  /** F1, the command's title, then a click on exactly that entry. */
  async runCommand(title: string): Promise<void> {
    await this.#deadline.wait(`the command palette to offer "${title}"`, async () => {
      await this.page.keyboard.press('F1');
      const input = this.page.locator(`${QUICK_INPUT} input.input`);
      await input.waitFor(this.#timeout());
      await input.fill(`>${title}`);
      await this.quickItem(title).click(this.#timeout());
    });
  }

  /** The quick pick row whose label is exactly `label`. */
  quickItem(label: string): Locator {
    return this.page
      .locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`)
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) })
      .first();
  }

  /** Waits for the quick pick titled `title` (e.g. "Install Toolchain (2/2)") to list `label`. */
  async waitForQuickItem(title: string, label: string): Promise<Locator> {
    const item = this.quickItem(label);
    await this.#deadline.wait(`the quick pick "${title}" to list "${label}"`, async () => {
      await this.page.locator(`${QUICK_INPUT} .quick-input-title`, { hasText: exactly(title) }).waitFor(this.#timeout());
      await item.waitFor(this.#timeout());
    });
    return item;
  }

  /** The marks right of a label, e.g. "LTS Iron · installed". */
  async quickItemDescription(label: string): Promise<string> {
    return normalize(await this.quickItem(label).locator('.label-description').textContent(this.#timeout()));
  }

  /** Accepts `label` in the quick pick titled `title` with a click. */
  async pickQuickItem(title: string, label: string): Promise<void> {
    const item = await this.waitForQuickItem(title, label);
    await this.#deadline.wait(`a click on "${label}"`, () => item.click(this.#timeout()));
  }

  // --- status bar

  statusBarItem(): Locator {
    return this.page.locator(`.statusbar-item[id="${STATUS_ITEM_DOM_ID}"]`);
  }

  /** e.g. `$(tools) node 22.12.0  go 1.23.4`, as the extension set it. */
  async statusBarText(): Promise<string> {
    return (await statusBarText(this.page)) ?? '(not shown)';
  }

  /** Every distinct text the item has shown, oldest first. */
  statusBarHistory(): Promise<string[]> {
    return statusBarHistory(this.page);
  }

  async waitForStatusBar(what: string, pattern: RegExp): Promise<string> {
    return this.#deadline.wait(`the status bar to show ${what} (${pattern})`, () => untilStatusBar(this.page, pattern));
  }

  async accessibilityLabel(): Promise<string> {
    return (await this.statusBarItem().getAttribute('aria-label', this.#timeout())) ?? '';
  }

  /** Hovers the item and waits for its tooltip (the per-tool lines), which `text` must be in. */
  async hoverStatusBarItem(text: string): Promise<void> {
    await this.#deadline.wait(`the status bar tooltip with "${text}"`, async () => {
      await this.statusBarItem().hover(this.#timeout());
      await this.page.locator('.workbench-hover, .monaco-hover', { hasText: text }).first().waitFor(this.#timeout());
    });
  }

  async clickStatusBarItem(): Promise<void> {
    await this.#deadline.wait('a click on the status bar item', () => this.statusBarItem().locator('.statusbar-item-label').click(this.#timeout()));
  }

  // --- terminal

  /** "Terminal: Create New Terminal", then waits for its shell's first prompt (marked by shell integration). */
  async openTerminal(): Promise<void> {
    const before = await this.page.locator('.terminal-wrapper').count();
    await this.runCommand('Terminal: Create New Terminal');
    await this.#deadline.wait("the new terminal's first prompt", async () => {
      await this.page.locator('.terminal-wrapper').nth(before).waitFor(this.#timeout());
      await this.#activeTerminal().locator('.terminal-command-decoration').first().waitFor(this.#timeout());
    });
  }

  /** Types `line` into the active terminal (as one input event, as a paste would) and presses Enter. */
  async runInTerminal(line: string): Promise<void> {
    await this.#deadline.wait('the terminal to take input', async () => {
      await this.#activeTerminal().locator('.xterm-screen').click(this.#timeout());
      await this.page.keyboard.insertText(line);
      await this.page.keyboard.press('Enter');
    });
  }

  #activeTerminal(): Locator {
    return this.page.locator('.terminal-wrapper.active');
  }

  // --- editors

  /** Quick Open (Ctrl+P) on a workspace file; resolves once its editor shows `text`. */
  async openFile(name: string, text: string): Promise<void> {
    await this.#deadline.wait(`Quick Open to offer ${name}`, async () => {
      await this.page.keyboard.press('Control+P');
      const input = this.page.locator(`${QUICK_INPUT} input.input`);
      await input.waitFor(this.#timeout());
      await input.fill(name);
      await this.quickItem(name).click(this.#timeout());
    });
    await this.#deadline.wait(`the editor of ${name} to show "${text}"`, () =>
      this.page.locator('.editor-instance .monaco-editor .view-lines', { hasText: text }).first().waitFor(this.#timeout()),
    );
  }

  // --- notifications: toasts, bottom right, as a user sees them; the bell's Notification Center keeps them all

  /** The toast whose message contains `text`. */
  toast(text: string): Locator {
    return this.page.locator(TOAST).filter({ has: this.page.locator('.notification-list-item-message', { hasText: text }) }).first();
  }

  /** Waits for a toast whose message contains `text` to show; its whole message. */
  async waitForNotification(text: string): Promise<string> {
    const toast = this.toast(text);
    await this.#deadline.wait(`the notification toast "${text}"`, () => toast.waitFor({ state: 'visible', ...this.#timeout() }));
    return normalize(await toast.locator('.notification-list-item-message').textContent(this.#timeout()));
  }

  /** Waits until no toast contains `text` (a finished progress lingers a moment). */
  async waitForNotificationGone(text: string): Promise<void> {
    await this.#deadline.wait(`the notification toast "${text}" to go away`, () => this.toast(text).waitFor({ state: 'hidden', ...this.#timeout() }));
  }

  /** Closes every toast with its own ×, as a user would (they stay in the Notification Center). */
  async hideNotifications(): Promise<void> {
    const toasts = this.page.locator(TOAST);
    await this.#deadline.wait('the toasts to close', async () => {
      while ((await toasts.count()) > 0) {
        const toast = toasts.first();
        await toast.hover(this.#timeout());
        await toast.locator('.action-label.codicon-notifications-clear').click(this.#timeout());
        await toast.waitFor({ state: 'detached', ...this.#timeout() });
      }
    });
  }

  /** The messages in the Notification Center, newest first (opens it from the palette; the bell's hover would stay in screenshots). */
  async readNotifications(): Promise<string[]> {
    const center = this.page.locator(`${NOTIFICATION_CENTER}.visible`);
    if ((await center.count()) === 0) {
      await this.runCommand('Notifications: Show Notifications');
      await this.#deadline.wait('the Notification Center to open', () => center.waitFor(this.#timeout()));
    }
    const messages = await this.page.locator(`${NOTIFICATION_CENTER} .notification-list-item-message`).allTextContents();
    return messages.map(normalize);
  }

  // --- evidence

  /** Takes the page as it is; `keepHover` leaves the mouse where it is, else it moves to the empty side bar so no stray hover shows. */
  async screenshot(name: string, options: { keepHover?: boolean } = {}): Promise<string> {
    const file = path.join(this.#screenshots, name);
    await fs.mkdir(this.#screenshots, { recursive: true });
    if (options.keepHover !== true) await this.page.mouse.move(180, 500);
    await this.#deadline.wait(`the screenshot ${name}`, () => this.page.screenshot({ path: file, ...this.#timeout() }));
    return file;
  }

  #timeout(): { timeout: number } {
    return { timeout: this.#deadline.remainingMs() };
  }
}

function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

/** The workbench pads with non-breaking spaces and line breaks. */
function normalize(text: string | null): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}
