import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { extractArchiveFile } from '../archive';
import type { DownloadManager, DownloadProgress } from '../download-manager';
import { QmError, fsError, isQmError } from '../errors';
import { SingleFlight, type FlightContext } from '../flight/single-flight';
import type { HomeLayout } from '../home';
import type { ResolvedToolchain } from '../providers/types';
import { toolchainLockKey } from '../store/lock-keys';
import type { LockManager, LockOwner } from '../store/locks';
import { createTempPath, removeTemp } from '../store/temp-files';
import { readReceipt, receiptFor, writeReceipt, type Receipt } from './receipt';
import { StreamingExtraction } from './streaming-extraction';

export type InstallPhase = 'waiting' | 'downloading' | 'extracting' | 'publishing' | 'done';

export interface InstallProgress {
  tool: string;
  version: string;
  phase: InstallPhase;
  download?: DownloadProgress;
  waitingFor?: LockOwner;
}

export interface InstalledToolchain {
  tool: string;
  version: string;
  platform: string;
  dir: string;
  /** Absolute directories to put on PATH. */
  binPaths: string[];
  receipt: Receipt;
  /** True when this call unpacked it; false when it was already installed (by anyone). */
  installed: boolean;
}

export interface InstallRequest {
  signal?: AbortSignal;
  onProgress?: (progress: InstallProgress) => void;
}

/**
 * Unpacks verified archives into QM_HOME/toolchains. Extraction goes to a unique staging
 * directory in QM_HOME/tmp, is checked, then published with one rename; the receipt written
 * last is what "installed" means. A lock per toolchain (taken before the blob's lock, never
 * after) makes concurrent installs of one toolchain do the work once; different toolchains
 * never share a file.
 */
export class Installer {
  private readonly flights = new SingleFlight<string, InstalledToolchain, InstallProgress>();
  private readonly layout: HomeLayout;

  constructor(
    private readonly manager: DownloadManager,
    private readonly locks: LockManager = manager.locks,
  ) {
    this.layout = manager.layout;
  }

  dirFor(toolchain: { tool: string; version: string; platform: string }): string {
    return this.layout.toolchainDir(toolchain.tool, toolchain.version, toolchain.platform);
  }

  /** The installed toolchain, or undefined; a tree without a receipt does not count. */
  async find(toolchain: { tool: string; version: string; platform: string }): Promise<InstalledToolchain | undefined> {
    const dir = this.dirFor(toolchain);
    const receipt = await readReceipt(dir);
    return receipt && installedFrom(dir, receipt, false);
  }

  /** Every installed toolchain, by receipt. */
  async list(): Promise<InstalledToolchain[]> {
    const result: InstalledToolchain[] = [];
    for (const tool of await readdirOrEmpty(this.layout.toolchainsDir)) {
      for (const name of await readdirOrEmpty(path.join(this.layout.toolchainsDir, tool))) {
        const dir = path.join(this.layout.toolchainsDir, tool, name);
        const receipt = await readReceipt(dir);
        if (receipt) result.push(installedFrom(dir, receipt, false));
      }
    }
    return result;
  }

