import * as path from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { QmError, isQmError } from '../errors';
import type { InstalledToolchain } from '../install/installer';
import type { Lease, LeaseManager, ToolchainId } from '../install/leases';
import { prependPath } from './path-env';
import { exitCode, findOnPath, spawnTool } from './spawn';

export interface RunInToolchainsOptions<T extends ToolchainId = ToolchainId> {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  signal?: AbortSignal;
  /** Installs toolchains that are missing (or went missing); without it, a missing one is ENOTINSTALLED. */
  install?: (missing: T[]) => Promise<void>;
}

/** Rounds of "install what is missing, lease it" before giving up (gc or uninstall keep removing it). */
const LEASE_ROUNDS = 3;

/**
 * Runs a command with toolchains first on PATH, each held by a lease from before the command
 * is looked up until it exits, so gc and uninstall leave its tree alone while it runs (the
 * child's own PID holds the lease too, should this process die first). A command a toolchain
 * provides runs from that leased tree or not at all: it never falls through PATH to another
 * binary of the same name.
 */
export async function runInToolchains<T extends ToolchainId>(
  core: { leases: LeaseManager; installer: { find(t: T): Promise<InstalledToolchain | undefined> } },
  toolchains: T[],
  command: string,
  args: string[],
  options: RunInToolchainsOptions<T> = {},
): Promise<number> {
  const leases = await leaseAll(core, toolchains, command, options);
  try {
    const trees = await Promise.all(toolchains.map(async (toolchain) => (await core.installer.find(toolchain))!));
    const binDirs = trees.flatMap((tree) => tree.binPaths);
    const program = await toolchainProgram(command, trees, binDirs);
    // The toolchains' own variables (Java's JAVA_HOME), as their receipts carry them.
    const variables = Object.assign({}, ...trees.map((tree) => tree.env)) as Record<string, string>;
    const env = { ...prependPath(options.env ?? process.env, binDirs), ...variables };
    const child = await spawnTool(program ?? command, args, {
      env,
      ...(program !== undefined ? { argv0: command } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.stdio !== undefined ? { stdio: options.stdio } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    const exited = exitCode(child, command, options.signal);
    exited.catch(() => undefined); // awaited below, after the leases are extended
    if (child.pid !== undefined) await Promise.all(leases.map((lease) => lease.addHolder(child.pid!))).catch(() => undefined);
    return await exited;
  } finally {
    await Promise.all(leases.map((lease) => lease.release()));
  }
}

/** Leases every toolchain, installing what is missing; the lease re-checks each tree after it is written. */
async function leaseAll<T extends ToolchainId>(
  core: { leases: LeaseManager },
  toolchains: T[],
  command: string,
  options: RunInToolchainsOptions<T>,
): Promise<Lease[]> {
  const held = new Map<T, Lease>();
  try {
    for (let round = 1; ; round++) {
      const missing: T[] = [];
      for (const toolchain of toolchains.filter((t) => !held.has(t))) {
        try {
          held.set(toolchain, await core.leases.hold(toolchain, { purpose: `qm exec ${command}`, ...(options.signal ? { signal: options.signal } : {}) }));
        } catch (error) {
          if (!isQmError(error, 'ENOTINSTALLED')) throw error;
          missing.push(toolchain);
        }
      }
      if (missing.length === 0) return toolchains.map((t) => held.get(t)!);
      if (options.install === undefined || round >= LEASE_ROUNDS) {
        const names = missing.map((t) => `${t.tool} ${t.version}`).join(', ');
        throw new QmError('ENOTINSTALLED', `${names} ${missing.length === 1 ? 'is' : 'are'} not installed${options.install ? ' (removed again while installing)' : ''}`);
      }
      await options.install(missing);
    }
  } catch (error) {
    await Promise.all([...held.values()].map((lease) => lease.release()));
    throw error;
  }
}

/**
 * The absolute path of `command` in a leased tree, when it is a bare name one of them provides
 * (in a bin directory, or declared by the toolchain); ENOTINSTALLED when a toolchain declares it
 * but its tree lacks it. Undefined for any other command (it is looked up on PATH as usual).
 */
async function toolchainProgram(command: string, trees: InstalledToolchain[], binDirs: string[]): Promise<string | undefined> {
  if (command.includes('/') || command.includes(path.sep)) return undefined;
  const found = await findOnPath(command, binDirs.join(path.delimiter));
  if (found !== undefined) return found;
  const owner = trees.find((tree) => tree.receipt.executables.includes(command));
  if (owner === undefined) return undefined;
  throw new QmError('ENOTINSTALLED', `${command} of ${owner.tool} ${owner.version} is not in its tree ${owner.dir}; reinstall it with "qm uninstall ${owner.tool}@${owner.version}" then "qm install ${owner.tool}@${owner.version}"`, {
    path: owner.dir,
  });
}
