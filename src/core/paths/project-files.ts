import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { QmError, fsError } from '../errors';
import { normalizeProjectPath, projectPathProblem } from './safe-names';

/**
 * Files Quartermaster writes into a project (an artifact's dest, qm.toml, qm.lock). A clone can
 * commit symlinks and special files, so a write never goes through a symlink (it could lead out
 * of the project) and never onto anything but a regular file, and a read never blocks on a FIFO
 * or streams a device. Refusals are EUNSAFEPATH naming the path, and change nothing.
 */

/** A file inside a project: its directory, the relative path as checked, and the absolute path. */
export interface ProjectFile {
  root: string;
  /** "/"-separated, normalized, inside `root`. */
  relative: string;
  path: string;
}

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const READ_NO_FOLLOW = READ_FLAGS | (constants.O_NOFOLLOW ?? 0);

/** `relative` (an artifact's dest, "qm.lock") inside `root`; EUNSAFEPATH when it is absolute or leaves `root`. */
export function projectFile(root: string, relative: string): ProjectFile {
  const problem = projectPathProblem(relative);
  if (problem !== undefined) throw unsafe(path.join(root, relative), `"${relative}" ${problem}`);
  const normalized = normalizeProjectPath(relative);
  return { root, relative: normalized, path: path.join(root, ...normalized.split('/')) };
}

/** The project file a manifest (or its qm.lock) is: its own name in its own directory. */
export function projectFileAt(file: string): ProjectFile {
  return projectFile(path.dirname(file), path.basename(file));
}

/**
 * Makes sure `file` can be written without following a symlink: each directory from the root
 * down is a real directory (not a symlink, wherever it points), and the file itself is absent
 * or a regular file. With `create`, missing directories are made one at a time (and checked
 * again, in case something else put a link there first). Returns whether the file exists.
 */
export async function checkProjectWrite(file: ProjectFile, options: { create?: boolean } = {}): Promise<{ exists: boolean }> {
  const parts = file.relative.split('/');
  let dir = file.root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    let stat = await lstatOrUndefined(dir);
    if (stat === undefined) {
      if (!options.create) return { exists: false };
      await mkdirOne(dir);
      stat = await lstatOrUndefined(dir);
    }
    if (stat?.isSymbolicLink()) {
      throw unsafe(dir, `${dir} is a symlink: Quartermaster does not write through symlinks in a project, which could lead out of it (writing ${file.path})`);
    }
    if (stat === undefined || !stat.isDirectory()) throw unsafe(dir, `${dir} is not a directory (writing ${file.path})`);
  }
  const stat = await lstatOrUndefined(file.path);
  if (stat === undefined) return { exists: false };
  if (stat.isFile()) return { exists: true };
  throw unsafe(file.path, `${file.path} is ${describeKind(stat)}: Quartermaster writes only regular files in a project, and leaves this one alone`);
}

/** SHA-256 of a regular project file, read without following a symlink or blocking on a FIFO. */
export async function hashProjectFile(file: string): Promise<string> {
  const handle = await openRegular(file, READ_NO_FOLLOW);
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * A project file's text (a manifest, qm.lock), or undefined when it does not exist. A symlink
 * to a regular file is read (a monorepo may link its manifest); anything else that is not a
 * regular file is EUNSAFEPATH, without reading from it.
 */
export async function readProjectText(file: string): Promise<string | undefined> {
  let stat: Stats;
  try {
    // stat before open: opening some devices acts on them.
    stat = await fs.stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(error, 'read', file);
  }
  if (!stat.isFile()) throw unsafe(file, `${file} is ${describeKind(stat)}, not a regular file: it is not read`);
  const handle = await openRegular(file, READ_FLAGS);
  try {
    return await handle.readFile('utf8');
  } catch (error) {
    throw fsError(error, 'read', file);
  } finally {
    await handle.close();
  }
}

/** Opens `file` and checks, on the open descriptor, that it is a regular file. */
async function openRegular(file: string, flags: number): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw unsafe(file, `${file} is a symlink: it is not followed`);
    throw fsError(error, 'open', file);
  }
  const stat = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw fsError(error, 'read', file);
  });
  if (!stat.isFile()) {
    await handle.close();
    throw unsafe(file, `${file} is ${describeKind(stat)}, not a regular file: it is not read`);
  }
  return handle;
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(error, 'look at', file);
  }
}

async function mkdirOne(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(error, 'create directory', dir);
  }
}

function describeKind(stat: Stats): string {
  if (stat.isSymbolicLink()) return 'a symlink';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function unsafe(file: string, message: string): QmError {
  return new QmError('EUNSAFEPATH', message, { path: file });
}
