import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsError, isQmError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import type { ProcessIdentity } from './process-identity';
import { createTempPath, removeTemp } from './temp-files';

/** Who holds a lock, and for what: what a waiting process shows its user. */
export interface LockOwner extends ProcessIdentity {
  /** The lock instance this record belongs to (the token's name says which instance holds). */
  instance?: string;
  purpose: string;
  /** ISO time the lock was taken, by the holder's clock: shown to users, never compared. */
  since: string;
}

/** A lock as one look at the disk found it. */
export type LockState =
  /** No lock directory. */
  | { kind: 'free' }
  /** A directory without a token: its holder released it (or died releasing it); anyone may clear it. */
  | { kind: 'released' }
  /** Held: `token` is the one token's name, which changes with every heartbeat. */
  | { kind: 'held'; token: string; instance: string; beat: number; owner: LockOwner | undefined };

const TOKEN = /^holder\.([0-9a-f]{16})\.(\d+)$/;

function tokenName(instance: string, beat: number): string {
  return `holder.${instance}.${beat}`;
}

function ownerName(instance: string): string {
  return `owner.${instance}.json`;
}

export function newInstance(): string {
  return randomBytes(8).toString('hex');
}

/** The errno code of a Node error, also when wrapped in a QmError by fsError. */
function errno(error: unknown): string | undefined {
  const cause = isQmError(error) ? error.details.cause : error;
  return (cause as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * One lock on disk: `locks/<key>.lock/`, a directory holding exactly one token file while held,
 * `holder.<instance>.<beat>`, and the owner record `owner.<instance>.json`. Every change of hands
 * is one rename or unlink that succeeds for one process only and only from the exact state it
 * was decided on:
 *
 * - take a free lock: rename a complete private directory (record and token inside) into place;
 *   it fails when a lock directory is there (rename never replaces a non-empty directory);
 * - heartbeat: rename the token from beat n to n + 1;
 * - take over a stale lock: rename the token `holder.<old>.<n>` the waiter judged stale to
 *   `holder.<new>.0`: it fails if the holder beat since, or another waiter took it first;
 * - release: unlink the token; what is left (records) is cleared by anyone, then the directory.
 *
 * A directory without a token can never get one back (no rename targets a token into an
 * existing directory), and every other name in it is unique to one instance, so clearing it
 * can never touch a live lock.
 */
export class LockDirectory {
  readonly path: string;

  constructor(
    private readonly locksDir: string,
    readonly key: string,
  ) {
    this.path = path.join(locksDir, `${key}.lock`);
  }

  async read(): Promise<LockState> {
    let names: string[];
    try {
      names = await fs.readdir(this.path);
    } catch (error) {
      if (errno(error) === 'ENOENT') return { kind: 'free' };
      throw fsError(error, 'read lock', this.path);
    }
    const token = names.filter((name) => TOKEN.test(name)).sort()[0];
    if (token === undefined) return { kind: 'released' };
    const [, instance, beat] = TOKEN.exec(token)!;
    return { kind: 'held', token, instance: instance!, beat: Number(beat), owner: await this.readOwner(instance!) };
  }

  /** Takes the lock if no one holds it; false when a lock directory is already there. */
  async create(owner: LockOwner & { instance: string }): Promise<boolean> {
    const staging = await createTempPath(this.locksDir, 'dir', owner);
    try {
      await fs.mkdir(staging);
      await fs.writeFile(path.join(staging, ownerName(owner.instance)), JSON.stringify(owner), { flag: 'wx' });
      await fs.writeFile(path.join(staging, tokenName(owner.instance, 0)), '', { flag: 'wx' });
    } catch (error) {
      await removeTemp(staging).catch(() => undefined);
      throw fsError(error, 'prepare lock', this.path);
    }
    try {
      await fs.rename(staging, this.path);
      return true;
    } catch (error) {
      await removeTemp(staging).catch(() => undefined);
      const code = errno(error);
      if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
      throw fsError(error, 'take lock', this.path);
    }
  }

  /**
   * Takes over the lock from the exact token `stale` (judged stale or dead by the caller): only
   * one waiter can, and none once the holder has beaten since. The new owner record goes in
   * first, so the lock is never held without one.
   */
  async takeOver(stale: Extract<LockState, { kind: 'held' }>, owner: LockOwner & { instance: string }): Promise<boolean> {
    const record = path.join(this.path, ownerName(owner.instance));
    try {
      await writeFileAtomic(record, JSON.stringify(owner), { durable: false, action: 'write lock owner' });
    } catch (error) {
      if (errno(error) === 'ENOENT') return false; // released meanwhile
      throw error;
    }
    try {
      await fs.rename(path.join(this.path, stale.token), path.join(this.path, tokenName(owner.instance, 0)));
    } catch (error) {
      await fs.rm(record, { force: true }).catch(() => undefined);
      if (errno(error) === 'ENOENT') return false;
      throw fsError(error, 'take over lock', this.path);
    }
    await fs.rm(path.join(this.path, ownerName(stale.instance)), { force: true }).catch(() => undefined);
    return true;
  }

  /** Advances the token from `beat` to `beat + 1`; false when it is gone (taken over). */
  async beat(instance: string, beat: number): Promise<boolean> {
    try {
      await fs.rename(path.join(this.path, tokenName(instance, beat)), path.join(this.path, tokenName(instance, beat + 1)));
      return true;
    } catch (error) {
      if (errno(error) === 'ENOENT') return false;
      throw fsError(error, 'refresh lock', this.path);
    }
  }

  /**
   * Unlocks: removes the token (false when it was no longer ours), then clears what is left.
   * Unlocking does not depend on the clearing: a record that cannot be removed stays behind in
   * a released directory, which the next taker or recovery clears.
   */
  async release(instance: string, beat: number): Promise<boolean> {
    try {
      await fs.unlink(path.join(this.path, tokenName(instance, beat)));
    } catch (error) {
      if (errno(error) === 'ENOENT') return false;
      throw fsError(error, 'unlock', this.path);
    }
    await this.clear().catch(() => undefined);
    return true;
  }

  /** Removes a released lock directory (no token): its records, then itself. A held one is left alone. */
  async clear(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.path);
    } catch {
      return;
    }
    if (names.some((name) => TOKEN.test(name))) return;
    // Every name here is unique to one instance: if the directory was replaced since we read it,
    // these removals find nothing, and rmdir refuses a non-empty directory.
    for (const name of names) await fs.rm(path.join(this.path, name), { recursive: true, force: true });
    try {
      await fs.rmdir(this.path);
    } catch (error) {
      const code = errno(error);
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fsError(error, 'remove lock', this.path);
    }
  }

  private async readOwner(instance: string): Promise<LockOwner | undefined> {
    try {
      const owner = JSON.parse(await fs.readFile(path.join(this.path, ownerName(instance)), 'utf8')) as LockOwner;
      return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
    } catch {
      return undefined;
    }
  }
}
