// Install benchmark: a cold install of a ~50 MB Node.js toolchain from the local mirror, beside
// `curl -s URL | tee >(sha256sum) | tar xz` on the same archive in the same run; then 8 `qm
// install` processes of the same version at once on one fresh QM_HOME.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { installPlan } from '../src/core/install/install-plan';
import { parsePlatform } from '../src/core/platform';
import { resolvePlan } from '../src/core/plan/plan';
import { createCore } from '../src/core/services';
import { ForkedMirror } from './forked-mirror';
import { median, timed } from './measure';

const run = promisify(execFile);
const PAYLOAD = Number(process.env.QM_BENCH_PAYLOAD ?? 50 * 1024 * 1024);
const ROUNDS = Number(process.env.QM_BENCH_ROUNDS ?? 5);
const CLI = path.join(__dirname, '..', 'out', 'cli.js');



async function main(): Promise<void> {
  await fs.access(CLI).catch(() => {
    throw new Error('bench/install.ts runs the built CLI: run "npm run build" first');
  });
  const mirror = await ForkedMirror.start('dist-server.ts', [String(PAYLOAD)]);
  const { url, sha256, size } = mirror.artifact;
  const mirrorBase = (mirror.artifact as unknown as { mirror: string }).mirror;
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-bench-install-'));
  const env = { ...process.env, QM_MIRROR_NODE: mirrorBase, QM_PLATFORM: 'linux-x64' };
  try {
    const curlMs: number[] = [];
    const apiMs: number[] = [];
    const cliMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const target = path.join(scratch, `curl-${round}`);
      await fs.mkdir(target);
      curlMs.push(await timed(() => run('bash', ['-c', `curl -s "${url}" | tee >(sha256sum > "${target}.sum") | tar xz -C "${target}"`])));

      const core = createCore({ home: path.join(scratch, `api-${round}`), env });
      await core.manager.recover();
      apiMs.push(await timed(async () => {
        const manifest = { file: path.join(scratch, 'qm.toml'), dir: scratch, tools: [{ name: 'node', spec: '22.12.0' }], artifacts: [] };
        const plan = await resolvePlan(manifest, { providers: core.providers, platform: parsePlatform('linux-x64') });
        await installPlan(plan, core);
      }));
      await core.close();

      cliMs.push(await timed(() => run(process.execPath, [CLI, 'install', 'node@22.12.0'], { env: { ...env, QM_HOME: path.join(scratch, `cli-${round}`) } })));
    }
    const curl = median(curlMs);
    const api = median(apiMs);
    const cli = median(cliMs);
    const mb = size / (1024 * 1024);
    console.log(`cold install of node 22.12.0 (${mb.toFixed(1)} MB tar.gz, sha256 ${sha256.slice(0, 12)}), median of ${ROUNDS}:`);
    console.log(`  curl | tee >(sha256sum) | tar xz   ${curl.toFixed(0)} ms`);
    console.log(`  core install (resolve+fetch+verify+extract+publish)   ${api.toFixed(0)} ms   ratio ${(api / curl).toFixed(2)}x`);
    console.log(`  qm install (whole CLI process)     ${cli.toFixed(0)} ms   ratio ${(cli / curl).toFixed(2)}x`);

    await mirror.reset();
    const shared = path.join(scratch, 'eight');
    const eight = await timed(() =>
      Promise.all(Array.from({ length: 8 }, () => run(process.execPath, [CLI, 'install', 'node@22.12.0'], { env: { ...env, QM_HOME: shared } }))),
    );
    const stats = await mirror.stats();
    console.log(`8 concurrent qm install of the same version on one QM_HOME:`);
    console.log(`  wall ${eight.toFixed(0)} ms = ${(eight / cli).toFixed(2)}x one install; GETs served ${stats.gets}; bytes served ${(stats.bytesSent / size).toFixed(2)}x the archive`);
  } finally {
    mirror.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
