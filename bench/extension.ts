// Extension benchmark (prints figures, asserts nothing), each figure beside a baseline measured
// in the same run. (1) Bundle sizes: out/{extension,server,cli}.js raw and gzipped, against
// vscode-languageclient / vscode-languageserver bundled alone the same way, and the .vsix against
// a minimal extension's. (2) Module evaluation: require('out/extension.js') in a fresh Node
// process with a stub `vscode`, against requiring an empty module. (3) Activation in a real
// VS Code (its server + headless Chromium) on demo/sample-project: the "Activated in N ms" line
// of the Quartermaster log, and the time from navigation to Quartermaster's status bar item,
// against a minimal extension on the same activation event in the same page load.
//   npm run build && node --import tsx bench/extension.ts
// QM_BENCH_RUNS (default 20) processes per module measurement; QM_BENCH_LOADS (default 5) page loads.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { launchChromium } from '../test/e2e/browser';
import { FixtureWorld } from '../test/e2e/fixture-world';
import { e2eInstall, VsCodeServer } from '../test/e2e/vscode-server';
import { packageVsix } from '../test/e2e/vsix';
import { median, percentile } from './measure';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.QM_BENCH_RUNS ?? 20);
const LOADS = Number(process.env.QM_BENCH_LOADS ?? 5);
const LOAD_TIMEOUT_MS = 120_000;

const summary: string[] = [];
const interrupted = new AbortController();

async function main(): Promise<void> {
  process.once('SIGINT', () => {
    console.error('Interrupted: cleaning up (Ctrl-C again to leave everything behind)…');
    interrupted.abort();
  });
  for (const bundle of ['extension', 'server', 'cli']) {
    await fs.access(path.join(ROOT, 'out', `${bundle}.js`)).catch(() => {
      throw new Error('bench/extension.ts measures the bundles: run "npm run build" first');
    });
  }
  const scratch = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'qm-bench-extension-')));
  try {
    const vsix = await packageVsix(path.join(scratch, 'quartermaster.vsix'));
    const minimalVsix = await packageVsix(path.join(scratch, 'minimal.vsix'), { dir: await writeMinimalExtension(scratch), extraArgs: ['--skip-license'] });
    await bundleSizes(vsix, minimalVsix);
    await moduleEvaluation(scratch);
    interrupted.signal.throwIfAborted();
    await activation(vsix, minimalVsix);
    console.log('\nSummary');
    for (const line of summary) console.log(`  ${line}`);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

// ---- (1) bundle sizes --------------------------------------------------------------------------

async function bundleSizes(vsix: string, minimalVsix: string): Promise<void> {
  // What any language-server extension carries anyway, bundled with build.mjs's options.
  const baselines: Record<string, { label: string; contents: string } | undefined> = {
    extension: { label: 'vscode-languageclient alone', contents: "export { LanguageClient } from 'vscode-languageclient/node';" },
    server: { label: 'vscode-languageserver alone', contents: "export { createConnection } from 'vscode-languageserver/node';" },
    cli: undefined,
  };
  console.log('Bundles (out/, minified; gzip level 6):');
  for (const [bundle, baseline] of Object.entries(baselines)) {
    const bytes = await fs.readFile(path.join(ROOT, 'out', `${bundle}.js`));
    const gzipped = gzipSync(bytes).length;
    let against = '';
    if (baseline) {
      const base = await bundleAlone(baseline.contents);
      against = `   vs. ${baseline.label} ${kb(base.raw)} (gzip ${kb(base.gzip)}): ${ratio(bytes.length, base.raw)}, gzip ${ratio(gzipped, base.gzip)}`;
      summary.push(`${bundle}.js ${kb(bytes.length)} (gzip ${kb(gzipped)}) = ${ratio(bytes.length, base.raw)} ${baseline.label}`);
    } else {
      summary.push(`${bundle}.js ${kb(bytes.length)} (gzip ${kb(gzipped)})`);
    }
    console.log(`  ${`${bundle}.js`.padEnd(14)} ${kb(bytes.length).padStart(9)}   gzip ${kb(gzipped).padStart(8)}${against}`);
  }
  const [size, minimalSize] = await Promise.all([fs.stat(vsix), fs.stat(minimalVsix)]).then((stats) => stats.map((s) => s.size));
  console.log(`  ${'.vsix'.padEnd(14)} ${kb(size!).padStart(9)}   vs. a minimal extension's .vsix ${kb(minimalSize!)}: ${ratio(size!, minimalSize!)}`);
  summary.push(`.vsix ${kb(size!)} = ${ratio(size!, minimalSize!)} a minimal extension's (${kb(minimalSize!)})`);
}

async function bundleAlone(contents: string): Promise<{ raw: number; gzip: number }> {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    external: ['vscode'],
    write: false,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0]!.contents;
  return { raw: bytes.length, gzip: gzipSync(bytes).length };
}

