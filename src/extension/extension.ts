import * as vscode from 'vscode';
import type { QuartermasterApi } from './api';
import type * as Main from './main';

/**
 * The entry VS Code loads (out/extension.js): small on purpose, since VS Code parses it and runs
 * activate() on the extension host's one thread, before every other extension activated by the
 * same event. activate() only opens the log and schedules the rest; the extension proper
 * (main.ts, out/extension-main.js: the core, the coordinator, the views, chokidar) is required on
 * the next turn of the event loop, and vscode-languageclient (out/vscode-languageclient.js) when
 * a manifest or version file is first open in an editor. activate() returns a
 * promise of the API, so VS Code holds back commands, views, tasks and other extensions' calls to
 * activate() until the rest has started: a command invoked meanwhile waits for it.
 */
export function activate(context: vscode.ExtensionContext): Promise<QuartermasterApi> {
  const activated = Date.now();
  const channel = vscode.window.createOutputChannel('Quartermaster', { log: true });
  context.subscriptions.push(channel);
  started = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    const loading = Date.now();
    // Bundled, './main' is out/extension-main.js (build.mjs keeps it a run-time require).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after activate() returned
    const main = require('./main') as typeof Main;
    const loaded = Date.now();
    const result = main.start(context, channel);
    channel.info(`Loaded in ${loaded - loading} ms and started in ${Date.now() - loaded} ms, ${Date.now() - activated} ms after activate() began`);
    return result;
  });
  started.catch((error: unknown) => channel.error(`Quartermaster did not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
  channel.info(`Activated in ${Date.now() - activated} ms`);
  return started.then((result) => result.api);
}

let started: Promise<Main.Started> | undefined;

/**
 * Closes the coordinator's socket, the watchers and the language server, which keep an extension
 * host's event loop alive, before it is asked to exit (VS Code awaits this promise; synchronous
 * disposables go through context.subscriptions).
 */
export async function deactivate(): Promise<void> {
  const closing = started;
  started = undefined;
  await closing?.then((result) => result.close(), () => undefined);
}
