/**
 * The extension host's console (Mocha's reporter) reaches the harness through the page console:
 * when the workbench runs extension tests it hands every extension host console call to its log
 * service, which prints `console.log('%c INFO', 'color: #33f', format, ...args)` — the same shape
 * as the workbench's own log lines, so those are told apart by content (WORKBENCH_CHATTER).
 * Chromium's own messages (failed resource loads, sandbox warnings) carry no such prefix.
 */
import * as util from 'node:util';
import type { ConsoleMessage, Page } from 'playwright-core';

export interface ConsoleForwarder {
  /** Resolves once every message seen so far has been written. */
  flush(): Promise<void>;
}

export interface ConsoleForwarderOptions {
  /** Also write the workbench's chatter and Chromium's own messages. */
  verbose?: boolean;
}

/** The workbench's start-up log lines and offline failures that say nothing about the tests. */
const WORKBENCH_CHATTER = [
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket/,
  /^\[reconnection-grace-time\]/,
  /^\[AgentHost:/,
  /^\[AccountPolicyGate\]/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^Error: Timed out waiting for authentication provider/, // the built-in GitHub auth, offline
  /^Creation of workbench contribution '[^']*' took \d+ms/, // a busy machine
  /ENOTFOUND open-vsx\.org/, // the gallery, unreachable offline
];

const LEVEL_PREFIX = /^%c\s*(TRACE|DEBUG|INFO|WARN|ERR)$/;

export function forwardExtensionHostConsole(
  page: Page,
  write: (line: string) => void,
  options: ConsoleForwarderOptions = {},
): ConsoleForwarder {
  // Arguments are read asynchronously; a chain keeps the lines in the order they were logged.
  let chain = Promise.resolve();
  page.on('console', (message: ConsoleMessage) => {
    chain = chain.then(async () => {
      const line = await render(message, options.verbose === true);
      if (line !== undefined) write(line);
    });
  });
  return { flush: () => chain };
}

async function render(message: ConsoleMessage, verbose: boolean): Promise<string | undefined> {
  const args: unknown[] = await Promise.all(
    message.args().map((handle): Promise<unknown> => handle.jsonValue().catch(() => message.text())),
  );
  const level = typeof args[0] === 'string' ? LEVEL_PREFIX.exec(args[0]) : null;
  if (level === null) return verbose ? `[browser ${message.type()}] ${message.text()}` : undefined;
  // Drop '%c LEVEL' and its 'color: ...' style; the rest is what the extension host logged.
  const line = util.format(...args.slice(2));
  if (!verbose && WORKBENCH_CHATTER.some((pattern) => pattern.test(line))) return undefined;
  return level[1] === 'INFO' ? line : `[${level[1]}] ${line}`;
}
