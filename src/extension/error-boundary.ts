import * as vscode from 'vscode';
import { isQmError } from '../core/errors';
import type { Logger } from '../core/log';

/**
 * The one place a command's failure becomes a message: cancellations are silent, a QmError
 * shows its message with its code, anything else is a bug and says so. Every failure is logged.
 */
export function reportError(logger: Logger, what: string, error: unknown): void {
  if (isQmError(error, 'ECANCELLED') || (error as { name?: string } | undefined)?.name === 'AbortError') {
    logger.info(`${what}: cancelled`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = isQmError(error) ? error.code : (error as { code?: unknown } | undefined)?.code;
  logger.error(`${what} failed${typeof code === 'string' ? ` (${code})` : ''}: ${message}`);
  const shown = typeof code === 'string' && /^E[A-Z]+$/.test(code) ? `${what}: ${message} (${code})` : `${what} failed unexpectedly: ${message}`;
  void vscode.window.showErrorMessage(shown, 'Show Log').then((choice) => {
    if (choice) void vscode.commands.executeCommand('quartermaster.showLog');
  });
}

/** Registers a command whose failures go through `reportError`. */
export function registerCommand(id: string, what: string, logger: Logger, run: (...args: unknown[]) => Promise<unknown>): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await run(...args);
    } catch (error) {
      reportError(logger, what, error);
      return undefined;
    }
  });
}
