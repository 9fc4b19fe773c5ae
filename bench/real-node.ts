// Install benchmark on a real toolchain (issue 12): qm against mise from npm and against
// `curl | tee >(sha256sum) | tar x`, on the official Node.js 22.12.0 linux-x64 tree rebuilt from
// npm packages (test/fixtures/real-node-release.ts), served by a loopback mirror in the
// nodejs.org/dist layout. Each row's peer runs in the same run, interleaved round by round (the
// order rotates), and the row prints every run, the medians, their ratio and the load average.
// Every installed tree is compared with the release's per-file manifest.
//   npm run build && node --import tsx bench/real-node.ts
// QM_BENCH_ROUNDS (default 5) runs per contender of a cold install; QM_BENCH_SLOW_ROUNDS (3) of the
// 8-way and throttled rows; QM_BENCH_STARTS (30) of each start-up command; QM_BENCH_ROWS picks
// rows (tmpfs,disk,eight,throttled,startup); QM_REAL_NODE_CACHE moves the fixture and mise cache.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareTree, realNodeCache, type TreeEntry } from '../test/fixtures/real-node-release';
import { median } from './measure';
import { curlPipeline, installMise, measured, miseEnv, miseInstallDir, type Measured } from './peers';
import { RealMirror } from './real-mirror-client';

const ROUNDS = Number(process.env.QM_BENCH_ROUNDS ?? 5);
const SLOW_ROUNDS = Number(process.env.QM_BENCH_SLOW_ROUNDS ?? 3);
const STARTS = Number(process.env.QM_BENCH_STARTS ?? 30);
const ROWS = new Set((process.env.QM_BENCH_ROWS ?? 'tmpfs,disk,eight,throttled,startup').split(','));
/** 12 MiB/s, about 100 Mbit/s. */
const THROTTLE = 12 * 1024 * 1024;
const CLI = path.join(__dirname, '..', 'out', 'cli.js');
const VERSION = '22.12.0';
const RECEIPT = '.qm-receipt.json';
/** mise replaces bin/npm with a bash wrapper that runs `mise reshim` after global installs. */
const MISE_WRAPPED = ['bin/npm'];

interface Summary {
  label: string;
  qm: string;
  peer: string;
  ratio: number;
  goal?: number;
}
const summary: Summary[] = [];

interface World {
  mirror: RealMirror;
  manifest: TreeEntry[];
  mise: string;
}

type Contender = (base: string) => Promise<Measured>;

async function main(): Promise<void> {
  await fs.access(CLI).catch(() => {
    throw new Error('bench/real-node.ts runs the built CLI: run "npm run build" first');
  });
  const log = (line: string): void => console.error(`bench: ${line}`);
  const cache = await realNodeCache();
  const [mirror, mise] = await Promise.all([RealMirror.start(), installMise(cache, log)]);
  const manifest = JSON.parse(await fs.readFile(mirror.ready.manifestFile, 'utf8')) as TreeEntry[];
  const world: World = { mirror, manifest, mise: mise.bin };
  const gz = mirror.ready.archives.both['tar.gz']!;
  const xz = mirror.ready.archives.both['tar.xz']!;
  console.log(`Real Node.js ${mirror.ready.version} linux-x64 tree: ${manifest.length} entries, ${mb(manifest.reduce((sum, e) => sum + (e.size ?? 0), 0))}; .tar.gz ${mb(gz.size)}, .tar.xz ${mb(xz.size)}`);
  console.log(`peers: ${mise.version} (npm ${'@jdxcode/mise-linux-x64'}), curl | tee >(sha256sum) | tar x; ${os.cpus().length} CPUs; load ${load()}`);
  const tmpfs = await scratch('/dev/shm');
  const disk = await scratch(os.tmpdir());
  try {
    if (ROWS.has('tmpfs')) await coldRow(world, 'cold install, loopback, tmpfs', tmpfs, true);
    if (ROWS.has('disk')) await coldRow(world, 'cold install, loopback, disk', disk, false);
    if (ROWS.has('eight')) await eightRow(world, tmpfs);
    if (ROWS.has('throttled')) await throttledRow(world, tmpfs);
    if (ROWS.has('startup')) await startupRow(world, tmpfs);
  } finally {
    mirror.close();
    await Promise.all([tmpfs, disk].map((dir) => fs.rm(dir, { recursive: true, force: true })));
  }
  console.log(`\n| case | qm | peer | ratio | goal |\n|---|---|---|---|---|`);
  for (const row of summary) {
    const goal = row.goal === undefined ? '' : `≤ ${row.goal.toFixed(2)}× ${row.ratio <= row.goal ? 'met' : 'NOT met'}`;
    console.log(`| ${row.label} | ${row.qm} | ${row.peer} | ${row.ratio.toFixed(2)}× | ${goal} |`);
  }
  console.log(`load at the end: ${load()}`);
}

