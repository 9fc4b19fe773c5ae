/**
 * How the web workbench reports the end of extension tests: with --enable-smoke-test-driver and a
 * `payload` naming extensionTestsPath, it calls window.codeAutomationExit(code, logs) once the
 * suite's run() settles (0 resolved, 1 rejected), with the contents of its log files.
 */
import type { Page } from 'playwright-core';

export interface AutomationLog {
  /** e.g. 'exthost1/remoteexthost.log' */
  relativePath: string;
  contents: string;
}

export type CodeAutomationExit = (code: number, logs?: readonly AutomationLog[]) => void;

declare global {
  /** The page's window; the harness defines this function with page.exposeFunction. */
  interface Window {
    codeAutomationExit: CodeAutomationExit;
  }
}

export interface AutomationExitReport {
  code: number;
  logs: readonly AutomationLog[];
}

/**
 * Defines window.codeAutomationExit in `page` (call it before navigating); `exited` resolves when
 * the workbench calls it. (An object, not a bare promise: an async function would flatten it.)
 */
export async function exposeAutomationExit(page: Page): Promise<{ exited: Promise<AutomationExitReport> }> {
  let report: (value: AutomationExitReport) => void = () => undefined;
  const exited = new Promise<AutomationExitReport>((resolve) => (report = resolve));
  const codeAutomationExit: Window['codeAutomationExit'] = (code, logs) => report({ code, logs: logs ?? [] });
  await page.exposeFunction('codeAutomationExit', codeAutomationExit);
  return { exited };
}
