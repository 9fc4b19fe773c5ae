import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { PathStats } from '../test/fixtures/mirror-server';

export interface ServedArtifact {
  url: string;
  sha256: string;
  size: number;
  path: string;
}

/** The bench mirror in a child process, reached over IPC. */
export class ForkedMirror {
  private constructor(private readonly child: ChildProcess, readonly artifact: ServedArtifact) {}

  static async start(script: string, args: string[]): Promise<ForkedMirror> {
    const child = fork(path.join(__dirname, script), args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const ready = await new Promise<ServedArtifact>((resolve, reject) => {
      child.once('message', (message) => resolve(message as ServedArtifact));
      child.once('exit', (code) => reject(new Error(`bench mirror exited with ${code}`)));
    });
    return new ForkedMirror(child, ready);
  }

  stats(): Promise<PathStats> {
    return this.ask<{ stats: PathStats }>('stats').then((reply) => reply.stats);
  }

  async reset(): Promise<void> {
    await this.ask('reset');
  }

  close(): void {
    this.child.disconnect();
  }

  private ask<T>(type: string): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (message) => resolve(message as T));
      this.child.send({ type });
    });
  }
}
