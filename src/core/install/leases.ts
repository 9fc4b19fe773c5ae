import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { monotonicMs } from '../clock';
import { QmError, cancelledError, fsError } from '../errors';
import type { HomeLayout } from '../home';
import { currentProcess, processStartTime, type Liveness, type ProcessIdentity } from '../store/process-identity';
import { tempLiveness, tempOwner, uniqueTempName } from '../store/temp-files';
import { readReceipt } from './receipt';
import { toolPathSegment } from '../paths/safe-names';

export interface ToolchainId {
  tool: string;
  version: string;
  platform: string;
}

/** A process that runs programs from a toolchain, as its lease file says. */
export interface LeaseHolder {
  pid: number;
  purpose: string | undefined;
  liveness: Liveness;
}

/** A reader's hold on one installed toolchain: while it is held, gc and uninstall leave the tree alone. */
export interface Lease {
  readonly toolchain: ToolchainId;
  /** Also hold the lease for this process (a child started from the tree), until release. */
  addHolder(pid: number): Promise<void>;
  release(): Promise<void>;
  /** release(), for VS Code's Disposable: errors are ignored. */
  dispose(): void;
}

export interface LeaseOptions {
  /** Shown to whoever cannot remove the toolchain, e.g. "qm exec node". */
  purpose: string;
  signal?: AbortSignal;
}

export interface RemovalResult {
  removed: boolean;
  /** Live (or unjudgeable) readers that kept the tree. */
  heldBy: LeaseHolder[];
}

const READER = 'reader';
const REMOVER = 'removing';
const POLL_MS = 50;

/**
 * Readers' leases on toolchains, one file per holder under
 * `QM_HOME/state/leases/<tool>/<version>-<platform>/`, named with the holder's identity (so a
 * dead holder's lease is recognised and swept like a temp file) and holding its purpose.
 *
 * Removal and reading exclude each other without a lock (Dekker's order, on the filesystem):
 * a reader writes its lease, then checks that no removal is under way and the tree is there;
 * a remover writes its removal marker, then checks that no reader holds a lease. Whichever
 * writes second sees the other. So a remover never moves a tree a reader may run from (even a
 * rename aside breaks a running program), and a reader never trusts a tree being removed.
 */
export class LeaseManager {
  private readonly identity: ProcessIdentity;
  private readonly waitMs: number;

  constructor(
    private readonly layout: HomeLayout,
    options: { identity?: ProcessIdentity; waitMs?: number } = {},
  ) {
    this.identity = options.identity ?? currentProcess();
    this.waitMs = options.waitMs ?? 30_000;
  }

