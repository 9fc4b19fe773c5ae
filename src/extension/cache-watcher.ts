import * as fs from 'node:fs/promises';
import type { FSWatcher } from 'chokidar';
import type { HomeLayout } from '../core/home';
import type { Logger } from '../core/log';

/**
 * Watches the shared cache's installed toolchains (their receipts, written last, are what
 * "installed" means) so that an install or removal by anyone — a `qm` in any terminal, another
 * window, `qm gc` — reaches this window at once. Bursts are folded into one call.
 */
export class CacheWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly onChange: () => void, private readonly delayMs: number) {}

  static async start(layout: HomeLayout, logger: Logger, onChange: () => void, delayMs = 100): Promise<CacheWatcher> {
    const cache = new CacheWatcher(onChange, delayMs);
    await fs.mkdir(layout.toolchainsDir, { recursive: true });
    // chokidar is only needed once a window has activated: loaded here, not at import.
    const chokidar = await import('chokidar');
    if (cache.closed) return cache;
    // toolchains/<tool>/<version-platform>/.qm-receipt.json: two directory levels.
    const watcher = chokidar.watch(layout.toolchainsDir, { depth: 2, ignoreInitial: true });
    watcher.on('all', () => cache.schedule());
    watcher.on('error', (error) => logger.warn(`Watching ${layout.toolchainsDir} failed: ${String(error)}`));
    cache.watcher = watcher;
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
    return cache;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.watcher?.close();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.closed) this.onChange();
    }, this.delayMs);
  }
}
