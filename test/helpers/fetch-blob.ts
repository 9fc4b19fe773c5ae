// Child process: fetches one blob through a DownloadManager on a shared QM_HOME, `count` times
// concurrently, and reports on stdout as JSON lines. Argv: home url sha256 size count
// With QM_TEST_WAIT_GO=1 it says {"event":"ready"} and starts when a line arrives on stdin, so a
// test can start many processes at the same moment.
import { once } from 'node:events';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DownloadManager } from '../../src/core/download-manager';
import { Downloader } from '../../src/core/fetch/downloader';
import { LockManager } from '../../src/core/store/locks';

async function fetchAll(): Promise<void> {
  const [home, url, sha256, size, count = '1'] = process.argv.slice(2) as [string, string, string, string, string?];
  const say = (message: object): void => void process.stdout.write(`${JSON.stringify({ pid: process.pid, ...message })}\n`);
  const downloader = new Downloader({ retries: 2, baseBackoffMs: 20, idleTimeoutMs: 5_000 });
  const manager = new DownloadManager({
    home,
    fetcher: downloader,
    locks: new LockManager(path.join(home, 'locks'), { staleMs: Number(process.env.QM_TEST_STALE_MS ?? 10_000) }),
  });
  let announced = false;
  if (process.env.QM_TEST_WAIT_GO === '1') {
    const lines = readline.createInterface({ input: process.stdin });
    say({ event: 'ready' });
    await once(lines, 'line');
    lines.close();
  }
  try {
    const results = await Promise.all(
      Array.from({ length: Number(count) }, () =>
        manager.fetchBlob({
          url,
          sha256,
          size: Number(size),
          onProgress: (progress) => {
            if (progress.state === 'waiting') say({ event: 'waiting', holder: progress.waitingFor?.pid });
            if (progress.state === 'downloading' && !announced) {
              announced = true;
              say({ event: 'downloading' });
            }
          },
        }),
      ),
    );
    say({ event: 'done', results: results.map(({ path, downloaded }) => ({ path, downloaded })) });
  } catch (error) {
    say({ event: 'failed', code: (error as { code?: string }).code, message: String(error) });
    process.exitCode = 1;
  } finally {
    await downloader.close();
  }
}

void fetchAll();
