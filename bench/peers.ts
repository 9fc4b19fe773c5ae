// The benchmark's peers and how a run is measured: mise from the npm registry, the curl | tar
// pipeline, and a child process timed on the wall clock with its CPU time from the kernel.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * mise as npm publishes it. The `@jdxcode/mise` package only holds a preinstall script that
 * fetches the binary for this platform (npm skips it here, and its download would fail offline);
 * the binary itself is the platform package, a plain registry tarball.
 */
export const MISE_PACKAGE = '@jdxcode/mise-linux-x64';
export const MISE_VERSION = '2026.9.15';

/** Installs mise into `cache` once (a .partial directory renamed when whole); returns the binary. */
export async function installMise(cache: string, log: (line: string) => void): Promise<{ bin: string; version: string }> {
  const dir = path.join(cache, `mise-${MISE_VERSION}`);
  const bin = path.join(dir, 'node_modules', ...MISE_PACKAGE.split('/'), 'bin', 'mise');
  if (!(await exists(bin))) {
    log(`installing ${MISE_PACKAGE}@${MISE_VERSION} from the npm registry into ${dir} (once)`);
    const partial = `${dir}.partial-${process.pid}`;
    await fs.rm(partial, { recursive: true, force: true });
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
    await run('npm', ['install', '--prefix', partial, '--no-audit', '--no-fund', '--no-save', `${MISE_PACKAGE}@${MISE_VERSION}`], { env });
    await fs.rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
      await fs.rm(partial, { recursive: true, force: true });
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  }
  const { stdout } = await run(bin, ['--version']);
  return { bin, version: stdout.trim() };
}

/** Everything mise reads or writes goes under `base`; node comes from the loopback mirror, unsigned. */
export function miseEnv(base: string, mirror: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: path.join(base, 'home'),
    XDG_CONFIG_HOME: path.join(base, 'xdg-config'),
    XDG_DATA_HOME: path.join(base, 'xdg-data'),
    XDG_CACHE_HOME: path.join(base, 'xdg-cache'),
    XDG_STATE_HOME: path.join(base, 'xdg-state'),
    MISE_DATA_DIR: path.join(base, 'data'),
    MISE_CACHE_DIR: path.join(base, 'cache'),
    MISE_CONFIG_DIR: path.join(base, 'config'),
    MISE_STATE_DIR: path.join(base, 'state'),
    MISE_NODE_MIRROR_URL: `${mirror}/`,
    MISE_NODE_GPG_VERIFY: 'false',
    // Version lists from the mirror's index.json, not mise's own version host.
    MISE_USE_VERSIONS_HOST: 'false',
    MISE_YES: '1',
  };
}

export function miseInstallDir(base: string, version: string): string {
  return path.join(base, 'data', 'installs', 'node', version.replace(/^v/, ''));
}

let runs = 0;

export interface Measured {
  wallMs: number;
  /** CPU time of the process and every descendant it waited for (threads, xz, ...). */
  userMs: number;
  sysMs: number;
  stdout: string;
}

/**
 * Runs `command` through bash, whose `times` builtin reports the CPU its children used
 * (getrusage RUSAGE_CHILDREN), and times it on the monotonic clock. bash's own start-up is
 * the same for every contender. Fails when the command does.
 */
export async function measured(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Measured> {
  const script = '"$@" > "$QM_BENCH_OUT" 2> "$QM_BENCH_ERR"; status=$?; times; exit $status';
  const out = path.join(options.cwd ?? '/tmp', `.bench-out-${process.pid}-${++runs}`);
  const err = `${out}.err`;
  const start = process.hrtime.bigint();
  const child = spawn('bash', ['-c', script, 'bench', command, ...args], {
    env: { ...options.env, QM_BENCH_OUT: out, QM_BENCH_ERR: err },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (report += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const [stdout, stderr] = await Promise.all([fs.readFile(out, 'utf8').catch(() => ''), fs.readFile(err, 'utf8').catch(() => '')]);
  await Promise.all([fs.rm(out, { force: true }), fs.rm(err, { force: true })]);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join('\n')}`);
  // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.056s".
  const children = report.trim().split('\n').at(-1)!.match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
  if (!children) throw new Error(`bash times printed ${report}`);
  const ms = (minutes: string, seconds: string): number => (Number(minutes) * 60 + Number(seconds)) * 1000;
  return { wallMs, userMs: ms(children[1]!, children[2]!), sysMs: ms(children[3]!, children[4]!), stdout };
}

/** The second peer: download, hash and unpack in one shell pipeline. */
export function curlPipeline(url: string, kind: 'tar.gz' | 'tar.xz', target: string): [string, string[]] {
  const unpack = kind === 'tar.gz' ? 'xzf' : 'xJf';
  return ['bash', ['-c', `set -o pipefail; curl -sSf "$1" | tee >(sha256sum > "$2.sha256") | tar ${unpack} - -C "$2"`, 'curl-tar', url, target]];
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
