import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { PathStats } from '../test/fixtures/mirror-server';
import type { MirrorMessage, MirrorReady } from './real-mirror';

/** bench/real-mirror.ts in a child process, reached over IPC. */
export class RealMirror {
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: MirrorReady,
  ) {}

  static async start(): Promise<RealMirror> {
    const child = fork(path.join(__dirname, 'real-mirror.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const ready = await new Promise<MirrorReady>((resolve, reject) => {
      child.once('message', (message) => resolve(message as MirrorReady));
      child.once('exit', (code) => reject(new Error(`the bench mirror exited with ${code}`)));
    });
    return new RealMirror(child, ready);
  }

  /** Request counts per archive path since the last reset. */
  stats(): Promise<Record<string, PathStats>> {
    return this.ask<{ stats: Record<string, PathStats> }>({ type: 'stats' }).then((reply) => reply.stats);
  }

  async reset(): Promise<void> {
    await this.ask({ type: 'reset' });
  }

  /** Paces every archive response at `bytesPerSecond`; 0 lifts it. */
  async throttle(bytesPerSecond: number): Promise<void> {
    await this.ask({ type: 'throttle', bytesPerSecond });
  }

  close(): void {
    this.child.disconnect();
  }

  private ask<T>(message: MirrorMessage): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (reply) => resolve(reply as T));
      this.child.send(message);
    });
  }
}
