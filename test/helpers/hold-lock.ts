// Child process: takes locks in QM_HOME, makes a temp file in tmp/, and holds them until killed
// or until a line arrives on stdin (then it releases and exits). Argv: home key [key ...]
// QM_TEST_STALE_MS / QM_TEST_UPDATE_MS set the lock's timing (defaults: the product's).
import { readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { LockManager } from '../../src/core/store/locks';
import { currentProcess } from '../../src/core/store/process-identity';
import { createTempPath } from '../../src/core/store/temp-files';

async function hold(): Promise<void> {
  const [home, ...keys] = process.argv.slice(2) as [string, ...string[]];
  const staleMs = process.env.QM_TEST_STALE_MS ? Number(process.env.QM_TEST_STALE_MS) : undefined;
  const updateMs = process.env.QM_TEST_UPDATE_MS ? Number(process.env.QM_TEST_UPDATE_MS) : undefined;
  const locks = new LockManager(path.join(home, 'locks'), { ...(staleMs ? { staleMs } : {}), ...(updateMs ? { updateMs } : {}) });
  const held = await Promise.all(keys.map((key) => locks.tryAcquire(key, 'test holder')));
  const lock = held[0];
  const temp = await createTempPath(path.join(home, 'tmp'));
  await fs.writeFile(temp, 'partial');
  const pidNamespace = readlinkSync('/proc/self/ns/pid');
  process.stdout.write(`${JSON.stringify({ locked: held.every((l) => l !== undefined), temp, identity: currentProcess(), pidNamespace, now: Date.now() })}\n`);
  const keepAlive = setInterval(() => undefined, 60_000);
  const lines = readline.createInterface({ input: process.stdin });
  lines.once('line', () => {
    void (async () => {
      for (const l of held) await l?.release();
      process.stdout.write(`${JSON.stringify({ released: true, compromised: lock?.compromised ?? false })}\n`);
      lines.close();
      clearInterval(keepAlive);
    })();
  });
}

void hold();
