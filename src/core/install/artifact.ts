import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError } from '../errors';
import { sha256File } from '../store/blobs';

/**
 * Puts a verified blob at a project path (`dest` of an [artifacts] entry). A file already there
 * with the right digest is left alone; otherwise a copy beside it is renamed over it, so the
 * project never holds a half-written file.
 */
export async function materializeArtifact(blobPath: string, sha256: string, dest: string): Promise<boolean> {
  try {
    if ((await sha256File(dest)) === sha256) return false;
  } catch {
    // Missing or unreadable: write it.
  }
  const dir = path.dirname(dest);
  const temp = path.join(dir, `.${path.basename(dest)}.qm-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.copyFile(blobPath, temp);
    // Blobs are read-only; the project's copy is the user's to change.
    await fs.chmod(temp, 0o644);
    await fs.rename(temp, dest);
    return true;
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw fsError(error, 'write artifact to', dest);
  }
}
