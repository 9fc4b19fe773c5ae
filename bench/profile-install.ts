// Where an install's CPU goes: runs `qm install node@22.12.0` against the real-release mirror
// (bench/real-mirror.ts) into tmpfs, QM_PROFILE_RUNS times, printing user/sys CPU per run, and
// with QM_PROFILE_DIR set writes V8 CPU profiles (main thread and extraction worker) there.
//   npm run build && QM_PROFILE_DIR=/tmp/prof node --import tsx bench/profile-install.ts
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { measured } from './peers';
import { RealMirror } from './real-mirror-client';

const CLI = path.join(__dirname, '..', 'out', 'cli.js');
const RUNS = Number(process.env.QM_PROFILE_RUNS ?? 3);

async function main(): Promise<void> {
  const mirror = await RealMirror.start();
  const root = await fs.mkdtemp(path.join('/dev/shm', 'qm-profile-'));
  const profileDir = process.env.QM_PROFILE_DIR;
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=250'] : [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const base = path.join(root, `run-${run}`);
      await fs.mkdir(base, { recursive: true });
      const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('QM_') && !/^npm_/i.test(name)));
      const env = { ...inherited, QM_HOME: path.join(base, 'home'), QM_MIRROR_NODE: mirror.ready.mirrors.both, QM_PLATFORM: 'linux-x64', QM_COORDINATOR: 'off' };
      const version = await measured(process.execPath, [...flags, CLI, '--version'], { env, cwd: base });
      const install = await measured(process.execPath, [...flags, CLI, 'install', 'node@22.12.0'], { env, cwd: base });
      console.log(`run ${run + 1}: install wall ${install.wallMs.toFixed(0)} ms, user ${install.userMs.toFixed(0)} ms, sys ${install.sysMs.toFixed(0)} ms; --version user ${version.userMs.toFixed(0)} ms; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      await fs.rm(base, { recursive: true, force: true });
    }
  } finally {
    mirror.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
