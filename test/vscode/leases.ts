/**
 * Who holds a lease on an installed toolchain, read the way `qm gc` and Uninstall read it
 * (src/core/install/leases.ts) from the QM_HOME the suite's extension host was given.
 */
import { watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HomeLayout } from '../../src/core/home';
import { LeaseManager, type LeaseHolder } from '../../src/core/install/leases';

function home(): string {
  const value = process.env.QM_HOME;
  if (value === undefined || value === '') throw new Error('QM_HOME is not set: run the suite through npm run test:vscode');
  return value;
}

/** The holders of every installed platform of `tool` `version` (Zig names its platforms its own way: x86_64-linux). */
export async function leaseHolders(tool: string, version: string): Promise<LeaseHolder[]> {
  const trees = await fs.readdir(path.join(home(), 'toolchains', tool)).catch(() => [] as string[]);
  const platforms = trees.filter((name) => name.startsWith(`${version}-`)).map((name) => name.slice(version.length + 1));
  const manager = new LeaseManager(new HomeLayout(home()));
  return (await Promise.all(platforms.map((platform) => manager.readers({ tool, version, platform })))).flat();
}

/** Resolves with the holders once `check` holds, looked at again on every change under QM_HOME/state/leases. */
export async function untilLeaseHolders(tool: string, version: string, what: string, check: (holders: LeaseHolder[]) => boolean, timeoutMs = 20_000): Promise<LeaseHolder[]> {
  const dir = path.join(home(), 'state', 'leases');
  await fs.mkdir(dir, { recursive: true });
  let wake: () => void = () => undefined;
  // Watching starts before the first look: a change between the two is not missed.
  const watcher = watch(dir, { recursive: true }, () => wake());
  const timer = setTimeout(() => wake(), timeoutMs);
  const started = performance.now();
  try {
    for (;;) {
      const changed = new Promise<void>((resolve) => (wake = resolve));
      const holders = await leaseHolders(tool, version);
      if (check(holders)) return holders;
      if (performance.now() - started >= timeoutMs) throw new Error(`timed out waiting for ${what}; ${tool} ${version}'s lease holders: ${JSON.stringify(holders)}`);
      await changed;
    }
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
}
