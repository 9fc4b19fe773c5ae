/**
 * Debian's chromium driven by playwright-core (which never downloads a browser), with a fresh
 * profile per launch and nothing that phones home.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export interface ChromiumOptions {
  /** Default /usr/bin/chromium, or CHROMIUM from the environment. */
  executablePath?: string;
  /** Default 1280x800. */
  viewport?: { width: number; height: number };
}

export interface ChromiumSession {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(options: ChromiumOptions = {}): Promise<ChromiumSession> {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: options.executablePath ?? process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      viewport: options.viewport ?? { width: 1280, height: 800 },
      args: ARGS,
      // Playwright's own handlers would exit the process on a signal before the caller cleans up.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    await fs.rm(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let closing: Promise<void> | undefined;
  return {
    context,
    page,
    close: () => {
      closing ??= context.close().finally(() => fs.rm(profile, { recursive: true, force: true }));
      return closing;
    },
  };
}
