import { QmError } from '../core/errors';
import { findManifest, loadManifest, manifestError } from '../core/manifest/find';
import type { Manifest } from '../core/manifest/types';
import { currentPlatform, type Platform } from '../core/platform';
import { createCore, type CoreServices } from '../core/services';
import { recordManifestUse } from '../core/state/usage';
import type { Logger } from '../core/log';
import type { HeldLock } from '../core/store/locks';

export interface CliStreams {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** What every command gets: streams, flags, and the core, built on first use. */
export class CliContext {
  private services: CoreServices | undefined;
  readonly platform: Platform;

  constructor(
    readonly streams: CliStreams,
    readonly env: NodeJS.ProcessEnv,
    readonly cwd: string,
    readonly flags: { json: boolean; verbose: boolean; offline: boolean },
    readonly signal: AbortSignal,
    /** Locks taken before the core existed (the small entry's install gate): the core's lock manager adopts them. */
    private readonly claims: readonly HeldLock[] = [],
  ) {
    this.platform = currentPlatform(env);
  }

  get core(): CoreServices {
    if (this.services === undefined) {
      this.services = createCore({ env: this.env, offline: this.flags.offline, logger: this.logger });
      for (const lock of this.claims) this.services.locks.adopt(lock);
    }
    return this.services;
  }

  get logger(): Logger {
    const write = (level: string) => (message: string): void => {
      if (level !== 'debug' || this.flags.verbose) this.streams.err.write(`qm: ${level}: ${message}\n`);
    };
    return { debug: write('debug'), info: write('debug'), warn: write('warning'), error: write('error') };
  }

  /** The nearest manifest upward from the working directory, checked; ENOMANIFEST if none. */
  async manifest(): Promise<Manifest> {
    const file = await findManifest(this.cwd);
    if (!file) {
      throw new QmError('ENOMANIFEST', `No qm.toml, .tool-versions, .nvmrc or .node-version in ${this.cwd} or any parent directory. Create one with "qm use node@22", or name tools: "qm install node@22".`);
    }
    const manifest = await loadManifest(file);
    const error = manifestError(manifest);
    if (error) throw error;
    for (const problem of manifest.problems) {
      if (problem.severity === 'warning') this.streams.err.write(`qm: warning: ${file}:${problem.range.start.line}:${problem.range.start.column}: ${problem.message}\n`);
    }
    await recordManifestUse(this.core.layout, manifest.file).catch(() => undefined);
    return manifest;
  }

  write(text: string): void {
    this.streams.out.write(text);
  }

  json(value: unknown): void {
    this.streams.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  async close(): Promise<void> {
    await this.services?.locks.releaseAdopted();
    await this.services?.close();
  }
}
