/**
 * The integration tests' view of the extension: its API (what activate returns) and a way to
 * wait for a state to be reached, driven by the API's change event rather than by sleeping.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../src/extension/api';

export const EXTENSION_ID = 'quartermaster.quartermaster';

export async function quartermasterApi(): Promise<QuartermasterApi> {
  const extension = vscode.extensions.getExtension<QuartermasterApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  return extension.activate();
}

/** Resolves when `check` holds, re-checked on every change the extension reports; fails after `timeoutMs` saying what it last saw. */
export async function until<T>(api: QuartermasterApi, what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const first = check();
  if (first) return first;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      listener.dispose();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; status bar: ${JSON.stringify(api.statusBar())}`));
    }, timeoutMs);
    const listener = api.onDidChange(() => {
      const value = check();
      if (!value) return;
      clearTimeout(timer);
      listener.dispose();
      resolve(value);
    });
  });
}

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder');
  return folder.uri.fsPath;
}

/** Runs `script` in /bin/sh as an integrated terminal (with the extension's environment) and returns what it wrote to $OUT. */
export async function inTerminal(script: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-terminal-'));
  const out = path.join(dir, 'out');
  try {
    const terminal = vscode.window.createTerminal({ name: 'Quartermaster test', shellPath: '/bin/sh', shellArgs: ['-c', script], env: { OUT: out } });
    // Registered in the same tick as the terminal is created: its close cannot be missed.
    const closed = new Promise<vscode.Terminal>((resolve) => {
      const listener = vscode.window.onDidCloseTerminal((t) => {
        if (t !== terminal) return;
        listener.dispose();
        resolve(t);
      });
    });
    const { exitStatus } = await closed;
    const written = await fs.readFile(out, 'utf8').catch(() => '');
    assert.equal(exitStatus?.code, 0, `the terminal exited with ${exitStatus?.code}; it wrote: ${written}`);
    return written;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