// ---- rows --------------------------------------------------------------------------------------

/** qm, mise and curl | tar each install into a fresh directory under `root`, ROUNDS times. */
async function coldRow(world: World, label: string, root: string, withCpu: boolean): Promise<void> {
  const fsType = await fileSystemOf(root);
  console.log(`\n${label} (${root}, ${fsType}), ${ROUNDS} rounds, load ${load()}:`);
  const { mirrors, archives } = world.mirror.ready;
  const runs = await rounds(ROUNDS, {
    qm: (base) => qmInstall(world, base, mirrors.both),
    mise: (base) => miseInstall(world, base, mirrors.both),
    'curl | tar xz': (base) => curlInstall(world, base, archives.both['tar.gz']!.url, 'tar.gz'),
  }, root);
  report(runs);
  const qm = median(runs.qm!.map((r) => r.wallMs));
  const mise = median(runs.mise!.map((r) => r.wallMs));
  summary.push({ label: `${label} (${fsType})`, qm: ms(qm), peer: `mise ${ms(mise)}`, ratio: qm / mise, ...(withCpu ? { goal: 1 } : {}) });
  if (withCpu) {
    const qmUser = median(runs.qm!.map((r) => r.userMs));
    const miseUser = median(runs.mise!.map((r) => r.userMs));
    console.log(`  user CPU per install: qm ${ms(qmUser)}, mise ${ms(miseUser)}: ${(qmUser / miseUser).toFixed(2)}× (sys: qm ${ms(median(runs.qm!.map((r) => r.sysMs)))}, mise ${ms(median(runs.mise!.map((r) => r.sysMs)))})`);
    summary.push({ label: 'user CPU for that install', qm: ms(qmUser), peer: `mise ${ms(miseUser)}`, ratio: qmUser / miseUser, goal: 1.5 });
  }
}

/** 8 processes install the same version into one fresh home at once; GETs counted, the tree checked. */
async function eightRow(world: World, root: string): Promise<void> {
  console.log(`\n8 concurrent installs of node ${VERSION} into one fresh home (tmpfs), ${SLOW_ROUNDS} rounds, load ${load()}:`);
  const { mirrors } = world.mirror.ready;
  const walls: Record<'qm' | 'mise', number[]> = { qm: [], mise: [] };
  /** CPU (user + sys) of all 8 processes together: what the waiters cost the one doing the work on 2 cores. */
  const cpus: Record<'qm' | 'mise', number[]> = { qm: [], mise: [] };
  for (let round = 0; round < SLOW_ROUNDS; round++) {
    for (const who of round % 2 === 0 ? (['qm', 'mise'] as const) : (['mise', 'qm'] as const)) {
      const base = path.join(root, `eight-${who}-${round}`);
      await world.mirror.reset();
      const start = process.hrtime.bigint();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (who === 'qm' ? qmInstall(world, base, mirrors.both, { verify: false }) : miseInstall(world, base, mirrors.both, { verify: false, cwd: `${i}` }))),
      );
      walls[who].push(Number(process.hrtime.bigint() - start) / 1e6);
      cpus[who].push(results.reduce((sum, r) => sum + r.userMs + r.sysMs, 0));
      const perProcess = results.map((r) => (r.userMs + r.sysMs).toFixed(0)).join(' ');
      const gets = countGets(await world.mirror.stats());
      const dir = who === 'qm' ? qmDir(base) : miseInstallDir(base, VERSION);
      if (who === 'qm' && !results.every((r) => r.stdout.includes(dir))) throw new Error(`not every qm process reports ${dir}: ${results.map((r) => r.stdout.trim()).join(' / ')}`);
      await verifyTree(world, dir, who === 'qm' ? [RECEIPT] : MISE_WRAPPED);
      console.log(`  round ${round + 1} ${who.padEnd(4)} ${ms(walls[who].at(-1)!)}, CPU ${ms(cpus[who].at(-1)!)} (${perProcess}), archive GETs ${gets}, all 8 exited 0, tree matches the manifest, load ${load()}`);
      await fs.rm(base, { recursive: true, force: true });
    }
  }
  const qm = median(walls.qm);
  const mise = median(walls.mise);
  console.log(`  median: qm ${ms(qm)}, mise ${ms(mise)}: ${(qm / mise).toFixed(2)}×; CPU of the 8: qm ${ms(median(cpus.qm))}, mise ${ms(median(cpus.mise))}: ${(median(cpus.qm) / median(cpus.mise)).toFixed(2)}×`);
  summary.push({ label: '8 processes, same version, one fresh home', qm: ms(qm), peer: `mise ${ms(mise)}`, ratio: qm / mise, goal: 1 });
}

