// Child process: a coordinator host the way a VS Code window runs one (leader or client of the
// leader, re-electing when it goes away), whose commands a test drives over stdin/stdout JSON
// lines. QM_HOME, QM_MIRROR_* and QM_PLATFORM come from the environment.
//   out {"event":"role","role","endpoint","pid"}   at start and on every role change
//   in  {"install":{"jobId","tools":[{"name","spec"}]}}   install on behalf of a command
//   out {"event":"progress","progress"}   each change of phase of this process's jobs
//   out {"event":"installed","jobId","tools"} or {"event":"failed","jobId","code","message"}
// SIGTERM disposes the host (a leader removes its socket) and exits.
import * as readline from 'node:readline';
import { CoordinatorHost } from '../../src/core/coordinator/host';
import { currentPlatform } from '../../src/core/platform';
import { createCore } from '../../src/core/services';
import type { Logger } from '../../src/core/log';
import type { ToolSpec } from '../../src/shared/protocol';

const say = (message: object): void => void process.stdout.write(`${JSON.stringify({ pid: process.pid, ...message })}\n`);
const log = (level: string) => (message: string): void => void process.stderr.write(`${JSON.stringify({ event: 'log', level, message })}\n`);
const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warning'), error: log('error') };

async function serve(): Promise<void> {
  const core = createCore({ env: process.env, logger });
  const host = await CoordinatorHost.start({ core, platform: currentPlatform(process.env), logger });
  const announce = (): void => say({ event: 'role', role: host.role, endpoint: host.endpoint });
  announce();
  host.onRoleChange(announce);

  const jobs = new Set<string>();
  const lastPhase = new Map<string, string>();
  host.onProgress((progress) => {
    if (!jobs.has(progress.jobId)) return;
    const key = `${progress.jobId}/${progress.tool}`;
    if (lastPhase.get(key) === progress.phase) return;
    lastPhase.set(key, progress.phase);
    say({ event: 'progress', progress });
  });

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { install } = JSON.parse(line) as { install: { jobId: string; tools: ToolSpec[] } };
    jobs.add(install.jobId);
    host.install({ jobId: install.jobId, requester: { kind: 'command', pid: process.pid, label: 'Install Toolchain…' }, tools: install.tools }).then(
      (result) => say({ event: 'installed', jobId: install.jobId, tools: result.tools }),
      (error: unknown) => say({ event: 'failed', jobId: install.jobId, code: (error as { code?: string }).code, message: String(error) }),
    );
  });

  process.once('SIGTERM', () => {
    lines.close();
    void host
      .dispose()
      .then(() => core.close())
      .then(() => process.exit(0));
  });
}

void serve().catch((error: unknown) => {
  say({ event: 'crashed', message: String(error) });
  process.exit(1);
});
