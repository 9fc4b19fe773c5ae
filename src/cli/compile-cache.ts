import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { defaultHome, HomeLayout } from '../core/home';
import { bytesHash, nameHash } from '../core/paths/name-hash';

// V8's compiled code for qm's own bundles, kept under QM_HOME so that a run skips most of parsing
// and compiling them: on Node 22.1 and later through module.enableCompileCache; before it (Node 20
// has none) for the fast path's bundle by hand, through vm.Script's cachedData. A cache only ever
// saves time: whatever cannot be read, matched or written is compiled as if there were none.

type EnableCompileCache = (dir?: string) => unknown;
const enableNodeCache = (nodeModule as { enableCompileCache?: EnableCompileCache }).enableCompileCache;

/**
 * Where the cache goes, or undefined for none: NODE_COMPILE_CACHE already chose a place (Node
 * enabled it before any code ran), NODE_DISABLE_COMPILE_CACHE is set, or QM_HOME is unusable
 * (the command itself reports that).
 */
function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  try {
    return new HomeLayout(defaultHome(env)).compileCacheDir;
  } catch {
    return undefined;
  }
}

/** On Node 22.1 and later, caches the code of every bundle loaded after this call. */
export function enableCompileCache(env: NodeJS.ProcessEnv): void {
  const dir = enableNodeCache && cacheDir(env);
  if (!dir) return;
  try {
    enableNodeCache(dir);
  } catch {
    // No cache this time.
  }
}

export interface LoadedBundle<T> {
  exports: T;
  /** Writes the code compiled so far (lazily compiled functions included) when the cache lacked it. */
  keep(): Promise<void>;
}

/**
 * Requires one of qm's own bundles (out/cli-fast.js) with its compiled code cached. Before Node
 * 22.1 the bundle runs as Node's CommonJS loader would run it (same wrapper, a require of its
 * own), compiled with the cached data when there is any. Release builds of V8 check neither the
 * source (only its length) nor the data, so both are checked here: the cache file is named by the
 * bundle file's identity (device, inode, size, mtime and ctime, from the descriptor it is read
 * through: any rewrite changes the ctime, so a rebuilt, reinstalled or second copy of qm never
 * gets another bundle's code, and two installs keep a file each), and its first line holds a hash
 * of the data, so a corrupted file is compiled afresh and replaced rather than run (a flipped byte
 * in data V8 accepts can crash it). V8 itself rejects data of another V8 version or other flags.
 * (Hashing the bundle's 110 KB instead cost 5 ms of the 7 the cache saves.)
 */
export function loadBundle<T>(file: string, env: NodeJS.ProcessEnv): LoadedBundle<T> {
  const dir = cacheDir(env);
  if (enableNodeCache || dir === undefined) {
    enableCompileCache(env);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a bundle beside this one, by path
    return { exports: require(file) as T, keep: () => Promise.resolve() };
  }
  const fd = openSync(file, 'r');
  let bytes: Buffer;
  let identity: string;
  try {
    const stat = fstatSync(fd, { bigint: true });
    identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const cacheFile = path.join(dir, `${path.basename(file, '.js')}.${nameHash(identity).slice(0, 16)}.${process.version}-${process.arch}.v8`);
  let cachedData: Buffer | undefined;
  try {
    const stored = readFileSync(cacheFile);
    const newline = stored.indexOf(10);
    const data = stored.subarray(newline + 1);
    if (newline > 0 && stored.subarray(0, newline).toString() === bytesHash(data)) cachedData = data;
  } catch {
    // Not cached yet.
  }
  const script = new Script(nodeModule.wrap(bytes.toString('utf8')), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  const module = { exports: {} as unknown };
  wrapper.call(module.exports, module.exports, nodeModule.createRequire(file), module, file, path.dirname(file));
  let fresh = cachedData === undefined || script.cachedDataRejected === true;
  return {
    exports: module.exports as T,
    keep: async () => {
      if (!fresh) return;
      fresh = false;
      try {
        /* eslint-disable @typescript-eslint/no-require-imports -- only on the run that writes the cache */
        const { mkdir } = require('node:fs/promises') as typeof import('node:fs/promises');
        const { writeFileAtomic } = require('../core/store/atomic-write') as typeof import('../core/store/atomic-write');
        /* eslint-enable @typescript-eslint/no-require-imports */
        const data = script.createCachedData();
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(cacheFile, Buffer.concat([Buffer.from(`${bytesHash(data)}\n`), data]), { durable: false, action: 'cache compiled code in' });
      } catch {
        // The next run compiles again.
      }
    },
  };
}
