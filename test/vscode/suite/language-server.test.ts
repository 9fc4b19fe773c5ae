import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuartermasterApi } from '../../../src/extension/api';
import type { DownloadRow } from '../../../src/extension/jobs';
import type { InstallResult } from '../../../src/shared/protocol';
import { mirrorStats } from '../mirror-stats';
import { quartermasterApi, until, workspaceRoot } from '../quartermaster';

// The qm.toml language server as VS Code runs it, then the $qm problem matcher. The language
// server suite edits only the open document with WorkspaceEdits, never saved (the server reads
// the editor's text), and reverts it at the end; the problem matcher suite restores the file it
// breaks. toolchains.test.ts, which runs later, still finds node 22 declared and missing: the
// install here is go 1.23.4, which no other suite of this session installs.

const GO_ARCHIVE = '/dl/go1.23.4.linux-amd64.tar.gz';

type Check<T> = (value: T) => boolean;

function codeOf(diagnostic: vscode.Diagnostic): string | number | undefined {
  return typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code;
}

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'quartermaster');
}

function summarize(diagnostics: readonly vscode.Diagnostic[]): string {
  return JSON.stringify(diagnostics.map((d) => ({ code: codeOf(d), message: d.message, range: [d.range.start, d.range.end] })));
}

/** Resolves with the document's diagnostics once `check` holds, re-checked on each onDidChangeDiagnostics for it. */
function diagnosticsUntil(uri: vscode.Uri, what: string, check: Check<vscode.Diagnostic[]>, timeoutMs = 30_000): Promise<vscode.Diagnostic[]> {
  const now = vscode.languages.getDiagnostics(uri);
  if (check(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listener.dispose();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; diagnostics: ${summarize(vscode.languages.getDiagnostics(uri))}`));
    }, timeoutMs);
    const listener = vscode.languages.onDidChangeDiagnostics((event) => {
      if (!event.uris.some((u) => u.toString() === uri.toString())) return;
      const diagnostics = vscode.languages.getDiagnostics(uri);
      if (!check(diagnostics)) return;
      clearTimeout(timer);
      listener.dispose();
      resolve(diagnostics);
    });
  });
}

/** Resolves at the next diagnostics change for `uri`, or after `timeoutMs`. */
function nextDiagnosticsChange(uri: vscode.Uri, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      listener.dispose();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    const listener = vscode.languages.onDidChangeDiagnostics((event) => {
      if (event.uris.some((u) => u.toString() === uri.toString())) done();
    });
  });
}

/**
 * Asks the server (hover, completion) until `check` holds. The server answers from what it holds
 * now and republishes diagnostics whenever fresher answers arrive, so each diagnostics change for
 * the document is the cue to ask again.
 */
async function askUntil<T>(uri: vscode.Uri, what: string, ask: () => Thenable<T>, check: Check<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Listening before asking: an answer arriving while the request is under way is not missed.
    const changed = nextDiagnosticsChange(uri, deadline - Date.now());
    const answer = await ask();
    if (check(answer)) return answer;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last answer: ${JSON.stringify(answer)}`);
    await changed;
  }
}

function hoverText(hovers: readonly vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
}

/** Runs a code action's command as the editor does when it is chosen. */
function runCommand<T>(command: vscode.Command): Thenable<T> {
  const args: unknown[] = command.arguments ?? [];
  return vscode.commands.executeCommand<T>(command.command, ...args);
}

function labelOf(item: vscode.CompletionItem): string {
  return typeof item.label === 'string' ? item.label : item.label.label;
}

