// Child process: one of many racing for locks whose holder died. Says {"event":"ready"}; then for
// each line "<key>" on stdin it tries that lock in a tight loop until it holds it
// ({"event":"acquired","key"}; it keeps holding) or sees it held by a live racer
// ({"event":"lost","key","holder":pid}). Argv: home deadPid
import * as path from 'node:path';
import * as readline from 'node:readline';
import { once } from 'node:events';
import { LockManager } from '../../src/core/store/locks';

async function race(): Promise<void> {
  const [home, deadPid] = process.argv.slice(2) as [string, string];
  const say = (message: object): void => void process.stdout.write(`${JSON.stringify({ pid: process.pid, ...message })}\n`);
  const locks = new LockManager(path.join(home, 'locks'), { staleMs: 60_000 });
  const held = [];
  const lines = readline.createInterface({ input: process.stdin });
  say({ event: 'ready' });
  for (;;) {
    const [key] = (await once(lines, 'line')) as [string];
    for (let attempt = 1; ; attempt++) {
      const lock = await locks.tryAcquire(key, `racer ${process.pid}`);
      if (lock) {
        held.push(lock);
        say({ event: 'acquired', key, attempt });
        break;
      }
      const holder = await locks.owner(key);
      if (holder !== undefined && holder.pid !== Number(deadPid) && holder.purpose.startsWith('racer')) {
        say({ event: 'lost', key, holder: holder.pid, attempt });
        break;
      }
    }
  }
}

void race();
