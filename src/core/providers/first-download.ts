import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { DownloadManager } from '../download-manager';
import type { FileDownloadRequest, FileDownloadResult } from '../fetch/types';
import { writeFileAtomic } from '../store/atomic-write';
import { firstDownloadLockKey } from '../store/lock-keys';
import { removeTemp } from '../store/temp-files';

export interface FirstDownload {
  url: string;
  sha256: string;
  size: number;
  /** When the digest was first seen: trust on first use, named as such. */
  pinnedAt: string;
}

export interface FileDownloader {
  downloadToFile(request: FileDownloadRequest): Promise<FileDownloadResult>;
}

/**
 * Trust on first use, for a GitHub release that publishes no checksum anywhere: the first
 * download's digest is recorded (QM_HOME/state/first-downloads) and from then on required, like a
 * published one; `qm lock` writes it into qm.lock, so a project pins it for everyone. The bytes
 * go straight into the blob store, so the install that follows fetches nothing more; one lock per
 * URL makes it one GET across processes.
 */
export class FirstDownloads {
  constructor(private readonly manager: DownloadManager, private readonly fetcher: FileDownloader) {}

  async digestOf(url: string, signal?: AbortSignal): Promise<FirstDownload> {
    const recorded = await this.read(url);
    if (recorded) return recorded;
    const acquired = await this.manager.locks.acquire(firstDownloadLockKey(url), {
      purpose: `first download of ${url}`,
      ...(signal ? { signal } : {}),
      check: () => this.read(url),
    });
    if (acquired.done) return acquired.done;
    try {
      const temp = await this.manager.store.tempPath();
      try {
        const result = await this.fetcher.downloadToFile({ url, dest: temp, ...(signal ? { signal } : {}) });
        await this.manager.store.publish(temp, result.sha256);
        const record: FirstDownload = { url, sha256: result.sha256, size: result.size, pinnedAt: new Date().toISOString() };
        await fs.mkdir(this.dir, { recursive: true });
        await writeFileAtomic(this.fileFor(url), `${JSON.stringify(record, null, 2)}\n`, { action: 'record first download in' });
        return record;
      } finally {
        await removeTemp(temp);
      }
    } finally {
      await acquired.lock.release();
    }
  }

  private get dir(): string {
    return path.join(this.manager.layout.stateDir, 'first-downloads');
  }

  private fileFor(url: string): string {
    return path.join(this.dir, `${firstDownloadLockKey(url)}.json`);
  }

  private async read(url: string): Promise<FirstDownload | undefined> {
    try {
      const record = JSON.parse(await fs.readFile(this.fileFor(url), 'utf8')) as Partial<FirstDownload>;
      if (record.url !== url || typeof record.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(record.sha256)) return undefined;
      // The record vouches for a blob; one removed since (gc) is fetched again by digest.
      return record as FirstDownload;
    } catch {
      return undefined;
    }
  }
}
