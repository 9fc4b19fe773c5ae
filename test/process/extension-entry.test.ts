import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ROOT } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
/** The built entry VS Code loads; `npm test` builds before running tests. */
const ENTRY = path.join(ROOT, 'out', 'extension.js');

/**
 * Runs in a fresh Node: `vscode` is a stub (an output channel that records its lines), every synchronous fs call and every require() is recorded,
 * out/extension.js is required and activate() called; it prints what happened during activate(),
 * in the rest of its turn of the event loop, and after it.
 */
const PROBE = `
const Module = require('node:module');
const fs = require('node:fs');
const [stubFile, entry] = process.argv.slice(2);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === 'vscode' ? stubFile : resolve.call(this, request, ...rest); };
const requests = [];
const load = Module._load;
Module._load = function (request, ...rest) { requests.push(request); return load.call(this, request, ...rest); };
let activating = false;
const fsCalls = [];
for (const name of Object.keys(fs).filter((key) => key.endsWith('Sync'))) {
  const original = fs[name];
  fs[name] = function (...args) { if (activating) fsCalls.push(name); return original.apply(this, args); };
}
const extension = require(entry);
const before = requests.length;
let seen;
// activate() in a turn of its own, then a look once that turn's microtasks have run (the next
// immediate: any the entry schedules runs after it), and another two turns later.
setImmediate(() => {
  activating = true;
  const result = extension.activate({ subscriptions: [], asAbsolutePath: (p) => p });
  activating = false;
  const returnedPromise = typeof result?.then === 'function';
  if (returnedPromise) result.catch(() => undefined);
  seen = { returnedPromise, duringActivate: requests.slice(before), fsCalls };
});
setImmediate(() => {
  seen.thisTurn = requests.slice(before);
  setImmediate(() => setImmediate(() => {
    process.stdout.write(JSON.stringify({ ...seen, afterActivate: requests.slice(before), lines: globalThis.__qmLogLines }));
    process.exit(0);
  }));
});
`;

/** Only what the entry uses; the rest of the extension fails on it, after activate() returned, which is logged. */
const VSCODE_STUB = `
globalThis.__qmLogLines = [];
const channel = new Proxy({}, { get: (_t, level) => (message) => { globalThis.__qmLogLines.push(level + ' ' + message); } });
module.exports = { window: { createOutputChannel: () => channel } };
`;

interface Probe {
  returnedPromise: boolean;
  duringActivate: string[];
  /** Required by the end of the turn that ran activate() (its microtasks included). */
  thisTurn: string[];
  fsCalls: string[];
  afterActivate: string[];
  lines: string[];
}

describe('the extension entry VS Code loads (out/extension.js)', () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('is small, and activate() does no I/O, loads nothing and returns at once; the rest is required on the next turn', async () => {
    const size = (await fs.stat(ENTRY)).size;
    assert.ok(size < 8 * 1024, `out/extension.js is ${size} bytes: something heavy was bundled into the entry instead of out/extension-main.js`);

    const probe = path.join(dir, 'probe.js');
    const stub = path.join(dir, 'vscode.js');
    await Promise.all([fs.writeFile(probe, PROBE), fs.writeFile(stub, VSCODE_STUB)]);
    const { stdout } = await run(process.execPath, [probe, stub, ENTRY], { env: { ...process.env, QM_HOME: path.join(dir, 'qm') } });
    const seen = JSON.parse(stdout) as Probe;
    assert.equal(seen.returnedPromise, true, 'activate() returns a promise of the API');
    assert.deepEqual(seen.duringActivate, [], 'activate() required nothing');
    assert.deepEqual(seen.fsCalls, [], 'activate() made no synchronous fs call');
    assert.deepEqual(seen.thisTurn, [], "nothing was required in activate()'s turn of the event loop, its microtasks included");
    assert.ok(seen.lines.some((line) => /^info Activated in \d+ ms$/.test(line)), seen.lines.join('\n'));
    assert.ok(seen.afterActivate.includes('./extension-main.js'), `the rest is required after activate() returned: ${seen.afterActivate.join(', ')}`);
  });
});