// ---- (2) module evaluation ---------------------------------------------------------------------

/**
 * Runs in the child: resolves `vscode` to the stub, times one require(), and lists what the import
 * left open besides stdio (node:assert's colour check alone opens process.stderr's pipe).
 */
const REQUIRE_TIMER = `
const Module = require('node:module');
const [stub, target] = process.argv.slice(2);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === 'vscode' ? stub : resolve.call(this, request, ...rest); };
const start = process.hrtime.bigint();
require(target);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const open = process.getActiveResourcesInfo().filter((kind) => kind !== 'PipeWrap' && kind !== 'TTYWrap');
process.stdout.write(JSON.stringify({ ms, open }));
process.exit(0);
`;

/** Every property, call and construction gives the stub back, so module-level uses of the API do not throw. */
const VSCODE_STUB = `
const handler = { get: (_t, p) => (p === 'then' || typeof p === 'symbol' ? undefined : stub), apply: () => stub, construct: () => stub };
const stub = new Proxy(function vscode() {}, handler);
module.exports = stub;
`;

async function moduleEvaluation(scratch: string): Promise<void> {
  const dir = path.join(scratch, 'require');
  await fs.mkdir(dir);
  const files = { timer: path.join(dir, 'timer.js'), stub: path.join(dir, 'vscode.js'), empty: path.join(dir, 'empty.js') };
  await Promise.all([fs.writeFile(files.timer, REQUIRE_TIMER), fs.writeFile(files.stub, VSCODE_STUB), fs.writeFile(files.empty, '')]);
  const timeRequire = async (target: string): Promise<{ ms: number; open: string[] }> => {
    const { stdout } = await run(process.execPath, [files.timer, files.stub, target]);
    return JSON.parse(stdout) as { ms: number; open: string[] };
  };

  const extension = path.join(ROOT, 'out/extension.js');
  const extensionMs: number[] = [];
  const emptyMs: number[] = [];
  const leftOpen = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so a busy moment of the machine falls on both.
    const empty = await timeRequire(files.empty);
    const loaded = await timeRequire(extension);
    emptyMs.push(empty.ms);
    extensionMs.push(loaded.ms);
    for (const kind of loaded.open) leftOpen.add(kind);
  }
  const ext = median(extensionMs);
  const base = median(emptyMs);
  console.log(`\nModule evaluation: require() in a fresh Node ${process.version} process, vscode stubbed, median of ${RUNS}:`);
  console.log(`  out/extension.js   ${ms(ext).padStart(9)}   p95 ${ms(percentile(extensionMs, 95))}`);
  console.log(`  an empty module    ${ms(base).padStart(9)}   p95 ${ms(percentile(emptyMs, 95))}`);
  console.log(`  difference ${ms(ext - base)}, ratio ${ratio(ext, base)}${leftOpen.size > 0 ? `; the import left open: ${[...leftOpen].join(', ')}` : '; nothing left open by the import'}`);
  summary.push(`require(out/extension.js) ${ms(ext)} vs. an empty module ${ms(base)}: +${ms(ext - base)}`);
}

// ---- (3) activation in VS Code -----------------------------------------------------------------

/** The baseline: activated by the same event, shows a status bar item, logs like Quartermaster. */
async function writeMinimalExtension(scratch: string): Promise<string> {
  const dir = path.join(scratch, 'minimal-extension');
  await fs.mkdir(dir);
  const manifest = {
    name: 'minimal-extension',
    displayName: 'Minimal',
    version: '0.0.1',
    publisher: 'quartermaster-bench',
    engines: { vscode: '^1.91.0' },
    main: './extension.js',
    activationEvents: ['workspaceContains:**/qm.toml'],
    extensionKind: ['workspace'],
    files: ['extension.js'],
  };
  const source = `const vscode = require('vscode');
exports.activate = (context) => {
  const started = Date.now();
  const channel = vscode.window.createOutputChannel('Minimal', { log: true });
  const item = vscode.window.createStatusBarItem('minimal.ready', vscode.StatusBarAlignment.Left, 0);
  item.text = 'Minimal ready';
  item.show();
  context.subscriptions.push(channel, item);
  channel.info('Activated in ' + (Date.now() - started) + ' ms');
};
`;
  await fs.writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.writeFile(path.join(dir, 'extension.js'), source);
  return dir;
}

/**
 * Runs in the page from its first script on: the first moment (performance.now(), i.e. ms since
 * navigation started) each watched element is in the DOM and rendered visible.
 */
