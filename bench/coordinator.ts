// Coordinator benchmark: what asking a `qm coordinator` process costs over doing the work in
// process. (1) Round-trip latency of an install request for a toolchain already installed,
// through a CoordinatorClient vs a direct core call (resolvePlan + installPlan), p50/p95 over
// many requests. (2) A cold install of a ~50 MB Node.js toolchain on a fresh QM_HOME each round,
// through the coordinator vs direct, median of 5.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { CoordinatorClient } from '../src/core/coordinator/client';
import { installPlan } from '../src/core/install/install-plan';
import { parsePlatform } from '../src/core/platform';
import { resolvePlan } from '../src/core/plan/plan';
import { createCore, type CoreServices } from '../src/core/services';
import type { ToolSpec } from '../src/shared/protocol';
import { ForkedMirror } from './forked-mirror';
import { percentile, timed } from './measure';

const PAYLOAD = Number(process.env.QM_BENCH_PAYLOAD ?? 50 * 1024 * 1024);
const ROUNDS = Number(process.env.QM_BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.QM_BENCH_REQUESTS ?? 500);
const CLI = path.join(__dirname, '..', 'out', 'cli.js');
const TOOLS: ToolSpec[] = [{ name: 'node', spec: '22.12.0' }];
const PLATFORM = parsePlatform('linux-x64');



/** A `qm coordinator` process serving one QM_HOME, and a client connected to it. */
class ServedHome {
  private jobs = 0;

  private constructor(private readonly child: ChildProcess, readonly client: CoordinatorClient) {}

  static async start(home: string, env: NodeJS.ProcessEnv): Promise<ServedHome> {
    const child = spawn(process.execPath, [CLI, 'coordinator', '--json'], { env: { ...env, QM_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`qm coordinator exited with ${String(code)} before saying its role`);
    });
    const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
    const { role, endpoint } = JSON.parse(line) as { role: string; endpoint: string };
    if (role !== 'leader') throw new Error(`the bench coordinator should lead ${home}, but is ${role}`);
    const probe = await CoordinatorClient.probe(endpoint, home);
    if (probe.state !== 'serving') throw new Error(`the bench coordinator at ${endpoint} does not answer: ${probe.state}`);
    return new ServedHome(child, probe.client);
  }

  install(): Promise<unknown> {
    return this.client.install({ jobId: `bench-${++this.jobs}`, requester: { kind: 'command', pid: process.pid, label: 'bench' }, tools: TOOLS });
  }

  async stop(): Promise<void> {
    this.client.dispose();
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** The same request, answered in this process. */
async function installDirect(core: CoreServices, home: string): Promise<unknown> {
  const source = { file: path.join(home, '(bench)'), dir: home, tools: TOOLS, artifacts: [] };
  return installPlan(await resolvePlan(source, { providers: core.providers, platform: PLATFORM }), core);
}

async function latency(scratch: string, env: NodeJS.ProcessEnv): Promise<void> {
  const home = path.join(scratch, 'warm');
  const served = await ServedHome.start(home, env);
  const core = createCore({ home, env });
  try {
    await served.install(); // installs it, and warms the coordinator's index cache
    await installDirect(core, home); // warms this process's index cache
    const viaCoordinator: number[] = [];
    const direct: number[] = [];
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < REQUESTS; i++) {
      viaCoordinator.push(await timed(() => served.install()));
      direct.push(await timed(() => installDirect(core, home)));
    }
    const row = (label: string, values: number[]): string =>
      `  ${label.padEnd(42)} p50 ${percentile(values, 50).toFixed(3)} ms   p95 ${percentile(values, 95).toFixed(3)} ms`;
    console.log(`install request for an installed toolchain (node 22.12.0), ${REQUESTS} requests each:`);
    console.log(row('through the coordinator (CoordinatorClient)', viaCoordinator));
    console.log(row('direct core call (resolvePlan+installPlan)', direct));
    console.log(`  p50 ratio ${(percentile(viaCoordinator, 50) / percentile(direct, 50)).toFixed(2)}x`);
  } finally {
    await served.stop();
    await core.close();
  }
}

async function cold(scratch: string, env: NodeJS.ProcessEnv, size: number): Promise<void> {
  const viaCoordinator: number[] = [];
  const direct: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const served = await ServedHome.start(path.join(scratch, `coordinator-${round}`), env);
    try {
      viaCoordinator.push(await timed(() => served.install()));
    } finally {
      await served.stop();
    }
    const home = path.join(scratch, `direct-${round}`);
    const core = createCore({ home, env });
    try {
      await core.manager.recover();
      direct.push(await timed(() => installDirect(core, home)));
    } finally {
      await core.close();
    }
  }
  const coordinatorMs = percentile(viaCoordinator, 50);
  const directMs = percentile(direct, 50);
  console.log(`cold install of node 22.12.0 (${(size / (1024 * 1024)).toFixed(1)} MB tar.gz) on a fresh QM_HOME, median of ${ROUNDS}:`);
  console.log(`  through the coordinator   ${coordinatorMs.toFixed(0)} ms   (${viaCoordinator.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`  direct core call          ${directMs.toFixed(0)} ms   (${direct.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`  ratio ${(coordinatorMs / directMs).toFixed(2)}x`);
}

async function main(): Promise<void> {
  await fs.access(CLI).catch(() => {
    throw new Error('bench/coordinator.ts runs the built CLI: run "npm run build" first');
  });
  const mirror = await ForkedMirror.start('dist-server.ts', [String(PAYLOAD)]);
  const mirrorBase = (mirror.artifact as unknown as { mirror: string }).mirror;
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-bench-coordinator-'));
  const env: NodeJS.ProcessEnv = { ...process.env, QM_MIRROR_NODE: mirrorBase, QM_PLATFORM: 'linux-x64' };
  try {
    await latency(scratch, env);
    await cold(scratch, env, mirror.artifact.size);
  } finally {
    mirror.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
