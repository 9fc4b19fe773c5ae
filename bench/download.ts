// Download benchmark: a 200 MB artifact fetched and verified by the DownloadManager, beside
// `curl -s URL | sha256sum` on the same artifact in the same run; then 16 requests for one artifact.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DownloadManager } from '../src/core/download-manager';
import { Downloader } from '../src/core/fetch/downloader';
import { ForkedMirror } from './forked-mirror';
import { median, timed } from './measure';

const run = promisify(execFile);
const SIZE = Number(process.env.QM_BENCH_BYTES ?? 200 * 1024 * 1024);
const ROUNDS = Number(process.env.QM_BENCH_ROUNDS ?? 3);



async function freshHome(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'qm-bench-'));
}

async function main(): Promise<void> {
  const mirror = await ForkedMirror.start('blob-server.ts', [String(SIZE)]);
  const { url, sha256 } = mirror.artifact;
  const mb = SIZE / (1024 * 1024);
  const downloader = new Downloader();
  const homes: string[] = [];
  try {
    const curlMs: number[] = [];
    const qmMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      curlMs.push(await timed(async () => {
        const { stdout } = await run('bash', ['-c', `curl -s "${url}" | sha256sum`], { maxBuffer: 1024 });
        if (!stdout.startsWith(sha256)) throw new Error(`curl pipeline saw another digest: ${stdout}`);
      }));
      const home = await freshHome();
      homes.push(home);
      const manager = new DownloadManager({ home, fetcher: downloader });
      await manager.recover();
      qmMs.push(await timed(async () => void (await manager.fetchBlob({ url, sha256, size: SIZE }))));
    }
    const curl = median(curlMs);
    const qm = median(qmMs);
    console.log(`download+verify ${mb.toFixed(0)} MB, median of ${ROUNDS}:`);
    console.log(`  curl -s | sha256sum   ${curl.toFixed(0)} ms  ${(mb / (curl / 1000)).toFixed(0)} MB/s`);
    console.log(`  qm DownloadManager    ${qm.toFixed(0)} ms  ${(mb / (qm / 1000)).toFixed(0)} MB/s (includes fsync + publish)`);
    console.log(`  ratio qm/curl         ${(qm / curl).toFixed(2)}x`);

    await mirror.reset();
    const home = await freshHome();
    homes.push(home);
    const manager = new DownloadManager({ home, fetcher: downloader });
    await manager.recover();
    const sixteen = await timed(async () => {
      await Promise.all(Array.from({ length: 16 }, () => manager.fetchBlob({ url, sha256, size: SIZE })));
    });
    const stats = await mirror.stats();
    console.log(`16 concurrent requests for the same ${mb.toFixed(0)} MB artifact:`);
    console.log(`  wall ${sixteen.toFixed(0)} ms = ${(sixteen / qm).toFixed(2)}x one download; GETs served ${stats.gets}; bytes served ${stats.bytesSent} = ${(stats.bytesSent / SIZE).toFixed(2)}x the artifact`);
  } finally {
    await downloader.close();
    mirror.close();
    await Promise.all(homes.map((home) => fs.rm(home, { recursive: true, force: true })));
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