  async install(toolchain: ResolvedToolchain, request: InstallRequest = {}): Promise<InstalledToolchain> {
    try {
      return await this.flights.run(toolchainLockKey(toolchain), (context) => this.installShared(toolchain, context), {
        ...(request.signal ? { signal: request.signal } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      });
    } catch (error) {
      // A digest from a cached index that the download does not match: ask the index afresh, once.
      if (!isQmError(error, 'EINTEGRITY') || !toolchain.recheck) throw error;
      const { recheck: _once, ...fresh } = await toolchain.recheck(request.signal ? { signal: request.signal } : {});
      if (fresh.sha256 === toolchain.sha256 || fresh.url !== toolchain.url) throw error;
      return this.install(fresh, request);
    }
  }

  private async installShared(toolchain: ResolvedToolchain, context: FlightContext<InstallProgress>): Promise<InstalledToolchain> {
    const { signal } = context;
    const report = (phase: InstallPhase, extra: Partial<InstallProgress> = {}): void =>
      context.emit({ tool: toolchain.tool, version: toolchain.version, phase, ...extra });
    await this.manager.recover();
    const present = await this.find(toolchain);
    if (present) return this.finish(present, report);

    const acquired = await this.locks.acquire(toolchainLockKey(toolchain), {
      purpose: `install ${toolchain.tool} ${toolchain.version}`,
      signal,
      onWait: (owner) => report('waiting', owner ? { waitingFor: owner } : {}),
      check: () => this.find(toolchain),
    });
    if (acquired.done) return this.finish(acquired.done, report);
    const { lock } = acquired;
    try {
      const staging = await createTempPath(this.layout.tmpDir, 'dir');
      // tar archives unpack while they download; zip needs the whole file first.
      const streaming = toolchain.archive === 'zip' ? undefined : new StreamingExtraction(toolchain.archive, staging, toolchain.stripComponents);
      try {
        const blob = await this.manager.fetchBlob({
          url: toolchain.url,
          sha256: toolchain.sha256,
          ...(toolchain.size !== undefined ? { size: toolchain.size } : {}),
          signal,
          onProgress: (download) => report('downloading', { download }),
          ...(streaming ? { tee: streaming.tee } : {}),
        });
        report('extracting');
        try {
          if (streaming?.sawWhole(blob.size)) {
            await streaming.finish();
          } else {
            await streaming?.stop();
            await fs.rm(staging, { recursive: true, force: true });
            await extractArchiveFile(blob.path, toolchain.archive, staging, { stripComponents: toolchain.stripComponents, signal });
          }
          await checkTree(staging, toolchain);
        } catch (error) {
          // A verified but unsafe or unusable archive will never install: do not keep it.
          if (isQmError(error, 'EARCHIVE')) await fs.rm(blob.path, { force: true });
          throw error;
        }
        report('publishing');
        const dir = this.dirFor(toolchain);
        await this.clearLeftover(dir);
        await publishTree(staging, dir);
        const receipt = receiptFor(toolchain, blob.size);
        await writeReceipt(dir, receipt);
        return this.finish(installedFrom(dir, receipt, true), report);
      } finally {
        await streaming?.stop();
        await removeTemp(staging);
      }
    } finally {
      await lock.release();
    }
  }

  /** A tree without a receipt is an interrupted publish: move it aside, then delete it. */
  private async clearLeftover(dir: string): Promise<void> {
    const aside = await createTempPath(this.layout.tmpDir, 'dir');
    try {
      await fs.rename(dir, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fsError(error, 'move aside', dir);
    }
    await removeTemp(aside);
  }

  private finish(toolchain: InstalledToolchain, report: (phase: InstallPhase) => void): InstalledToolchain {
    report('done');
    return toolchain;
  }
}

function installedFrom(dir: string, receipt: Receipt, installed: boolean): InstalledToolchain {
  return {
    tool: receipt.tool,
    version: receipt.version,
    platform: receipt.platform,
    dir,
    binPaths: receipt.binDirs.map((bin) => path.join(dir, bin)),
    receipt,
    installed,
  };
}

/** The unpacked tree must have its bin directories and its main program before it is published. */
async function checkTree(root: string, toolchain: ResolvedToolchain): Promise<void> {
  const main = toolchain.executables[0]!;
  const names = process.platform === 'win32' ? [`${main}.exe`, `${main}.cmd`] : [main];
  for (const bin of toolchain.binDirs) {
    for (const name of names) {
      try {
        const stat = await fs.stat(path.join(root, bin, name));
        if (stat.isFile()) return;
      } catch {
        // Try the next place.
      }
    }
  }
  throw new QmError('EARCHIVE', `The ${toolchain.tool} ${toolchain.version} archive from ${toolchain.url} has no ${main} in ${toolchain.binDirs.join(', ')}`, {
    url: toolchain.url,
  });
}

async function publishTree(staging: string, dir: string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await fs.rename(staging, dir);
  } catch (error) {
    throw fsError(error, 'publish toolchain to', dir);
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}
