/**
 * `qm` started outside VS Code, as a person in another shell would: plain Node, the bundled CLI,
 * the same QM_HOME and mirrors, and no QM_COORDINATOR, so it finds the coordinator through QM_HOME.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export interface CliProgressLine {
  label: string;
  phase: string;
  received: number;
  total?: number;
}

export interface CliRun {
  pid: number;
  /** The first `--json` progress line on stderr, when it came. */
  firstProgress: Promise<CliProgressLine | undefined>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export interface CliOptions {
  repoRoot: string;
  args: readonly string[];
  /** Added to this process's environment, which loses QM_COORDINATOR. */
  env: Record<string, string>;
  signal: AbortSignal;
}

export function runOutsideCli(options: CliOptions): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.QM_COORDINATOR;
  const child = spawn(process.execPath, [path.join(options.repoRoot, 'out/cli.js'), ...options.args], {
    cwd: options.repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: options.signal,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let reportProgress: (line: CliProgressLine | undefined) => void = () => undefined;
  const firstProgress = new Promise<CliProgressLine | undefined>((resolve) => (reportProgress = resolve));
  createInterface({ input: child.stderr.setEncoding('utf8'), crlfDelay: Infinity }).on('line', (line) => {
    stderr += `${line}\n`;
    const progress = parseProgress(line);
    if (progress) reportProgress(progress);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      reportProgress(undefined);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid ?? -1, firstProgress, exited };
}

function parseProgress(line: string): CliProgressLine | undefined {
  try {
    const value = JSON.parse(line) as { type?: unknown; progress?: CliProgressLine };
    return value.type === 'progress' && value.progress !== undefined ? value.progress : undefined;
  } catch {
    return undefined;
  }
}
