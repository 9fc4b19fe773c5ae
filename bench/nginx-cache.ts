// Org caching mirror benchmark (issue 13): 8 separate homes install one Node.js version at once,
// straight from the upstream mirror and through a real nginx proxy_cache (cold, then warm, and
// with `slice 1m`), with the upstream bytes each way costs. The upstream is the fixture mirror on
// loopback, then the same with every upstream response paced at a WAN-like rate.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MirrorServer } from '../test/fixtures/mirror-server';
import { publishNodeDist } from '../test/fixtures/node-dist';
import { NginxCache, nginxUnavailable, type NginxLocation } from '../test/scale/harness/nginx';
import { median, timed } from './measure';

const run = promisify(execFile);
const PAYLOAD = Number(process.env.QM_BENCH_PAYLOAD ?? 50 * 1024 * 1024);
const ROUNDS = Number(process.env.QM_BENCH_ROUNDS ?? 3);
const HOMES = 8;
/** A 200 Mbit/s upstream, per response. */
const WAN_BYTES_PER_SECOND = 25 * 1024 * 1024;
const CLI = path.join(__dirname, '..', 'out', 'cli.js');

interface Row {
  label: string;
  wallMs: number;
  upstreamBytes: number;
}

async function main(): Promise<void> {
  const unavailable = nginxUnavailable();
  if (unavailable) {
    console.log(`bench/nginx-cache: skipped, ${unavailable}`);
    return;
  }
  await fs.access(CLI).catch(() => {
    throw new Error('bench/nginx-cache.ts runs the built CLI: run "npm run build" first');
  });
  const mirror = await MirrorServer.start();
  const artifacts = await publishNodeDist(mirror, [{ version: 'v22.12.0', lts: 'Jod', date: '2024-12-03' }], { platforms: ['linux-x64'], payloadBytes: PAYLOAD });
  const archive = artifacts.find((a) => a.ext === 'tar.gz')!;
  const paths = ['/dist/index.json', '/dist/v22.12.0/SHASUMS256.txt', ...artifacts.map((a) => a.path)];
  const upstreamBytes = (): number => paths.reduce((sum, p) => sum + mirror.stats(p).bytesSent, 0);
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-bench-nginx-'));

  /** 8 fresh homes install at once from `base`; the wall time and what the upstream sent. */
  async function eightHomes(base: string): Promise<{ wallMs: number; upstreamBytes: number }> {
    const round = await fs.mkdtemp(path.join(scratch, 'round-'));
    mirror.resetStats();
    try {
      const wallMs = await timed(() =>
        Promise.all(Array.from({ length: HOMES }, (_, i) =>
          run(process.execPath, [CLI, 'install', 'node@22.12.0'], {
            env: { ...process.env, QM_HOME: path.join(round, `home-${i}`), QM_MIRROR_NODE: base, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' },
          }),
        )),
      );
      return { wallMs, upstreamBytes: upstreamBytes() };
    } finally {
      await fs.rm(round, { recursive: true, force: true });
    }
  }

  async function throughNginx(location: Partial<NginxLocation>, warm: boolean): Promise<{ wallMs: number; upstreamBytes: number }> {
    const nginx = await NginxCache.start([{ match: '/dist/', upstream: `${mirror.url}/dist/`, cache: true, ...location }]);
    try {
      if (warm) await eightHomes(`${nginx.url}/dist`);
      return await eightHomes(`${nginx.url}/dist`);
    } finally {
      await nginx.stop();
    }
  }

  const scenarios: Array<{ label: string; measure: () => Promise<{ wallMs: number; upstreamBytes: number }> }> = [
    { label: 'direct from upstream', measure: () => eightHomes(`${mirror.url}/dist`) },
    { label: 'nginx proxy_cache, cold', measure: () => throughNginx({}, false) },
    { label: 'nginx proxy_cache, warm', measure: () => throughNginx({}, true) },
    { label: 'nginx slice 1m, cold', measure: () => throughNginx({ slice: '1m' }, false) },
  ];

  try {
    for (const pace of [undefined, WAN_BYTES_PER_SECOND]) {
      mirror.clearFaults();
      if (pace !== undefined) for (const a of artifacts) mirror.fault(a.path, { kind: 'throttle', bytesPerSecond: pace });
      const rows: Row[] = [];
      for (const scenario of scenarios) {
        const samples = [];
        for (let i = 0; i < ROUNDS; i++) samples.push(await scenario.measure());
        rows.push({ label: scenario.label, wallMs: median(samples.map((s) => s.wallMs)), upstreamBytes: median(samples.map((s) => s.upstreamBytes)) });
      }
      const upstream = pace === undefined ? 'upstream on loopback, unpaced' : `each upstream response paced at ${(pace / (1024 * 1024)).toFixed(0)} MiB/s`;
      console.log(`${HOMES} homes installing node 22.12.0 at once (${(archive.size / (1024 * 1024)).toFixed(1)} MB archive), ${upstream}, median of ${ROUNDS}:`);
      const direct = rows[0]!;
      for (const row of rows) {
        const ratio = row === direct ? '' : `  ${(row.wallMs / direct.wallMs).toFixed(2)}x direct`;
        console.log(`  ${row.label.padEnd(26)} wall ${row.wallMs.toFixed(0).padStart(6)} ms${ratio.padEnd(16)}  upstream ${(row.upstreamBytes / (1024 * 1024)).toFixed(1).padStart(6)} MB = ${(row.upstreamBytes / archive.size).toFixed(2)}x the archive`);
      }
    }
  } finally {
    await mirror.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
