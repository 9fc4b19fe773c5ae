// Extension benchmark (prints figures, asserts nothing), each figure beside a baseline measured
// in the same run. (1) Bundle sizes: the extension's bundles (out/extension.js, the entry VS Code
// loads, and those it loads later), out/server.js and out/cli.js, raw and gzipped, against
// vscode-languageclient / vscode-languageserver bundled alone the same way, and the .vsix against
// a minimal extension's. (2) Module evaluation: require() of each extension bundle in a fresh
// Node process with a stub `vscode`, against requiring an empty module. (3) Activation in a real
// VS Code (its server + headless Chromium) on demo/sample-project, against a minimal extension
// on the same activation event in the same page load: activate() ("Activated in N ms" in each
// log); VS Code's own marks for loading each extension's code and for its activation resolving
// (the minimal extension logs the extension host's performance marks); Quartermaster's "Loaded in
// N ms and started in M ms" (the part loaded after activate() returned); and the time from
// navigation to each status bar item. The load average is printed before and after.
//   npm run build && node --import tsx bench/extension.ts
// QM_BENCH_RUNS (default 20) processes per module measurement; QM_BENCH_LOADS (default 20) page loads.
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
const LOADS = Number(process.env.QM_BENCH_LOADS ?? 20);
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
  const loadBefore = loadAverage();
  console.log(`Load average before: ${loadBefore} (${os.cpus().length} cores)`);
  try {
    const vsix = await packageVsix(path.join(scratch, 'quartermaster.vsix'));
    const minimalVsix = await packageVsix(path.join(scratch, 'minimal.vsix'), { dir: await writeMinimalExtension(scratch), extraArgs: ['--skip-license'] });
    await bundleSizes(vsix, minimalVsix);
    await moduleEvaluation(scratch);
    interrupted.signal.throwIfAborted();
    await activation(vsix, minimalVsix);
    summary.push(`load average ${loadBefore} before, ${loadAverage()} after (${os.cpus().length} cores)`);
    console.log('\nSummary');
    for (const line of summary) console.log(`  ${line}`);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

// ---- (1) bundle sizes --------------------------------------------------------------------------

async function bundleSizes(vsix: string, minimalVsix: string): Promise<void> {
  // What any language-server extension carries anyway, bundled with build.mjs's options.
  // The extension's row compares all its bundles together (the entry and those it loads later).
  const baselines: Record<string, { label: string; contents: string } | undefined> = {
    extension: { label: 'vscode-languageclient alone', contents: "export { LanguageClient } from 'vscode-languageclient/node';" },
    server: { label: 'vscode-languageserver alone', contents: "export { createConnection } from 'vscode-languageserver/node';" },
    cli: undefined,
  };
  console.log('Bundles (out/, minified; gzip level 6):');
  const read = (bundle: string): Promise<Buffer | undefined> => fs.readFile(path.join(ROOT, 'out', `${bundle}.js`)).catch(() => undefined);
  if ((await read(LATER_BUNDLES[0]!)) !== undefined) {
    for (const bundle of ['extension', ...LATER_BUNDLES]) {
      const bytes = (await read(bundle))!;
      const when = bundle === 'extension' ? 'what VS Code requires' : 'loaded after activate() returned';
      console.log(`  ${`${bundle}.js`.padEnd(26)} ${kb(bytes.length).padStart(9)}   gzip ${kb(gzipSync(bytes).length).padStart(8)}   (${when})`);
      summary.push(`${bundle}.js ${kb(bytes.length)}, ${when}`);
    }
  }
  for (const [bundle, baseline] of Object.entries(baselines)) {
    const own = (await read(bundle))!;
    const later = bundle === 'extension' ? await Promise.all(LATER_BUNDLES.map(read)) : [];
    const bytes = Buffer.concat([own, ...later.filter((b): b is Buffer => b !== undefined)]);
    const name = later.some((b) => b !== undefined) ? `${bundle}, all bundles` : `${bundle}.js`;
    const gzipped = gzipSync(bytes).length;
    let against = '';
    if (baseline) {
      const base = await bundleAlone(baseline.contents);
      against = `   vs. ${baseline.label} ${kb(base.raw)} (gzip ${kb(base.gzip)}): ${ratio(bytes.length, base.raw)}, gzip ${ratio(gzipped, base.gzip)}`;
      summary.push(`${name} ${kb(bytes.length)} (gzip ${kb(gzipped)}) = ${ratio(bytes.length, base.raw)} ${baseline.label}`);
    } else {
      summary.push(`${name} ${kb(bytes.length)} (gzip ${kb(gzipped)})`);
    }
    console.log(`  ${name.padEnd(26)} ${kb(bytes.length).padStart(9)}   gzip ${kb(gzipped).padStart(8)}${against}`);
  }
  const [size, minimalSize] = await Promise.all([fs.stat(vsix), fs.stat(minimalVsix)]).then((stats) => stats.map((s) => s.size));
  console.log(`  ${'.vsix'.padEnd(26)} ${kb(size!).padStart(9)}   vs. a minimal extension's .vsix ${kb(minimalSize!)}: ${ratio(size!, minimalSize!)}`);
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

/** The extension's bundles VS Code does not load itself: out/extension.js requires them after activate() returned. */
const LATER_BUNDLES = ['extension-main', 'vscode-languageclient'];

async function moduleEvaluation(scratch: string): Promise<void> {
  const dir = path.join(scratch, 'require');
  await fs.mkdir(dir);
  const files = { timer: path.join(dir, 'timer.js'), stub: path.join(dir, 'vscode.js'), empty: path.join(dir, 'empty.js') };
  await Promise.all([fs.writeFile(files.timer, REQUIRE_TIMER), fs.writeFile(files.stub, VSCODE_STUB), fs.writeFile(files.empty, '')]);
  const timeRequire = async (target: string): Promise<{ ms: number; open: string[] }> => {
    const { stdout } = await run(process.execPath, [files.timer, files.stub, target]);
    return JSON.parse(stdout) as { ms: number; open: string[] };
  };

  const bundles: string[] = [];
  for (const bundle of ['extension', ...LATER_BUNDLES]) {
    const file = path.join(ROOT, 'out', `${bundle}.js`);
    if (await fs.access(file).then(() => true, () => false)) bundles.push(file);
  }
  const times = new Map<string, number[]>([[files.empty, []], ...bundles.map((file): [string, number[]] => [file, []])]);
  const leftOpen = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so a busy moment of the machine falls on all of them.
    for (const [file, values] of times) {
      const loaded = await timeRequire(file);
      values.push(loaded.ms);
      if (file === bundles[0]) for (const kind of loaded.open) leftOpen.add(kind);
    }
  }
  const base = median(times.get(files.empty)!);
  console.log(`\nModule evaluation: require() in a fresh Node ${process.version} process, vscode stubbed, ${RUNS} runs each, interleaved:`);
  for (const [file, values] of times) {
    const name = file === files.empty ? 'an empty module' : path.relative(ROOT, file);
    const extra = file === files.empty ? '' : `   +${ms(median(values) - base)} over an empty module${file === bundles[0] ? '' : ' (loaded after activate() returned)'}`;
    console.log(`  ${name.padEnd(28)} p50 ${ms(median(values)).padStart(9)}   p95 ${ms(percentile(values, 95)).padStart(9)}${extra}`);
  }
  const entry = median(times.get(bundles[0]!)!);
  console.log(`  ${leftOpen.size > 0 ? `out/extension.js left open: ${[...leftOpen].join(', ')}` : 'nothing left open by out/extension.js'}`);
  summary.push(`require(out/extension.js) ${ms(entry)} vs. an empty module ${ms(base)}: +${ms(entry - base)}`);
  for (const file of bundles.slice(1)) {
    summary.push(`require(${path.relative(ROOT, file)}) after activate(): +${ms(median(times.get(file)!) - base)} over an empty module`);
  }
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
  // Once both extensions' activations have resolved, it logs the extension host's performance
  // marks for them (VS Code's own: willLoadExtensionCode, didLoadExtensionCode, ...; epoch ms).
  const source = `const vscode = require('vscode');
exports.activate = (context) => {
  const started = Date.now();
  const channel = vscode.window.createOutputChannel('Minimal', { log: true });
  const item = vscode.window.createStatusBarItem('minimal.ready', vscode.StatusBarAlignment.Left, 0);
  item.text = 'Minimal ready';
  item.show();
  context.subscriptions.push(channel, item);
  channel.info('Activated in ' + (Date.now() - started) + ' ms');
  const ids = ['quartermaster.quartermaster', 'quartermaster-bench.minimal-extension'];
  const logMarks = () => {
    const marks = (globalThis.MonacoPerformanceMarks?.getMarks() ?? []).filter((mark) => ids.some((id) => mark.name.endsWith('/' + id)));
    if (ids.every((id) => marks.some((mark) => mark.name === 'code/extHost/didActivateExtension/' + id)) || Date.now() - started > 60000) {
      channel.info('Marks ' + JSON.stringify(marks));
    } else {
      setTimeout(logMarks, 20);
    }
  };
  setTimeout(logMarks, 20);
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

interface ExtensionTimes {
  /** "Activated in N ms": the activate() call. */
  activateMs: number;
  /** When activate() was called (epoch ms). */
  startedAt: number;
  /** VS Code's marks: loading the code (willLoadExtensionCode to didLoadExtensionCode). */
  codeMs: number;
  /** VS Code's marks: from willActivateExtension to didActivateExtension (activate()'s promise resolved). */
  resolvedMs: number;
}

interface LoadTimes extends PageTimes {
  qmTimes: ExtensionTimes;
  minimalTimes: ExtensionTimes;
  /** Quartermaster's "Loaded in N ms and started in M ms, T ms after activate() began" (absent before the split). */
  qmLater?: { loadMs: number; startMs: number; afterActivateMs: number };
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
        await untilExtensionHostsExited(server, load);
      }
      const loads = await withLogTimes(server, pages);
      report(vscodeVersion, loads[0], loads.slice(1).filter((load): load is LoadTimes => load !== undefined));
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

/**
 * Each load's extension host must be gone before the next starts: it would compete for the CPU and
 * hold the coordinator. One whose page closed before the workbench's goodbye went out (seen under
 * load) would wait out VS Code's reconnection grace time, three hours, and every later load would
 * wait for it: after 10 s it is ended (this server's own child, checked in /proc before the signal).
 */
async function untilExtensionHostsExited(server: VsCodeServer, load: number): Promise<void> {
  let deadline = Date.now() + 10_000;
  let ended = false;
  for (;;) {
    const logs = await logFiles(server.logsDir, /(^|\/)remoteagent\.log$/);
    const text = (await Promise.all(logs.map((file) => fs.readFile(file, 'utf8')))).join('');
    const exited = new Set([...text.matchAll(/<(\d+)> Extension Host Process exited/g)].map((match) => match[1]));
    const running = [...text.matchAll(/<(\d+)> Launched Extension Host Process/g)].map((match) => match[1]!).filter((pid) => !exited.has(pid));
    if (running.length === 0) return;
    interrupted.signal.throwIfAborted();
    if (Date.now() > deadline) {
      if (ended) {
        console.error(`(the extension host of load ${load} has not exited 10 s after it was ended; measuring on)`);
        return;
      }
      console.error(`(the extension host of load ${load}, pid ${running.join(', ')}, has not exited 10 s after its page closed: ending it)`);
      for (const pid of running) {
        const command = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (command.includes('--type=extensionHost')) process.kill(Number(pid), 'SIGTERM');
      }
      ended = true;
      deadline = Date.now() + 10_000;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Joins each page load with its extension host's logs (exthost1 for the first load, and so on). */
async function withLogTimes(server: VsCodeServer, pages: PageTimes[]): Promise<Array<LoadTimes | undefined>> {
  /** Each host's log, by the host's number (exthost1 for the first load, and so on). */
  const byHost = async (pattern: RegExp): Promise<Map<number, LogTimes | undefined>> => {
    const files = await logFiles(server.logsDir, pattern);
    const hostNumber = (file: string): number => Number(/exthost(\d+)\//.exec(file)![1]);
    return new Map(await Promise.all(files.map(async (file): Promise<[number, LogTimes | undefined]> => [hostNumber(file), activatedLine(await fs.readFile(file, 'utf8'))])));
  };
  const qmLogs = await byHost(/exthost\d+\/quartermaster\.quartermaster\/Quartermaster\.log$/);
  const minimalLogs = await byHost(/exthost\d+\/quartermaster-bench\.minimal-extension\/Minimal\.log$/);
  const times = (line: LogTimes, id: string, marks: Mark[]): ExtensionTimes => {
    const at = (name: string): number => {
      // NaN (left out of the figures) if the minimal extension's host exited before it logged them.
      return marks.find((m) => m.name === `code/extHost/${name}/${id}`)?.startTime ?? Number.NaN;
    };
    return { activateMs: line.ms, startedAt: line.startedAt, codeMs: at('didLoadExtensionCode') - at('willLoadExtensionCode'), resolvedMs: at('didActivateExtension') - at('willActivateExtension') };
  };
  // A load whose host left no "Activated in" line in either log (seen once in 21: a log not
  // written before its host exited) is left out, and the report counts the loads it has.
  return pages.map((page, i) => {
    const qm = qmLogs.get(i + 1);
    const minimal = minimalLogs.get(i + 1);
    if (qm === undefined || minimal === undefined) {
      console.error(`(load ${i}: ${qm ? '' : 'no "Activated in" line in its Quartermaster log '}${minimal ? '' : 'no "Activated in" line in its Minimal log '}under ${server.logsDir}; left out)`);
      return undefined;
    }
    return {
      ...page,
      qmTimes: times(qm, 'quartermaster.quartermaster', minimal.marks),
      minimalTimes: times(minimal, 'quartermaster-bench.minimal-extension', minimal.marks),
      ...(qm.later ? { qmLater: qm.later } : {}),
    };
  });
}

interface Mark {
  name: string;
  startTime: number;
}

interface LogTimes {
  ms: number;
  startedAt: number;
  marks: Mark[];
  later?: { loadMs: number; startMs: number; afterActivateMs: number };
}

/**
 * '2026-11-22 04:26:00.637 [info] Activated in 31 ms': the figure, and when activate() began; the
 * minimal extension's "Marks [...]" line; Quartermaster's "Loaded in N ms and started in M ms, T ms after activate() began".
 */
function activatedLine(text: string): LogTimes | undefined {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[info\] Activated in (\d+) ms/m.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[3]);
  const marks = /\[info\] Marks (.*)$/m.exec(text);
  const later = /\[info\] Loaded in (\d+) ms and started in (\d+) ms, (\d+) ms after activate\(\) began/.exec(text);
  return {
    ms,
    startedAt: Date.parse(`${match[1]}T${match[2]}`) - ms,
    marks: marks ? (JSON.parse(marks[1]!) as Mark[]) : [],
    ...(later ? { later: { loadMs: Number(later[1]), startMs: Number(later[2]), afterActivateMs: Number(later[3]) } } : {}),
  };
}

async function logFiles(dir: string, pattern: RegExp): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => pattern.test(entry)).map((entry) => path.join(dir, entry));
}

function report(vscodeVersion: string, warmUp: LoadTimes | undefined, loads: LoadTimes[]): void {
  // Loads without a figure (a log line missing) are left out of that figure, and the count says so.
  const column = (pick: (load: LoadTimes) => number | undefined): number[] => loads.map(pick).filter((value): value is number => value !== undefined && Number.isFinite(value));
  const stat = (values: number[]): string =>
    values.length === 0 ? 'n/a' : `p50 ${ms(median(values)).padStart(9)}   p95 ${ms(percentile(values, 95)).padStart(9)}${values.length < LOADS ? `   (${values.length} loads)` : ''}`;
  const row = (label: string, values: number[], extra = ''): void => console.log(`    ${label.padEnd(38)} ${stat(values)}${extra}`);
  const qmCall = column((l) => l.qmTimes.activateMs);
  const minimalCall = column((l) => l.minimalTimes.activateMs);
  const qmCode = column((l) => l.qmTimes.codeMs);
  const minimalCode = column((l) => l.minimalTimes.codeMs);
  const qmLoadAndCall = column((l) => l.qmTimes.codeMs + l.qmTimes.activateMs);
  const minimalLoadAndCall = column((l) => l.minimalTimes.codeMs + l.minimalTimes.activateMs);
  const qmResolved = column((l) => l.qmTimes.resolvedMs);
  const minimalResolved = column((l) => l.minimalTimes.resolvedMs);
  const later = column((l) => l.qmLater && l.qmLater.loadMs + l.qmLater.startMs);
  const laterLoad = column((l) => l.qmLater?.loadMs);
  const qmShown = column((l) => l.quartermaster);
  const minimalShown = column((l) => l.minimal);
  const barShown = column((l) => l.statusBar);
  const behind = column((l) => l.quartermaster - l.minimal);
  const qmFirst = loads.filter((l) => l.qmTimes.startedAt <= l.minimalTimes.startedAt).length;
  const diff = (a: number[], b: number[]): string => (a.length && b.length ? `   difference p50 ${ms(median(a) - median(b))}` : '');

  console.log(`\nActivation in VS Code ${vscodeVersion} (its server on 127.0.0.1, headless Chromium), demo/sample-project, trust off, autoInstall "never";`);
  console.log(`${LOADS} page loads after one warm-up, each in a fresh browser; load average now ${loadAverage()}:`);
  console.log(`  activate() call ("Activated in N ms" in each log)`);
  row('Quartermaster', qmCall);
  row('minimal extension', minimalCall, diff(qmCall, minimalCall));
  console.log(`  loading the code VS Code requires (its marks willLoadExtensionCode to didLoadExtensionCode)`);
  row('Quartermaster', qmCode);
  row('minimal extension', minimalCode, diff(qmCode, minimalCode));
  console.log(`  require + activate() call: what blocks the extension host before activate() returns`);
  row('Quartermaster', qmLoadAndCall);
  row('minimal extension', minimalLoadAndCall, diff(qmLoadAndCall, minimalLoadAndCall));
  console.log(`  activation resolved (willActivateExtension to didActivateExtension: activate()'s promise, and its awaits)`);
  row('Quartermaster', qmResolved);
  row('minimal extension', minimalResolved, diff(qmResolved, minimalResolved));
  if (later.length > 0) {
    console.log(`  Quartermaster's part loaded after activate() returned (its log: "Loaded in N ms and started in M ms")`);
    row('require(out/extension-main.js)', laterLoad);
    row('require + start()', later);
  }
  console.log(`  navigation to status bar item visible`);
  row("the workbench's status bar", barShown);
  row('Quartermaster (versions resolved)', qmShown);
  row('minimal extension ("Minimal ready")', minimalShown, `   ratio p50 ${ratio(median(qmShown), median(minimalShown))}, p95 ${ratio(percentile(qmShown, 95), percentile(minimalShown, 95))}`);
  row('Quartermaster after minimal, per load', behind);
  console.log(`  activation order: Quartermaster's activate() began first in ${qmFirst} of ${loads.length} loads (one extension host runs both: the later one waits for the first one's synchronous work)`);
  if (warmUp) console.log(`  warm-up load: activate ${ms(warmUp.qmTimes.activateMs)} (minimal ${ms(warmUp.minimalTimes.activateMs)}); Quartermaster visible ${ms(warmUp.quartermaster)}, minimal ${ms(warmUp.minimal)}`);
  summary.push(`activate() ${ms(median(qmCall))} p50 / ${ms(percentile(qmCall, 95))} p95 (minimal extension ${ms(median(minimalCall))} / ${ms(percentile(minimalCall, 95))}), ${loads.length} of ${LOADS} loads`);
  if (qmLoadAndCall.length > 0) {
    summary.push(`require + activate() ${ms(median(qmLoadAndCall))} p50 / ${ms(percentile(qmLoadAndCall, 95))} p95 (minimal extension ${ms(median(minimalLoadAndCall))} / ${ms(percentile(minimalLoadAndCall, 95))})`);
  }
  if (later.length > 0) summary.push(`after activate() returned: require + start() of the rest ${ms(median(later))} p50 / ${ms(percentile(later, 95))} p95`);
  summary.push(
    `status bar item after navigation ${ms(median(qmShown))} p50 / ${ms(percentile(qmShown, 95))} p95 vs. minimal ${ms(median(minimalShown))} / ${ms(percentile(minimalShown, 95))}: ${ratio(median(qmShown), median(minimalShown))} p50, +${ms(median(behind))} per load`,
  );
}

// ---- formatting and plumbing -------------------------------------------------------------------

function loadAverage(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join(' ');
}

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
