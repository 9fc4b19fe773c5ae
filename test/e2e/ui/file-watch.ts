import { watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Resolves with a file's text once it exists and `complete` accepts it (a shell's `echo > f`
 * creates the file before writing it), re-read on every change in its directory, never polled.
 */
export function whenFile(file: string, complete: (text: string) => boolean, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    let reading = Promise.resolve();
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      watcher.close();
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const check = (): void => {
      // One read at a time, in order: the last event's read sees the last write.
      reading = reading.then(async () => {
        if (settled) return;
        const text = await fs.readFile(file, 'utf8').catch(() => undefined);
        if (text !== undefined && complete(text)) finish(() => resolve(text));
      });
    };
    const onAbort = (): void => finish(() => reject(new Error(`stopped waiting for ${file}`)));
    // Watch first, then look: a write between the two is seen either way.
    const watcher = watch(path.dirname(file), () => check());
    watcher.on('error', (error) => finish(() => reject(error)));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    else check();
  });
}
