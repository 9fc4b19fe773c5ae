import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { extractArchiveFile } from '../archive';
import type { DownloadManager, DownloadProgress } from '../download-manager';
import { QmError, fsError, isQmError } from '../errors';
import type { ToolchainComponent } from '../providers/types';

/**
 * Fetches every component (all at once; the download manager makes each digest one GET across
 * processes), unpacks each into its own directory under `staging`, then merges them into
 * `staging` itself. Two components never write the same file, except each one's manifest.in,
 * kept as lib/rustlib/manifest-<component> as rustup keeps it. Returns the bytes downloaded.
 */
export async function unpackComponents(
  manager: DownloadManager,
  components: readonly ToolchainComponent[],
  staging: string,
  options: { signal: AbortSignal; onProgress?: (progress: DownloadProgress) => void },
): Promise<number> {
  const parts = path.join(staging, '.components');
  // The first failure stops the others, and every one has settled before this returns: nothing
  // may still be writing into `staging` when the caller removes it.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const settled = await Promise.allSettled(
    components.map(async (component) => {
      const blob = await manager.fetchBlob({
        url: component.url,
        sha256: component.sha256,
        ...(component.size !== undefined ? { size: component.size } : {}),
        signal,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      const into = path.join(parts, component.name);
      try {
        await extractArchiveFile(blob.path, component.archive, into, { stripComponents: component.stripComponents, signal });
      } catch (error) {
        if (isQmError(error, 'EARCHIVE')) await fs.rm(blob.path, { force: true });
        throw error;
      }
      return blob.size;
    }).map((work) => work.catch((error: unknown) => {
      stop.abort(error);
      throw error;
    })),
  );
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  const sizes = settled.map((result) => (result as PromiseFulfilledResult<number>).value);
  for (const component of components) {
    const from = path.join(parts, component.name);
    const manifest = path.join(from, 'manifest.in');
    if (await exists(manifest)) {
      await fs.mkdir(path.join(from, 'lib', 'rustlib'), { recursive: true });
      await fs.rename(manifest, path.join(from, 'lib', 'rustlib', `manifest-${component.name}`));
    }
    await mergeInto(from, staging, component.name);
  }
  await fs.rm(parts, { recursive: true, force: true });
  return sizes.reduce((a, b) => a + b, 0);
}

/** Moves `from`'s entries into `to`, descending into directories both have; a file both have is EARCHIVE. */
async function mergeInto(from: string, to: string, component: string): Promise<void> {
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    const existing = await fs.lstat(target).catch(() => undefined);
    if (!existing) {
      try {
        await fs.rename(source, target);
      } catch (error) {
        throw fsError(error, 'merge component into', target);
      }
    } else if (existing.isDirectory() && entry.isDirectory()) {
      await mergeInto(source, target, component);
    } else {
      throw new QmError('EARCHIVE', `Component ${component} would overwrite ${target}, which another component already installed`, { path: target });
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * An archive whose entries all sit under one top directory (`gh_2.63.0_linux_amd64/bin/gh`) is
 * lifted out of it, so a GitHub release installs the same with or without one.
 */
export async function hoistSingleDirectory(root: string): Promise<void> {
  const entries = await fs.readdir(root, { withFileTypes: true });
  if (entries.length !== 1 || !entries[0]!.isDirectory()) return;
  const top = path.join(root, entries[0]!.name);
  const aside = path.join(root, `.qm-hoist-${process.pid}`);
  await fs.rename(top, aside);
  for (const name of await fs.readdir(aside)) await fs.rename(path.join(aside, name), path.join(root, name));
  await fs.rmdir(aside);
}
