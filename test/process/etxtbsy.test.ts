import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { isQmError } from '../../src/core/errors';
import { runTool } from '../../src/core/exec/spawn';
import { tempHome } from '../helpers/temp-home';

/*
 * The Wild linker case: write an executable and run it at once, while other threads of the same
 * process fork. A child forked while the thread pool holds the new file's writable descriptor
 * keeps a copy of it until its own exec, so an exec of the file in that window fails with ETXTBSY.
 * libuv waits in uv_spawn until the child has exec'd, so forks from the main thread alone cannot
 * hold a descriptor past the write's completion; worker threads, which fork on their own loops,
 * can. So the load is: loops on the main thread doing write + runTool, and worker threads doing
 * write + plain child_process.spawn of their own fresh copies.
 */

const ITERATIONS = 400;
const MAIN_LOOPS = 4;
const WORKERS = 2;
const WORKER_LOOPS = 2;
const FORKING = { skip: process.platform === 'win32' ? 'ETXTBSY is a POSIX exec failure' : false };

interface WorkerStats {
  spawned: number;
  etxtbsy: number;
  other: string[];
}

interface LoadResult {
  codes: number[];
  failures: unknown[];
  retries: number;
  workers: WorkerStats;
  ms: number;
}

/** Plain JavaScript, so the workers need no TypeScript loader: they only have to fork. */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const fs = require('node:fs/promises');
const path = require('node:path');
const { dir, id, loops, binary, stop } = workerData;
const stopped = new Int32Array(stop);
function run(file) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(file, [], { stdio: 'ignore' });
    } catch (error) {
      resolve(error.code);
      return;
    }
    child.once('error', (error) => resolve(error.code));
    child.once('exit', (code, signal) => resolve(code === 0 ? 'ok' : 'exit ' + (code ?? signal)));
  });
}
async function loop(stats, name) {
  for (let n = 0; Atomics.load(stopped, 0) === 0; n++) {
    const file = path.join(dir, name + '-' + n);
    await fs.writeFile(file, binary, { mode: 0o755, flag: 'wx' });
    const result = await run(file);
    stats.spawned++;
    if (result === 'ETXTBSY') stats.etxtbsy++;
    else if (result !== 'ok') stats.other.push(result);
    await fs.unlink(file);
  }
}
const stats = { spawned: 0, etxtbsy: 0, other: [] };
Promise.all(Array.from({ length: loops }, (_, i) => loop(stats, 'w' + id + '.' + i)))
  .then(() => parentPort.postMessage(stats), (error) => { throw error; });
`;

/** Writes a fresh copy of `binary`, alternating writeFile and a FileHandle written in chunks. */
async function writeExecutable(file: string, binary: Buffer, n: number): Promise<void> {
  if (n % 2 === 0) {
    await fs.writeFile(file, binary, { mode: 0o755, flag: 'wx' });
    return;
  }
  const handle = await fs.open(file, 'wx', 0o755);
  try {
    const chunk = Math.ceil(binary.length / 4);
    for (let offset = 0; offset < binary.length; offset += chunk) {
      await handle.write(binary, offset, Math.min(chunk, binary.length - offset), offset);
    }
  } finally {
    await handle.close();
  }
}

async function runLoad(dir: string, binary: Buffer, etxtbsyBudgetMs: number | undefined): Promise<LoadResult> {
  const stop = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: WORKERS },
    (_, id) =>
      new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { dir, id, loops: WORKER_LOOPS, binary, stop } }),
  );
  const reports = workers.map(async (worker) => {
    // Listen for 'exit' from the start: a worker can exit before a listener added after its
    // message would be attached, and that wait would never end.
    const exited = once(worker, 'exit');
    const [stats] = (await once(worker, 'message')) as [WorkerStats];
    await exited;
    return stats;
  });
  const result: LoadResult = {
    codes: [],
    failures: [],
    retries: 0,
    workers: { spawned: 0, etxtbsy: 0, other: [] },
    ms: 0,
  };
  const started = performance.now();
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let n = next++; n < ITERATIONS; n = next++) {
      const file = path.join(dir, `main-${n}`);
      await writeExecutable(file, binary, n);
      try {
        result.codes.push(await runTool(file, [], { etxtbsyBudgetMs, stdio: 'ignore', onRetry: () => result.retries++ }));
      } catch (error) {
        result.failures.push(error);
      }
      await fs.unlink(file);
    }
  };
  try {
    await Promise.all(Array.from({ length: MAIN_LOOPS }, loop));
  } finally {
    result.ms = performance.now() - started;
    new Int32Array(stop)[0] = 1;
    for (const stats of await Promise.all(reports)) {
      result.workers.spawned += stats.spawned;
      result.workers.etxtbsy += stats.etxtbsy;
      result.workers.other.push(...stats.other);
    }
  }
  return result;
}

function isEtxtbsy(error: unknown): boolean {
  return isQmError(error, 'EIO') && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ETXTBSY';
}

function report(t: TestContext, label: string, result: LoadResult): void {
  const etxtbsy = result.failures.filter(isEtxtbsy).length;
  t.diagnostic(
    `${label}: ${ITERATIONS} write+run iterations on ${MAIN_LOOPS} loops in ${Math.round(result.ms)} ms; ` +
      `${result.retries} ETXTBSY retries, ${etxtbsy} ETXTBSY failures, ${result.failures.length - etxtbsy} other failures; ` +
      `meanwhile ${WORKERS}x${WORKER_LOOPS} worker loops spawned ${result.workers.spawned} fresh copies unguarded, ` +
      `${result.workers.etxtbsy} of them failing with ETXTBSY`,
  );
}

describe('starting freshly written executables under concurrent forks (ETXTBSY)', FORKING, () => {
  it('never fails with the retry, and reports how often the race shows without it', async (t) => {
    const { home: dir, dispose } = await tempHome('qm-etxtbsy-');
    try {
      const binary = await fs.readFile('/bin/true');

      const guarded = await runLoad(dir, binary, undefined);
      report(t, 'guarded', guarded);

      // The control: the same load with the retry off. Not asserted: the race may not show here.
      const control = await runLoad(dir, binary, 0);
      report(t, 'control (etxtbsyBudgetMs: 0)', control);

      assert.deepEqual(guarded.failures, []);
      assert.equal(guarded.codes.length, ITERATIONS);
      assert.ok(guarded.codes.every((code) => code === 0), `exit codes: ${guarded.codes.join(',')}`);
      assert.deepEqual(guarded.workers.other, [], 'worker children failed for reasons other than ETXTBSY');
      assert.ok(control.failures.every(isEtxtbsy), `control failed otherwise: ${String(control.failures.find((e) => !isEtxtbsy(e)))}`);
    } finally {
      await dispose();
    }
  });
});