suite('Language server in VS Code', () => {
  let api: QuartermasterApi;
  let document: vscode.TextDocument;
  let original: string;

  /** Replaces the open document's whole text (unsaved), as typing would. */
  async function setText(text: string): Promise<void> {
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), text);
    assert.equal(await vscode.workspace.applyEdit(edit), true, 'the edit was not applied');
  }

  /** Where `needle` starts in the document, as a position; `at` characters into it. */
  function positionOf(needle: string, at = 0): vscode.Position {
    const offset = document.getText().indexOf(needle);
    assert.ok(offset >= 0, `"${needle}" is not in qm.toml:\n${document.getText()}`);
    return document.positionAt(offset + at);
  }

  function rangeOf(needle: string): vscode.Range {
    return new vscode.Range(positionOf(needle), positionOf(needle, needle.length));
  }

  suiteSetup(async () => {
    api = await quartermasterApi();
    await api.whenIdle();
    const uri = vscode.Uri.file(path.join(workspaceRoot(), 'qm.toml'));
    document = (await vscode.window.showTextDocument(uri)).document;
    original = document.getText();
  });

  teardown(async () => {
    if (document.getText() !== original) await setText(original);
  });

  /** The edits stay in the editor: the file on disk is what the suite found (files.autoSave is off). */
  async function assertDiskUnchanged(): Promise<void> {
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(document.uri)), original, 'an edit reached the disk');
  }

  suiteTeardown(async () => {
    // Back to the file on disk (never saved), and the editor closed.
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('qm.toml opens as the contributed language qm-toml, with no TOML extension installed', () => {
    assert.equal(document.languageId, 'qm-toml');
    assert.equal(vscode.workspace.getConfiguration('files').get('autoSave'), 'off', 'the harness turns the web default (afterDelay) off');
    const tomlExtensions = vscode.extensions.all.filter((e) => {
      const languages = (e.packageJSON as { contributes?: { languages?: { id?: string }[] } }).contributes?.languages ?? [];
      return languages.some((language) => language.id === 'toml');
    });
    assert.deepEqual(tomlExtensions.map((e) => e.id), []);
  });

  test('an unknown key and a bad spec typed into the editor get diagnostics at their ranges', async () => {
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(0, 0), 'colour = "blue"\n');
    edit.insert(document.uri, positionOf('[tools]', '[tools]\n'.length), 'go = "lts"\n');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    assert.equal(document.isDirty, true);

    const unknownKey = rangeOf('colour');
    const badSpec = rangeOf('"lts"');
    const diagnostics = await diagnosticsUntil(document.uri, 'unknown-key and bad-spec', (all) =>
      all.some((d) => codeOf(d) === 'unknown-key' && d.range.isEqual(unknownKey)) && all.some((d) => codeOf(d) === 'bad-spec' && d.range.isEqual(badSpec)),
    );
    const key = diagnostics.find((d) => codeOf(d) === 'unknown-key')!;
    assert.equal(key.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(key.source, 'quartermaster');
    const spec = diagnostics.find((d) => codeOf(d) === 'bad-spec')!;
    assert.equal(spec.severity, vscode.DiagnosticSeverity.Error);
    assert.match(spec.message, /only Node\.js and Java have LTS releases/);
    await assertDiskUnchanged();
  });

  test("hover over node's version says what it resolves to", async () => {
    const node = await until(api, 'node resolved', () => api.manifests().flatMap((m) => m.tools).find((t) => t.name === 'node' && t.version));
    const line = document.lineAt(positionOf('node = ').line).text;
    const onVersion = positionOf('node = ', line.indexOf('"') + 1);
    const text = await askUntil(
      document.uri,
      `a hover saying node resolves to ${node.version}`,
      async () => hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, onVersion)),
      (hover) => hover.includes('Resolves to'),
    );
    assert.ok(text.includes(`Resolves to **${node.version}**`), text);
  });

  test('the node line has a code lens saying what it resolves to (the language client started as qm.toml opened)', async () => {
    const node = await until(api, 'node resolved', () => api.manifests().flatMap((m) => m.tools).find((t) => t.name === 'node' && t.version));
    const line = positionOf('node = ').line;
    const lenses = await askUntil(
      document.uri,
      `a code lens "node ${node.version}: …" on line ${line + 1}`,
      async () => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)) ?? [],
      (found) => found.some((lens) => lens.range.start.line === line && (lens.command?.title ?? '').startsWith(`node ${node.version}: `)),
    );
    assert.equal(lenses.length, 1, lenses.map((lens) => lens.command?.title).join(', '));
  });

  test('completion inside node = "" lists the fixture versions, newest first', async () => {
    const line = positionOf('node = ').line;
    const value = document.lineAt(line).text.slice('node = '.length);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(line, 'node = '.length, line, 'node = '.length + value.length), '""');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    const inside = new vscode.Position(line, 'node = "'.length);
    const list = await askUntil(
      document.uri,
      'node versions in the completion list',
      () => vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', document.uri, inside),
      (answer) => answer.items.some((item) => labelOf(item) === '22.12.0'),
    );
    const versions = list.items.map(labelOf).filter((label) => /^\d/.test(label));
    assert.deepEqual(versions, ['23.3.0', '22.12.0', '22.11.0', '20.18.1', '20.18.0', '18.20.4']);
    assert.ok(list.items.some((item) => labelOf(item) === 'lts'), 'the lts keyword is offered too');
  });

  test('a not-installed tool has an Install quick fix that installs through the coordinator once and clears the diagnostic', async () => {
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, positionOf('[tools]', '[tools]\n'.length), 'go = "1.23.4"\n');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    const spec = rangeOf('"1.23.4"');
    const notInstalled = (d: vscode.Diagnostic): boolean => codeOf(d) === 'not-installed' && d.range.isEqual(spec);
    const [diagnostic] = (await diagnosticsUntil(document.uri, 'go 1.23.4 not installed', (all) => all.some(notInstalled))).filter(notInstalled);
    assert.match(diagnostic?.message ?? '', /^go 1\.23\.4 is not installed/);

    const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>('vscode.executeCodeActionProvider', document.uri, spec);
    const install = actions.find((a): a is vscode.CodeAction => 'kind' in a && a.title === 'Install go 1.23.4');
    assert.ok(install?.command, `no "Install go 1.23.4" action; actions: ${actions.map((a) => a.title).join(', ')}`);
    assert.equal(install.kind?.value, vscode.CodeActionKind.QuickFix.value);
    assert.equal(install.isPreferred, true);
    assert.equal((await mirrorStats(GO_ARCHIVE)).gets, 0);

    // The coordinator's progress for the job, as this window's Jobs (status bar, view) see it.
    const jobs: DownloadRow[] = [];
    const watching = api.onDidChange(() => jobs.push(...api.downloads().filter((row) => row.tool === 'go')));
    let result: InstallResult;
    try {
      result = await runCommand<InstallResult>(install.command);
    } finally {
      watching.dispose();
    }
    const requesters = new Set(jobs.map((row) => `${row.requester.kind} ${row.version} ${row.ours ? 'ours' : 'theirs'}`));
    assert.deepEqual([...requesters], ['language-server 1.23.4 ours']);
    assert.deepEqual(result.tools.map((t) => [t.tool, t.version, t.installed]), [['go', '1.23.4', true]]);
    await diagnosticsUntil(document.uri, 'the not-installed diagnostic gone', (all) => !all.some((d) => codeOf(d) === 'not-installed' && d.range.isEqual(spec)));
    assert.equal((await mirrorStats(GO_ARCHIVE)).gets, 1);

    // Chosen again: the coordinator finds it installed and fetches nothing.
    const again = await runCommand<InstallResult>(install.command);
    assert.equal(again.tools[0]?.installed, false, 'already installed');
    assert.equal((await mirrorStats(GO_ARCHIVE)).gets, 1);
    await assertDiskUnchanged();
    assert.deepEqual(ours(document.uri).filter((d) => codeOf(d) === 'not-installed' && d.range.isEqual(spec)), []);
  });
});

