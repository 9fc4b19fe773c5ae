// Child process: takes a lock in QM_HOME and holds it until killed. Argv: home key
import * as path from 'node:path';
import { LockManager } from '../../src/core/store/locks';
import { createTempPath } from '../../src/core/store/temp-files';
import * as fs from 'node:fs/promises';

async function hold(): Promise<void> {
  const [home, key] = process.argv.slice(2) as [string, string];
  const locks = new LockManager(path.join(home, 'locks'));
  const lock = await locks.tryAcquire(key, 'test holder');
  const temp = await createTempPath(path.join(home, 'tmp'));
  await fs.writeFile(temp, 'partial');
  process.stdout.write(`${JSON.stringify({ locked: lock !== undefined, temp })}\n`);
  setInterval(() => undefined, 60_000);
}

void hold();
