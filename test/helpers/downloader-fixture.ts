import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { isQmError, type QmError, type QmErrorCode } from '../../src/core/errors';
import { Downloader } from '../../src/core/fetch/downloader';
import type { DownloaderOptions } from '../../src/core/fetch/types';
import { MirrorServer } from '../fixtures/mirror-server';

export const MiB = 1024 * 1024;

export interface DownloaderFixture {
  readonly server: MirrorServer;
  /** A fresh temp directory per test. */
  readonly dir: string;
  /** A downloader with fast backoff and no proxy from the test machine's environment; closed after the test. */
  downloader: (options?: DownloaderOptions) => Downloader;
  /** Random bytes served at /files/<name>, with where to download them. */
  file: (name: string, size: number, options?: Parameters<MirrorServer['addFile']>[2]) => ReturnType<MirrorServer['addFile']> & { path: string; body: Buffer; dest: string };
}

/** Registers, in the calling describe, one mirror for the suite and a temp dir and cleanup per test. */
export function useDownloaderFixture(): DownloaderFixture {
  let server: MirrorServer | undefined;
  let dir: string | undefined;
  const downloaders: Downloader[] = [];
  before(async () => {
    server = await MirrorServer.start();
  });
  after(() => server?.close());
  beforeEach(async () => {
    dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'qm-downloader-')));
    server!.clearFaults();
    server!.resetStats();
  });
  afterEach(async () => {
    await Promise.all(downloaders.splice(0).map((d) => d.close()));
    await fs.rm(dir!, { recursive: true, force: true });
  });
  return {
    get server() {
      return server!;
    },
    get dir() {
      return dir!;
    },
    downloader: (options = {}) => {
      const created = new Downloader({ env: {}, retries: 3, baseBackoffMs: 5, maxBackoffMs: 50, ...options });
      downloaders.push(created);
      return created;
    },
    file: (name, size, options) => {
      const body = randomBytes(size);
      const urlPath = `/files/${name}`;
      return { ...server!.addFile(urlPath, body, options), path: urlPath, body, dest: path.join(dir!, name) };
    },
  };
}

/** Rejects unless the promise fails with a QmError of `code`; returns that error. */
export async function rejectsWith(promise: Promise<unknown>, code: QmErrorCode): Promise<QmError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(isQmError(error, code), `expected ${code}, got ${String(error)}`);
  return error;
}
