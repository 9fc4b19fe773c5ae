import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');

/** A real child process running a TypeScript script through tsx, speaking JSON lines on stdout. */
export class ChildScript {
  readonly process: ChildProcess;
  readonly messages: unknown[] = [];
  readonly stderr: string[] = [];
  private readonly waiters: Array<{ predicate: (m: unknown) => boolean; resolve: (m: unknown) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.process = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    readline.createInterface({ input: this.process.stdout! }).on('line', (line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        message = { text: line };
      }
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor<T = Record<string, unknown>>(predicate: (message: T) => boolean): Promise<T> {
    const seen = this.messages.find((m) => predicate(m as T));
    if (seen !== undefined) return Promise.resolve(seen as T);
    return Promise.race([
      new Promise<T>((resolve) => this.waiters.push({ predicate: predicate as (m: unknown) => boolean, resolve: resolve as (m: unknown) => void })),
      this.exited.then(({ code, signal }) => {
        throw new Error(`child exited (code ${code}, signal ${signal}) before the awaited message; stderr:\n${this.stderr.join('')}`);
      }),
    ]);
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.process.kill(signal);
    return this.exited;
  }
}
