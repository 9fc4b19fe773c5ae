import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The built CLI; `npm test` builds before running tests. */
export const QM_CLI = path.join(ROOT, 'out', 'cli.js');

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A command that runs node for us, e.g. ['unshare', '--pid', '--fork'] or ['faketime', '-f', '+15s']. */
  wrapper?: string[];
}

/** A message a child wrote as one line, JSON when it parses, tagged with the stream. */
export type ChildMessage = Record<string, unknown> & { stream: 'stdout' | 'stderr' };

/**
 * A real child process whose stdout and stderr lines are collected (JSON lines parsed), so a
 * test can wait for the moment a line appears rather than for a time.
 */
export class Child {
  readonly process: ChildProcess;
  readonly messages: ChildMessage[] = [];
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: Array<{ predicate: (m: ChildMessage) => boolean; resolve: (m: ChildMessage) => void }> = [];

  constructor(argv: string[], options: ChildOptions = {}) {
    const [program, ...prefix] = options.wrapper ?? [];
    this.process = spawn(program ?? process.execPath, program === undefined ? argv : [...prefix, process.execPath, ...argv], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.collect('stdout', this.stdout);
    this.collect('stderr', this.stderr);
    // 'close' comes after the process exited and its output was read to the end.
    this.exited = new Promise((resolve) => this.process.on('close', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor<T = ChildMessage>(predicate: (message: ChildMessage & T) => boolean): Promise<ChildMessage & T> {
    const test = predicate as (m: ChildMessage) => boolean;
    const seen = this.messages.find(test);
    if (seen !== undefined) return Promise.resolve(seen as ChildMessage & T);
    return Promise.race([
      new Promise<ChildMessage & T>((resolve) => this.waiters.push({ predicate: test, resolve: resolve as (m: ChildMessage) => void })),
      this.exited.then(({ code, signal }) => {
        throw new Error(`child exited (code ${code}, signal ${signal}) before the awaited line; stderr:\n${this.stderr.join('\n')}`);
      }),
    ]);
  }

  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    return this.exited;
  }

  private collect(stream: 'stdout' | 'stderr', lines: string[]): void {
    readline.createInterface({ input: this.process[stream]! }).on('line', (line) => {
      lines.push(line);
      let message: ChildMessage;
      try {
        const parsed: unknown = JSON.parse(line);
        message = { ...(typeof parsed === 'object' && parsed !== null ? parsed : { value: parsed }), stream };
      } catch {
        message = { text: line, stream };
      }
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }
}

/** A TypeScript script from this repository, run through tsx. */
export class ChildScript extends Child {
  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = {}, wrapper?: string[]) {
    super(['--import', 'tsx', path.join(ROOT, script), ...args], { env, ...(wrapper ? { wrapper } : {}) });
  }
}

/** The built `qm` CLI. */
export function spawnQm(args: string[], options: ChildOptions = {}): Child {
  return new Child([QM_CLI, ...args], options);
}

/** Runs `qm` to its end. */
export async function runQm(args: string[], options: ChildOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnQm(args, options);
  const { code } = await child.exited;
  return { code, stdout: child.stdout.join('\n'), stderr: child.stderr.join('\n') };
}
