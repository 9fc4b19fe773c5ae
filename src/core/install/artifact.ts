import * as fs from 'node:fs/promises';
import { fsError, isQmError } from '../errors';
import { checkProjectWrite, hashProjectFile, type ProjectFile } from '../paths/project-files';
import { writeFileAtomic } from '../store/atomic-write';

async function readBlob(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    throw fsError(error, 'read', file);
  }
}

/**
 * Puts a verified blob at a project path (`dest` of an [artifacts] entry). A file already there
 * with the right digest is left alone; otherwise a copy beside it is renamed over it, so the
 * project never holds a half-written file. Never through a symlink, never onto anything but a
 * regular file (EUNSAFEPATH, nothing changed): a clone's symlinks cannot lead the write out.
 */
export async function materializeArtifact(blobPath: string, sha256: string, dest: ProjectFile): Promise<boolean> {
  const { exists } = await checkProjectWrite(dest, { create: true });
  if (exists) {
    try {
      if ((await hashProjectFile(dest.path)) === sha256) return false;
    } catch (error) {
      // Unreadable (say, no read permission): replace it. Unsafe: refuse.
      if (isQmError(error, 'EUNSAFEPATH')) throw error;
    }
  }
  // Blobs are read-only; the project's copy is the user's to change (mode 0644).
  await writeFileAtomic(dest.path, await readBlob(blobPath), { action: 'write artifact to' });
  return true;
}