// The `$qm` problem matcher (package.json: owner quartermaster, source qm, absolute paths) over
// what `qm install` prints for a qm.toml that does not parse. The file is broken on disk (the CLI
// reads the disk) and restored, and the model back to normal, before the suite ends.
suite('qm task problem matcher', () => {
  let api: QuartermasterApi;
  let folder: vscode.WorkspaceFolder;
  let manifest: vscode.Uri;
  let original: string;

  /** Runs `task`; resolves with its exit code. Only this suite runs qm tasks meanwhile. */
  async function run(task: vscode.Task): Promise<number | undefined> {
    const ended = new Promise<number | undefined>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((event) => {
        if (event.execution.task.definition.type !== 'qm') return;
        listener.dispose();
        resolve(event.exitCode);
      });
    });
    await vscode.tasks.executeTask(task);
    return ended;
  }

  /** The provider's "qm install" for the folder, as Run Task lists it. */
  async function installTask(): Promise<vscode.Task> {
    const tasks = await vscode.tasks.fetchTasks({ type: 'qm' });
    const install = tasks.find((t) => (t.definition as { command?: string }).command === 'install' && t.scope === folder);
    assert.ok(install, `no qm install task for the folder; tasks: ${tasks.map((t) => t.name).join(', ')}`);
    return install;
  }

  function qmProblems(): vscode.Diagnostic[] {
    return vscode.languages.getDiagnostics(manifest).filter((d) => d.source === 'qm');
  }

  suiteSetup(async () => {
    api = await quartermasterApi();
    folder = vscode.workspace.workspaceFolders![0]!;
    manifest = vscode.Uri.file(path.join(workspaceRoot(), 'qm.toml'));
    original = new TextDecoder().decode(await vscode.workspace.fs.readFile(manifest));
    await api.whenIdle();
  });

  suiteTeardown(async () => {
    await vscode.workspace.fs.writeFile(manifest, new TextEncoder().encode(original));
    // The model (status bar, autoInstall) reads the disk: wait until it has the manifest back.
    await until(api, 'qm.toml parsed again', () => api.manifests().some((m) => m.file === manifest.fsPath && m.error === undefined && m.tools.length > 0));
  });

  test('a task built in the test is not resolved through the provider: executeTask wants an execution', async () => {
    // VS Code calls resolveTask for tasks.json entries only; an API-built task runs as given.
    const task = new vscode.Task({ type: 'qm', command: 'install' }, folder, 'install (no execution)', 'qm');
    await assert.rejects(Promise.resolve(vscode.tasks.executeTask(task)), /must include an execution/);
  });

  test('qm install on a qm.toml that does not parse: exit code non-zero, the syntax error on the right line', async () => {
    const lines = original.split('\n');
    const nodeLine = lines.findIndex((line) => /^node = "[^"]*"$/.test(line));
    assert.ok(nodeLine >= 0, original);
    // The closing quote dropped: an unterminated string, reported at the end of the line.
    const broken = lines[nodeLine]!.slice(0, -1);
    lines[nodeLine] = broken;
    await vscode.workspace.fs.writeFile(manifest, new TextEncoder().encode(lines.join('\n')));

    const task = await installTask();
    assert.deepEqual(task.problemMatchers, ['$qm']);
    assert.equal(await run(task), 2, 'EMANIFEST is bad input: exit code 2');
    await diagnosticsUntil(manifest, 'a $qm problem', () => qmProblems().length > 0);
    const [problem, ...others] = qmProblems();
    assert.ok(problem);
    assert.deepEqual(others, []);
    assert.equal(problem.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(codeOf(problem), 'EMANIFEST');
    assert.match(problem.message, /TOML syntax error/);
    assert.equal(problem.range.start.line, nodeLine);
    assert.equal(problem.range.start.character, broken.length, 'qm reports the column after the unterminated string');
  });
});
