import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError } from '../errors';
import { writeFileAtomic } from '../store/atomic-write';
import { sha256File } from '../store/blobs';

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
 * project never holds a half-written file.
 */
export async function materializeArtifact(blobPath: string, sha256: string, dest: string): Promise<boolean> {
  try {
    if ((await sha256File(dest)) === sha256) return false;
  } catch {
    // Missing or unreadable: write it.
  }
  try {
    await fs.mkdir(path.dirname(dest), { recursive: true });
  } catch (error) {
    throw fsError(error, 'create directory', path.dirname(dest));
  }
  // Blobs are read-only; the project's copy is the user's to change (mode 0644).
  await writeFileAtomic(dest, await readBlob(blobPath), { action: 'write artifact to' });
  return true;
}
