import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { extractArchiveFile } from '../archive';
import type { DownloadManager, DownloadProgress } from '../download-manager';
import { QmError, fsError, isQmError } from '../errors';
import { SingleFlight, type FlightContext } from '../flight/single-flight';
import type { HomeLayout } from '../home';
import type { ArtifactSignature, ResolvedToolchain } from '../providers/types';
import type { SignatureVerifier } from '../signatures/verifier';
import { toolchainLockKey } from '../store/lock-keys';
import type { LockManager, LockOwner } from '../store/locks';
import { syncDirectory } from '../store/atomic-write';
import type { StoredBlob } from '../store/blobs';
import { moveAsideAndDelete } from '../store/move-aside';
import { createTempPath, removeTemp } from '../store/temp-files';
import { ArchiveChoice, LinkHistory, type ChoiceContext } from './archive-choice';
import { readReceipt, receiptFor, writeReceipt, type Receipt } from './receipt';
import { hoistSingleDirectory, unpackComponents } from './components';
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
  /** Variables to set where it is used (JAVA_HOME), absolute. */
  env: Record<string, string>;
  receipt: Receipt;
  /** True when this call unpacked it; false when it was already installed (by anyone). */
  installed: boolean;
}

/** Fetches of a blob that gc removed between finding it and opening it, before giving up. */
const BLOB_VANISHED_ATTEMPTS = 3;
/** Publish attempts when something is in the way that is not a finished install. */
const PUBLISH_ATTEMPTS = 3;

export interface InstallRequest {
  signal?: AbortSignal;
  onProgress?: (progress: InstallProgress) => void;
}

/**
 * Unpacks verified archives into QM_HOME/toolchains. Extraction goes to a unique staging
 * directory in QM_HOME/tmp, is checked, gets its receipt (what "installed" means), then is
 * published with one rename that never replaces a tree: a receipted tree is never removed or
 * replaced by an install, with or without the lock. A lock per toolchain (taken before the
 * blob's lock, never after) only makes concurrent installs of one toolchain do the work once.
 */
export class Installer {
  private readonly flights = new SingleFlight<string, InstalledToolchain, InstallProgress>();
  private readonly layout: HomeLayout;
  private readonly linkHistory: LinkHistory;