  /**
   * Leases an installed toolchain. ENOTINSTALLED when its tree is not there (checked after the
   * lease is written, so it cannot go after the check); waits while a removal is under way.
   */
  async hold(toolchain: ToolchainId, options: LeaseOptions): Promise<Lease> {
    const deadline = monotonicMs() + this.waitMs;
    for (;;) {
      const file = await this.write(toolchain, READER, options.purpose, this.identity);
      const removal = await this.removalUnderWay(toolchain);
      if (removal === undefined) {
        if (await readReceipt(this.treeOf(toolchain))) return this.lease(toolchain, file, options.purpose);
        await this.drop(toolchain, [file]);
        throw new QmError('ENOTINSTALLED', `${label(toolchain)} is not installed`, { path: this.treeOf(toolchain) });
      }
      await this.drop(toolchain, [file]);
      if (monotonicMs() > deadline) {
        throw new QmError('ELOCKED', `${label(toolchain)} is being removed by ${describe(removal)}; try again when it is done`);
      }
      try {
        await delay(POLL_MS, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throw cancelledError(options.signal, `Waiting for ${label(toolchain)}`);
      }
    }
  }

  /**
   * Runs `remove` (which takes the tree away) unless a live reader, or one whose liveness cannot
   * be judged from here, holds a lease. The caller holds the toolchain's lock, so removers do not
   * race each other; readers need no lock.
   */
  async removeUnlessLeased(toolchain: ToolchainId, purpose: string, remove: () => Promise<boolean>): Promise<RemovalResult> {
    const marker = await this.write(toolchain, REMOVER, purpose, this.identity);
    try {
      const readers = await this.holders(toolchain, READER);
      const heldBy = readers.filter((r) => r.liveness !== 'dead');
      if (heldBy.length > 0) return { removed: false, heldBy };
      await Promise.all(readers.map((r) => fs.rm(r.file, { force: true })));
      return { removed: await remove(), heldBy: [] };
    } finally {
      await this.drop(toolchain, [marker]);
    }
  }

  /** The readers holding a lease on a toolchain now (dead ones included, marked so). */
  async readers(toolchain: ToolchainId): Promise<LeaseHolder[]> {
    return (await this.holders(toolchain, READER)).map(({ pid, purpose, liveness }) => ({ pid, purpose, liveness }));
  }

  private lease(toolchain: ToolchainId, first: string, purpose: string): Lease {
    const files = [first];
    let released: Promise<void> | undefined;
    return {
      toolchain,
      addHolder: async (pid) => {
        files.push(await this.write(toolchain, READER, purpose, { ...this.identity, pid, startTime: processStartTime(pid) }));
      },
      release: () => (released ??= this.drop(toolchain, files)),
      dispose: () => void (released ??= this.drop(toolchain, files)).catch(() => undefined),
    };
  }

  private dirOf(toolchain: ToolchainId): string {
    return path.join(this.layout.stateDir, 'leases', toolPathSegment(toolchain.tool), `${toolchain.version}-${toolchain.platform}`);
  }

  private treeOf(toolchain: ToolchainId): string {
    return this.layout.toolchainDir(toolchain.tool, toolchain.version, toolchain.platform);
  }

  /** Creates a lease or removal marker file, exclusively; a directory tidied away meanwhile is made again. */
  private async write(toolchain: ToolchainId, role: string, purpose: string, owner: ProcessIdentity): Promise<string> {
    const dir = this.dirOf(toolchain);
    const file = path.join(dir, `${role}.${uniqueTempName('lease', owner)}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await fs.mkdir(dir, { recursive: true });
        await fs.writeFile(file, JSON.stringify({ purpose, since: new Date().toISOString() }), { flag: 'wx' });
        return file;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw fsError(error, 'write lease', file);
      }
    }
  }

  private async holders(toolchain: ToolchainId, role: string): Promise<Array<LeaseHolder & { file: string }>> {
    const dir = this.dirOf(toolchain);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const result: Array<LeaseHolder & { file: string }> = [];
    for (const name of names.filter((n) => n.startsWith(`${role}.`))) {
      const owner = tempOwner(name);
      if (!owner) continue;
      const file = path.join(dir, name);
      const purpose = await fs
        .readFile(file, 'utf8')
        .then((text) => (JSON.parse(text) as { purpose?: string }).purpose)
        .catch(() => undefined);
      result.push({ pid: owner.pid, purpose, liveness: tempLiveness(name, this.identity) ?? 'unknown', file });
    }
    return result;
  }

  /** A removal marker of a live (or unjudgeable) remover; dead removers' markers are swept. */
  private async removalUnderWay(toolchain: ToolchainId): Promise<LeaseHolder | undefined> {
    for (const remover of await this.holders(toolchain, REMOVER)) {
      if (remover.liveness !== 'dead') return remover;
      await fs.rm(remover.file, { force: true });
    }
    return undefined;
  }

  /** Removes our files, then the lease directories if they became empty (others may be adding). */
  private async drop(toolchain: ToolchainId, files: string[]): Promise<void> {
    for (const file of files) await fs.rm(file, { force: true });
    const dir = this.dirOf(toolchain);
    for (const empty of [dir, path.dirname(dir)]) {
      try {
        await fs.rmdir(empty);
      } catch {
        return; // not empty (another holder), or already gone
      }
    }
  }
}

function label(toolchain: ToolchainId): string {
  return `${toolchain.tool} ${toolchain.version} (${toolchain.platform})`;
}

function describe(holder: LeaseHolder): string {
  return `pid ${holder.pid}${holder.purpose ? ` (${holder.purpose})` : ''}`;
}