/** A 12 MiB/s link: qm choosing by itself, qm held to each archive, mise, and curl with each. */
async function throttledRow(world: World, root: string): Promise<void> {
  console.log(`\nover a ${mb(THROTTLE)}/s link (the mirror paces every response), tmpfs, ${SLOW_ROUNDS} rounds, load ${load()}:`);
  const { mirrors, archives } = world.mirror.ready;
  await world.mirror.throttle(THROTTLE);
  try {
    const runs = await rounds(SLOW_ROUNDS, {
      'qm (chooses)': (base) => qmInstall(world, base, mirrors.both),
      'qm, .tar.gz only': (base) => qmInstall(world, base, mirrors['tar.gz']),
      'qm, .tar.xz only': (base) => qmInstall(world, base, mirrors['tar.xz']),
      mise: (base) => miseInstall(world, base, mirrors.both),
      'curl | tar xz': (base) => curlInstall(world, base, archives.both['tar.gz']!.url, 'tar.gz'),
      'curl | tar xJ': (base) => curlInstall(world, base, archives.both['tar.xz']!.url, 'tar.xz'),
    }, root);
    report(runs);
    const mise = median(runs.mise!.map((r) => r.wallMs));
    for (const [name, goal] of [['qm (chooses)', 0.7], ['qm, .tar.gz only', undefined], ['qm, .tar.xz only', undefined]] as const) {
      const qm = median(runs[name]!.map((r) => r.wallMs));
      summary.push({ label: `${mb(THROTTLE)}/s link, ${name}`, qm: ms(qm), peer: `mise ${ms(mise)}`, ratio: qm / mise, ...(goal ? { goal } : {}) });
    }
  } finally {
    await world.mirror.throttle(0);
  }
}

/** Start-up of the fast commands against bare `node -e 0`, in a project whose node is installed. */
async function startupRow(world: World, root: string): Promise<void> {
  const base = path.join(root, 'startup');
  const project = path.join(base, 'project');
  await fs.mkdir(project, { recursive: true });
  await fs.writeFile(path.join(project, 'qm.toml'), `[tools]\nnode = "${VERSION}"\n`);
  await qmInstall(world, base, world.mirror.ready.mirrors.both);
  const env = qmEnv(base, world.mirror.ready.mirrors.both);
  const commands: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'qm --version': [CLI, '--version'],
    'qm which node': [CLI, 'which', 'node'],
    'qm env': [CLI, 'env'],
    'qm exec -- true': [CLI, 'exec', '--', 'true'],
  };
  console.log(`\nstart-up in a project with qm.toml (node = "${VERSION}", installed), ${STARTS} runs each, interleaved, load ${load()}:`);
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let i = 0; i < STARTS + 3; i++) {
    for (const [name, args] of Object.entries(commands)) {
      const wall = await timeProcess(process.execPath, args, env, project);
      if (i >= 3) times[name]!.push(wall); // the first runs warm the page cache
    }
  }
  const bare = median(times['node -e 0']!);
  for (const [name, values] of Object.entries(times)) {
    const value = median(values);
    console.log(`  ${name.padEnd(16)} ${ms(value).padStart(8)}  ${(value / bare).toFixed(2)}×   (p10 ${ms(percentileOf(values, 10))}, p90 ${ms(percentileOf(values, 90))})`);
    if (name !== 'node -e 0') summary.push({ label: `\`${name}\` vs bare \`node -e 0\``, qm: ms(value), peer: `node ${ms(bare)}`, ratio: value / bare, goal: 1.25 });
  }
  await fs.rm(base, { recursive: true, force: true });
}

