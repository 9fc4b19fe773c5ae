// The CLI tour (npm run demo:cli): start the bundled local mirror (generated Node.js, Go, Zig,
// Python, Java, Rust, Deno and Bun releases in their upstream layouts), copy the sample project
// to a scratch directory, and run the real `qm` CLI against it: install everything, install Deno
// and Bun by name, then run each tool.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { publishAllDists } from '../test/fixtures/all-dists';
import { MirrorServer } from '../test/fixtures/mirror-server';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'out', 'cli.js');
const run = promisify(execFile);

/** Runs qm with its output shown as it comes, like a person at a terminal would see it. */
function qm(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  console.log(`\n$ qm ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`qm ${args.join(' ')} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const server = await MirrorServer.start();
  const payloadBytes = 4 * 1024 * 1024;
  const mirrors = await publishAllDists(server, { payloadBytes });
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'quartermaster-main-'));
  const project = path.join(scratch, 'sample-project');
  await fs.cp(path.join(ROOT, 'demo', 'sample-project'), project, { recursive: true });
  const env = {
    ...process.env,
    QM_HOME: process.env.QM_HOME ?? path.join(scratch, 'qm-home'),
    ...mirrors,
  };
  console.log(`local mirror: ${server.url} (nodejs.org/dist, go.dev/dl, ziglang.org/download, api.adoptium.net, static.rust-lang.org and GitHub layouts)`);
  console.log(`QM_HOME:      ${env.QM_HOME}`);
  console.log(`project:      ${project}`);
  try {
    await qm(['install'], project, env);
    await qm(['install', 'deno@2', 'bun@1.1'], project, env);
    await qm(['lock', '--platform', 'linux-x64', '--platform', 'darwin-arm64'], project, env);
    await qm(['list'], project, env);
    const programs = [
      ['node', ['--version']],
      ['go', ['version']],
      ['zig', ['version']],
      ['python3', ['--version']],
      ['java', ['-version']],
      ['rustc', ['--version']],
      ['cargo', ['--version']],
    ] as const;
    for (const [program, args] of programs) {
      const pathOf = (await run(process.execPath, [CLI, 'which', program], { cwd: project, env })).stdout.trim();
      const output = (await run(process.execPath, [CLI, 'exec', '--', program, ...args], { cwd: project, env })).stdout.trim();
      console.log(`\n${program}: ${pathOf}\n  $ ${program} ${args.join(' ')}  ->  ${output.replaceAll('\n', ' | ')}`);
    }
    // Named on the command line rather than declared: qm exec installs what is missing and runs it.
    for (const [tool, program] of [['deno@2', 'deno'], ['bun@1.1', 'bun']] as const) {
      const output = (await run(process.execPath, [CLI, 'exec', tool, '--', program, '--version'], { cwd: project, env })).stdout.trim();
      console.log(`\n  $ qm exec ${tool} -- ${program} --version  ->  ${output}`);
    }
    await qm(['env'], project, env);
    await qm(['doctor'], project, env);
    console.log(`\nDone. The project and its qm.lock are in ${project}.`);
  } finally {
    await server.close();
  }
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
