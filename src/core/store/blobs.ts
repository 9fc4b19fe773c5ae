import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { QmError, fsError } from '../errors';
import type { HomeLayout } from '../home';
import { syncDirectory } from './atomic-write';
import { createTempPath } from './temp-files';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Lower-cases and checks a SHA-256 given by a user, manifest or index. */
export function normalizeSha256(value: string, where = 'sha256'): string {
  const digest = value.trim().toLowerCase();
  if (!SHA256_HEX.test(digest)) {
    throw new QmError('EUSAGE', `${where} must be 64 hexadecimal characters, got "${value}"`, { found: value });
  }
  return digest;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export interface StoredBlob {
  path: string;
  sha256: string;
  size: number;
}

/**
 * Content-addressed files. A blob's path is a function of its digest and a file appears there
 * only by an atomic rename of a verified, fsynced temp file, so whatever is at a final path is
 * complete. Publishing a blob that is already present is success: same name, same bytes.
 */
export class BlobStore {
  constructor(private readonly layout: HomeLayout) {}

  pathFor(sha256: string): string {
    return this.layout.blobPath(sha256);
  }

  /** The stored blob, or undefined. With `expectedSize`, a blob of another size is treated as absent. */
  async find(sha256: string, expectedSize?: number): Promise<StoredBlob | undefined> {
    const file = this.pathFor(sha256);
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) return undefined;
      if (expectedSize !== undefined && stat.size !== expectedSize) return undefined;
      return { path: file, sha256, size: stat.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(error, 'read', file);
    }
  }

  /** A fresh, unique temp path on the same filesystem as the blobs. */
  tempPath(): Promise<string> {
    return createTempPath(this.layout.tmpDir, 'part');
  }

  /**
   * Moves a verified temp file to its content-addressed path. The caller has hashed and fsynced
   * it. rename(2) replaces atomically, so a concurrent publisher of the same digest is harmless;
   * where the platform refuses to replace (Windows), an existing blob is accepted as the result.
   */
  async publish(tempFile: string, sha256: string): Promise<StoredBlob> {
    const target = this.pathFor(sha256);
    const dir = path.dirname(target);
    try {
      await fs.mkdir(dir, { recursive: true });
      await fs.chmod(tempFile, 0o444);
      await fs.rename(tempFile, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'EPERM' || code === 'EACCES') {
        const existing = await this.find(sha256);
        if (existing) return existing;
      }
      throw fsError(error, 'publish blob to', target);
    }
    await syncDirectory(dir);
    const stat = await fs.stat(target);
    return { path: target, sha256, size: stat.size };
  }

  /** Re-hashes a stored blob; a blob that does not match its name is removed. */
  async verify(sha256: string): Promise<boolean> {
    const blob = await this.find(sha256);
    if (!blob) return false;
    if ((await sha256File(blob.path)) === sha256) return true;
    await fs.rm(blob.path, { force: true });
    return false;
  }
}