const WATCH_STATUS_BAR = `(() => {
  const watched = {
    statusBar: '#workbench\\\\.parts\\\\.statusbar',
    quartermaster: '.statusbar-item[aria-label^="Quartermaster toolchains"]',
    minimal: '.statusbar-item[aria-label="Minimal ready"]',
  };
  const seen = {};
  window.__qmBenchSeen = seen;
  const observer = new MutationObserver(() => {
    for (const [name, selector] of Object.entries(watched)) {
      if (seen[name] !== undefined) continue;
      const element = document.querySelector(selector);
      if (element !== null && element.checkVisibility()) seen[name] = performance.now();
    }
    if (Object.keys(seen).length === Object.keys(watched).length) observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label', 'class', 'style'] });
})();`;

interface PageTimes {
  statusBar: number;
  quartermaster: number;
  minimal: number;
}

interface LoadTimes extends PageTimes {
  /** From the extensions' logs: "Activated in N ms", and when activate() was called (epoch ms). */
  qmActivateMs: number;
  minimalActivateMs: number;
  qmStartedAt: number;
  minimalStartedAt: number;
}

async function activation(vsix: string, minimalVsix: string): Promise<void> {
  const { serverMain } = await e2eInstall();
  const vscodeVersion = (JSON.parse(await fs.readFile(path.join(serverMain, '../../package.json'), 'utf8')) as { version: string }).version;
  const world = await FixtureWorld.create({ workspaceFixture: 'demo/sample-project' });
  try {
    const server = await VsCodeServer.start({
      installExtensions: [vsix, minimalVsix],
      env: world.env,
      userSettings: { 'quartermaster.autoInstall': 'never' },
      disableWorkspaceTrust: true,
      port: 0,
    });
    try {
      const url = `${server.url}/?folder=${encodeURIComponent(world.workspace)}`;
      // Load 0 warms up: the server's first workbench, Quartermaster's first index fetch into QM_HOME.
      const pages: PageTimes[] = [];
      for (let load = 0; load <= LOADS; load++) {
        interrupted.signal.throwIfAborted();
        pages.push(await loadOnce(url));
        await untilExtensionHostsExited(server, load + 1);
      }
      const loads = await withLogTimes(server, pages);
      report(vscodeVersion, loads[0]!, loads.slice(1));
    } catch (error) {
      if (!interrupted.signal.aborted) console.error(`--- VS Code server log (last 30 lines)\n${await server.logTail(30)}`);
      throw error;
    } finally {
      await server.stop();
    }
  } finally {
    await world.dispose();
  }
}

/** One page load in a fresh browser: navigation to both status bar items visible. */
async function loadOnce(url: string): Promise<PageTimes> {
  const browser = await launchChromium();
  try {
    await browser.page.addInitScript(WATCH_STATUS_BAR);
    await browser.page.goto(url);
    const done = browser.page.waitForFunction('Object.keys(window.__qmBenchSeen ?? {}).length === 3', undefined, { timeout: LOAD_TIMEOUT_MS, polling: 50 });
    done.catch(() => undefined); // after an interrupt it rejects when the browser closes: nobody is waiting then
    await untilAborted(done, interrupted.signal).catch(async (error: unknown) => {
      const seen = await browser.page.evaluate('JSON.stringify(window.__qmBenchSeen ?? {})').catch(() => '?');
      throw new Error(`the status bar items did not all show within ${LOAD_TIMEOUT_MS / 1000} s (seen: ${String(seen)}): ${String(error)}`);
    });
    const seen = JSON.parse(String(await browser.page.evaluate('JSON.stringify(window.__qmBenchSeen)'))) as PageTimes;
    // Leaving the page disconnects the workbench gracefully, so the server ends its extension host now, not after the reconnection grace time.
    await browser.page.goto('about:blank');
    return seen;
  } finally {
    await browser.close();
  }
}

