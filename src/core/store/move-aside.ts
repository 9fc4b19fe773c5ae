import * as fs from 'node:fs/promises';
import { fsError } from '../errors';
import type { HomeLayout } from '../home';
import { createTempPath, removeTemp } from './temp-files';

export interface MoveAsideOptions {
  /**
   * Asked about the tree once it is out of sight and before it is deleted: true puts it back.
   * A rename cannot be made conditional on what it moves, so this is how a caller that checked
   * the tree before the rename keeps that check true (e.g. "never a tree with a receipt").
   */
  keep?: (aside: string) => Promise<boolean>;
}

/**
 * Removes a published tree: one rename takes it out of its path (no reader ever sees half of
 * it), then the slow delete happens under QM_HOME/tmp, under an owner-tagged name that recovery
 * finishes if we die. The one place a tree leaves the store. Returns whether a tree was removed.
 */
export async function moveAsideAndDelete(layout: HomeLayout, dir: string, options: MoveAsideOptions = {}): Promise<boolean> {
  const aside = await createTempPath(layout.tmpDir, 'dir');
  try {
    await fs.rename(dir, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(error, 'move aside', dir);
  }
  if (await options.keep?.(aside)) {
    try {
      await fs.rename(aside, dir);
      return false;
    } catch {
      // Something else is at `dir` now; what we moved was never meant to go, but it cannot return.
    }
  }
  await removeTemp(aside);
  return true;
}