  constructor(
    private readonly manager: DownloadManager,
    private readonly locks: LockManager = manager.locks,
    private readonly signatures?: SignatureVerifier,
    /** How the archive choice reads the clock and this process's CPU wait (tests give their own). */
    private readonly probe: Pick<ChoiceContext, 'now' | 'cpuWait'> = {},
  ) {
    this.layout = manager.layout;
    this.linkHistory = new LinkHistory(path.join(this.layout.stateDir, 'link-speed.json'));
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
      // Which of the toolchain's archives (.tar.gz or .tar.xz) is cheaper on this link (archive-choice.ts).
      const stored = async (sha256: string): Promise<boolean> => (await this.manager.store.find(sha256)) !== undefined;
      const choice = await ArchiveChoice.start(toolchain, { ...this.probe, history: this.linkHistory, stored });
      for (;;) {
        const chosen: ResolvedToolchain = { ...toolchain, ...choice.current };
        const staging = await createTempPath(this.layout.tmpDir, 'dir');
        try {
          // One archive, or several merged into one tree (Rust's components), each fetched once by digest.
          const size = chosen.components ? await this.stageComponents(chosen, staging, signal, report) : (await this.stage(chosen, staging, signal, report, choice)).size;
          report('publishing');
          const receipt = receiptFor(chosen, size);
          // The receipt is part of the tree from its first instant at the final path.
          await writeReceipt(staging, receipt);
          await choice.recorded();
          return this.finish(await this.publish(chosen, staging, receipt), report);
        } catch (error) {
          // The link favours the other archive: its transfer was dropped early, fetch that one.
          if (!choice.switched(error)) throw error;
        } finally {
          await removeTemp(staging);
        }
      }
    } finally {
      await lock.release();
    }
  }

  /**
   * Unpacks the toolchain's archive into `staging` and checks the tree. tar archives unpack while
   * they download; zip needs the whole file. A stored blob may be collected by gc between being
   * found and being opened (finding it takes no lock): then it is fetched again.
   */
  private async stage(
    toolchain: ResolvedToolchain,
    staging: string,
    signal: AbortSignal,
    report: (phase: InstallPhase, extra?: Partial<InstallProgress>) => void,
    choice: ArchiveChoice,
  ): Promise<StoredBlob> {
    const streaming = toolchain.archive === 'zip' ? undefined : new StreamingExtraction(toolchain.archive, staging, toolchain.stripComponents);
    try {
      for (let attempt = 1; ; attempt++) {
        if (attempt > 1) await streaming?.tee.restart();
        const watched = choice.watch(signal, (download) => report('downloading', { download }));
        const blob = await this.manager.fetchBlob({
          url: toolchain.url,
          sha256: toolchain.sha256,
          ...(toolchain.size !== undefined ? { size: toolchain.size } : {}),
          ...(watched.signal ? { signal: watched.signal } : {}),
          onProgress: watched.onProgress,
          ...(streaming ? { tee: choice.observe(streaming.tee) } : {}),
        });
        if (toolchain.signature) await this.checkSignature(toolchain.signature, blob.path, signal);
        report('extracting');
        try {
          if (streaming?.sawWhole(blob.size)) {
            await streaming.finish();
          } else {
            await streaming?.stop();
            await fs.rm(staging, { recursive: true, force: true });
            await extractArchiveFile(blob.path, toolchain.archive, staging, { stripComponents: toolchain.stripComponents, signal });
          }
          if (toolchain.hoistSingleDirectory) await hoistSingleDirectory(staging);
          await checkTree(staging, toolchain);
          return blob;
        } catch (error) {
          if (isMissing(error) && attempt < BLOB_VANISHED_ATTEMPTS) continue;
          // A verified but unsafe or unusable archive will never install: do not keep it.
          if (isQmError(error, 'EARCHIVE')) await fs.rm(blob.path, { force: true });
          throw error;
        }
      }
    } finally {
      await streaming?.stop();
    }
  }

  /** A signature that fails leaves nothing behind: the blob goes too, so it is never reused. */
  private async checkSignature(signature: ArtifactSignature, blobPath: string, signal: AbortSignal): Promise<void> {
    if (!this.signatures) return;
    try {
      await this.signatures.checkFile(signature, blobPath, { signal });
    } catch (error) {
      if (isQmError(error, 'ESIGNATURE')) await fs.rm(blobPath, { force: true });
      throw error;
    }
  }

  /** Every component unpacked into `staging` and merged there (components.ts), then the tree checked; returns the bytes fetched. */
  private async stageComponents(
    toolchain: ResolvedToolchain,
    staging: string,
    signal: AbortSignal,
    report: (phase: InstallPhase, extra?: Partial<InstallProgress>) => void,
  ): Promise<number> {
    const size = await unpackComponents(this.manager, toolchain.components ?? [], staging, { signal, onProgress: (download) => report('downloading', { download }) });
    report('extracting');
    await checkTree(staging, toolchain);
    return size;
  }

  /**
   * Publishes the staged tree with one rename that never replaces finished work: a rename onto
   * a non-empty directory fails, and a receipted tree found there (checked again now, after the
   * download: whoever took our lock over while we were stopped may have published) is the
   * result. Only a tree without a receipt, left by an older version, is moved aside first.
   */
  private async publish(toolchain: ResolvedToolchain, staging: string, receipt: Receipt): Promise<InstalledToolchain> {
    const dir = this.dirFor(toolchain);
    for (let attempt = 1; ; attempt++) {
      const existing = await this.find(toolchain);
      if (existing) return existing;
      try {
        await fs.mkdir(path.dirname(dir), { recursive: true });
        await fs.rename(staging, dir);
        await syncDirectory(path.dirname(dir));
        return installedFrom(dir, receipt, true);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= PUBLISH_ATTEMPTS) throw fsError(error, 'publish toolchain to', dir);
      }
      const published = await this.find(toolchain);
      if (published) return published;
      await moveAsideAndDelete(this.layout, dir, { keep: async (aside) => (await readReceipt(aside)) !== undefined });
    }
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
    env: Object.fromEntries(Object.entries(receipt.env ?? {}).map(([name, relative]) => [name, path.join(dir, relative)])),
    receipt,
    installed,
  };
}

/** The unpacked tree must have its bin directories and its main program before it is published. */
async function checkTree(root: string, toolchain: ResolvedToolchain): Promise<void> {
  // A GitHub release with no `bin` named has no program to look for.
  const main = toolchain.executables[0];
  if (main === undefined) return;
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

/** A file that is not there (any more), as Node or a QmError wrapping it says. */
function isMissing(error: unknown): boolean {
  const cause = isQmError(error) ? error.details.cause : error;
  return (cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}