/** Each load's extension host must be gone before the next starts: it would compete for the CPU and hold the coordinator. */
async function untilExtensionHostsExited(server: VsCodeServer, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const logs = await logFiles(server.logsDir, /(^|\/)remoteagent\.log$/);
    const texts = await Promise.all(logs.map((file) => fs.readFile(file, 'utf8')));
    const exited = texts.join('').split('Extension Host Process exited').length - 1;
    if (exited >= count) return;
    interrupted.signal.throwIfAborted();
    if (Date.now() > deadline) {
      console.error(`(the extension host of load ${count - 1} has not exited 30 s after its page closed; measuring on)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Joins each page load with its extension host's logs (exthost1 for the first load, and so on). */
async function withLogTimes(server: VsCodeServer, pages: PageTimes[]): Promise<LoadTimes[]> {
  const byHost = async (pattern: RegExp): Promise<Array<{ ms: number; startedAt: number }>> => {
    const files = await logFiles(server.logsDir, pattern);
    const hostNumber = (file: string): number => Number(/exthost(\d+)\//.exec(file)![1]);
    files.sort((a, b) => hostNumber(a) - hostNumber(b));
    return Promise.all(files.map(async (file) => activatedLine(file, await fs.readFile(file, 'utf8'))));
  };
  const qm = await byHost(/exthost\d+\/quartermaster\.quartermaster\/Quartermaster\.log$/);
  const minimal = await byHost(/exthost\d+\/quartermaster-bench\.minimal-extension\/Minimal\.log$/);
  if (qm.length !== pages.length || minimal.length !== pages.length) {
    throw new Error(`expected one extension host per page load (${pages.length}); found ${qm.length} Quartermaster and ${minimal.length} Minimal logs under ${server.logsDir}`);
  }
  return pages.map((page, i) => ({
    ...page,
    qmActivateMs: qm[i]!.ms,
    qmStartedAt: qm[i]!.startedAt,
    minimalActivateMs: minimal[i]!.ms,
    minimalStartedAt: minimal[i]!.startedAt,
  }));
}

/** '2026-11-22 04:26:00.637 [info] Activated in 31 ms': the figure, and when activate() began. */
function activatedLine(file: string, text: string): { ms: number; startedAt: number } {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[info\] Activated in (\d+) ms/m.exec(text);
  if (match === null) throw new Error(`no "Activated in N ms" line in ${file}:\n${text}`);
  const ms = Number(match[3]);
  return { ms, startedAt: Date.parse(`${match[1]}T${match[2]}`) - ms };
}

async function logFiles(dir: string, pattern: RegExp): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => pattern.test(entry)).map((entry) => path.join(dir, entry));
}

function report(vscodeVersion: string, warmUp: LoadTimes, loads: LoadTimes[]): void {
  const column = (pick: (load: LoadTimes) => number): number[] => loads.map(pick);
  const stat = (values: number[]): string => `p50 ${ms(median(values)).padStart(9)}   p95 ${ms(percentile(values, 95)).padStart(9)}`;
  const qmLog = column((l) => l.qmActivateMs);
  const minimalLog = column((l) => l.minimalActivateMs);
  const qmShown = column((l) => l.quartermaster);
  const minimalShown = column((l) => l.minimal);
  const barShown = column((l) => l.statusBar);
  const behind = column((l) => l.quartermaster - l.minimal);
  const qmFirst = loads.filter((l) => l.qmStartedAt <= l.minimalStartedAt).length;

  console.log(`\nActivation in VS Code ${vscodeVersion} (its server on 127.0.0.1, headless Chromium), demo/sample-project, trust off, autoInstall "never";`);
  console.log(`${LOADS} page loads after one warm-up, each in a fresh browser:`);
  console.log(`  activate() ("Activated in N ms" in the log)`);
  console.log(`    Quartermaster                          ${stat(qmLog)}`);
  console.log(`    minimal extension                      ${stat(minimalLog)}   difference p50 ${ms(median(qmLog) - median(minimalLog))}`);
  console.log(`  navigation to status bar item visible`);
  console.log(`    the workbench's status bar             ${stat(barShown)}`);
  console.log(`    Quartermaster (versions resolved)      ${stat(qmShown)}`);
  console.log(`    minimal extension ("Minimal ready")    ${stat(minimalShown)}   ratio p50 ${ratio(median(qmShown), median(minimalShown))}, p95 ${ratio(percentile(qmShown, 95), percentile(minimalShown, 95))}`);
  console.log(`    Quartermaster after minimal, per load  ${stat(behind)}`);
  console.log(`  activation order: Quartermaster's activate() began first in ${qmFirst} of ${LOADS} loads (one extension host runs both: the later one waits for the first one's synchronous work)`);
  console.log(`  warm-up load: activate ${ms(warmUp.qmActivateMs)} (minimal ${ms(warmUp.minimalActivateMs)}); Quartermaster visible ${ms(warmUp.quartermaster)}, minimal ${ms(warmUp.minimal)}`);
  summary.push(`activate() ${ms(median(qmLog))} p50 / ${ms(percentile(qmLog, 95))} p95 (minimal extension ${ms(median(minimalLog))})`);
  summary.push(
    `status bar item after navigation ${ms(median(qmShown))} p50 / ${ms(percentile(qmShown, 95))} p95 vs. minimal ${ms(median(minimalShown))} / ${ms(percentile(minimalShown, 95))}: ${ratio(median(qmShown), median(minimalShown))} p50, +${ms(median(behind))} per load`,
  );
}

// ---- formatting and plumbing -------------------------------------------------------------------

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function ms(value: number): string {
  return `${Number.isInteger(value) || Math.abs(value) >= 10 ? value.toFixed(0) : value.toFixed(2)} ms`;
}

function ratio(value: number, baseline: number): string {
  return baseline > 0 ? `${(value / baseline).toFixed(2)}x` : 'n/a';
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('interrupted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

void main().catch((error: unknown) => {
  console.error(interrupted.signal.aborted ? 'Interrupted.' : error);
  process.exitCode = 1;
});