// ---- contenders --------------------------------------------------------------------------------

function qmEnv(base: string, mirror: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('QM_') && !/^npm_/i.test(name)));
  return { ...inherited, QM_HOME: path.join(base, 'home'), QM_MIRROR_NODE: mirror, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' };
}

function qmDir(base: string): string {
  return path.join(base, 'home', 'toolchains', 'node', `${VERSION}-linux-x64`);
}

async function qmInstall(world: World, base: string, mirror: string, options: { verify?: boolean } = {}): Promise<Measured> {
  await fs.mkdir(base, { recursive: true });
  const result = await measured(process.execPath, [CLI, 'install', `node@${VERSION}`], { env: qmEnv(base, mirror), cwd: base });
  if (options.verify !== false) await verifyTree(world, qmDir(base), [RECEIPT]);
  return result;
}

async function miseInstall(world: World, base: string, mirror: string, options: { verify?: boolean; cwd?: string } = {}): Promise<Measured> {
  const env = miseEnv(base, mirror);
  const cwd = path.join(env.HOME!, options.cwd ?? '');
  await fs.mkdir(cwd, { recursive: true });
  const result = await measured(world.mise, ['install', `node@${VERSION}`], { env, cwd });
  if (options.verify !== false) await verifyTree(world, miseInstallDir(base, VERSION), MISE_WRAPPED);
  return result;
}

async function curlInstall(world: World, base: string, url: string, kind: 'tar.gz' | 'tar.xz'): Promise<Measured> {
  const target = path.join(base, 'tree');
  await fs.mkdir(target, { recursive: true });
  const [command, args] = curlPipeline(url, kind, target);
  const result = await measured(command, args, { env: process.env, cwd: base });
  await verifyTree(world, path.join(target, path.basename(world.mirror.ready.tree)), []);
  return result;
}

async function verifyTree(world: World, dir: string, extra: string[]): Promise<void> {
  const problems = await compareTree(dir, world.manifest, extra);
  if (problems.length > 0) throw new Error(`${dir} does not match the release:\n  ${problems.join('\n  ')}`);
}

// ---- measuring ---------------------------------------------------------------------------------

/** Each contender `count` times into fresh directories, the order rotating every round. */
async function rounds(count: number, contenders: Record<string, Contender>, root: string): Promise<Record<string, Measured[]>> {
  const names = Object.keys(contenders);
  const runs: Record<string, Measured[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < count; round++) {
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of order) {
      const base = path.join(root, `${name.replace(/[^a-z0-9]+/gi, '-')}-${round}`);
      runs[name]!.push(await contenders[name]!(base));
      await fs.rm(base, { recursive: true, force: true });
    }
  }
  return runs;
}

function report(runs: Record<string, Measured[]>): void {
  for (const [name, values] of Object.entries(runs)) {
    const walls = values.map((r) => r.wallMs);
    console.log(
      `  ${name.padEnd(18)} ${ms(median(walls)).padStart(8)}   user ${ms(median(values.map((r) => r.userMs))).padStart(7)}  sys ${ms(median(values.map((r) => r.sysMs))).padStart(7)}   (${walls.map((w) => w.toFixed(0)).join(', ')})`,
    );
  }
}

function countGets(stats: Record<string, { gets: number; rangeRequests: number }>): string {
  return Object.entries(stats)
    .filter(([, s]) => s.gets + s.rangeRequests > 0)
    .map(([file, s]) => `${s.gets}${s.rangeRequests ? ` (+${s.rangeRequests} ranged)` : ''} of ${path.basename(file)}`)
    .join(', ') || 'none';
}

function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { env, cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function scratch(parent: string): Promise<string> {
  return fs.mkdtemp(path.join(parent, 'qm-bench-real-'));
}

async function fileSystemOf(dir: string): Promise<string> {
  const { stdout } = await new Promise<{ stdout: string }>((resolve) => {
    const child = spawn('stat', ['-f', '-c', '%T', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('close', () => resolve({ stdout: out }));
    child.once('error', () => resolve({ stdout: '?' }));
  });
  const type = stdout.trim();
  return type === 'ext2/ext3' ? 'ext4' : type; // stat names every ext* file system ext2/ext3
}

function load(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
