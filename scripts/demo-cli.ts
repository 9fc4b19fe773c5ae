// The CLI tour (npm run demo:cli): start the bundled local mirror (generated Node.js, Go
// and Zig releases in their upstream layouts), copy the sample project to a scratch directory,
// and run the real `qm` CLI against it: install everything, then run each tool.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../test/fixtures/go-dist';
import { MirrorServer } from '../test/fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../test/fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist } from '../test/fixtures/zig-dist';

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
  await Promise.all([
    publishNodeDist(server, DEFAULT_RELEASES, { payloadBytes }),
    publishGoDist(server, DEFAULT_GO_RELEASES, { payloadBytes }),
    publishZigDist(server, DEFAULT_ZIG_RELEASES, { payloadBytes }),
  ]);
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'quartermaster-main-'));
  const project = path.join(scratch, 'sample-project');
  await fs.cp(path.join(ROOT, 'demo', 'sample-project'), project, { recursive: true });
  const env = {
    ...process.env,
    QM_HOME: process.env.QM_HOME ?? path.join(scratch, 'qm-home'),
    QM_MIRROR_NODE: `${server.url}/dist`,
    QM_MIRROR_GO: `${server.url}/dl`,
    QM_MIRROR_ZIG: `${server.url}/download`,
  };
  console.log(`local mirror: ${server.url} (nodejs.org/dist, go.dev/dl and ziglang.org/download layouts)`);
  console.log(`QM_HOME:      ${env.QM_HOME}`);
  console.log(`project:      ${project}`);
  try {
    await qm(['install'], project, env);
    await qm(['lock'], project, env);
    await qm(['list'], project, env);
    for (const [tool, args] of [['node', ['--version']], ['go', ['version']], ['zig', ['version']]] as const) {
      const pathOf = (await run(process.execPath, [CLI, 'which', tool], { cwd: project, env })).stdout.trim();
      const output = (await run(process.execPath, [CLI, 'exec', '--', tool, ...args], { cwd: project, env })).stdout.trim();
      console.log(`\n${tool}: ${pathOf}\n  $ ${tool} ${args.join(' ')}  ->  ${output}`);
    }
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
