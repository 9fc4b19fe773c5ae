import * as os from 'node:os';
import * as path from 'node:path';
import { assertComponent, toolPathSegment } from './paths/safe-names';

/**
 * The one directory every Quartermaster process shares: `QM_HOME` if set, else the platform's
 * cache directory. Windows and macOS follow their conventions; elsewhere the XDG spec.
 */
export function defaultHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  homedir: string = os.homedir(),
): string {
  const explicit = env.QM_HOME?.trim();
  if (explicit) return path.resolve(explicit);
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA ?? path.join(homedir, 'AppData', 'Local');
    return path.join(local, 'quartermaster', 'cache');
  }
  if (platform === 'darwin') return path.join(homedir, 'Library', 'Caches', 'quartermaster');
  const xdg = env.XDG_CACHE_HOME?.trim();
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const cacheRoot = xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir, '.cache');
  return path.join(cacheRoot, 'quartermaster');
}

/** Where each kind of thing lives under QM_HOME. Only this class knows the layout. */
export class HomeLayout {
  constructor(readonly root: string) {}

  get blobsDir(): string {
    return path.join(this.root, 'blobs', 'sha256');
  }

  /** Unique temp files; same filesystem as every final path, so publishing is a rename. */
  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  /** V8's compiled code of qm's own bundles (Node 22.1+, src/cli/compile-cache.ts); safe to delete. */
  get compileCacheDir(): string {
    return path.join(this.root, 'cache', 'v8-compile');
  }

  get locksDir(): string {
    return path.join(this.root, 'locks');
  }

  get toolchainsDir(): string {
    return path.join(this.root, 'toolchains');
  }

  /**
   * One unpacked toolchain: toolchains/node/22.11.0-linux-x64. Each name must have passed the
   * door for untrusted names (paths/safe-names.ts); one that did not is refused here too.
   */
  toolchainDir(tool: string, version: string, platform: string): string {
    assertComponent('tool name', toolPathSegment(tool));
    assertComponent('version', version);
    assertComponent('platform', platform);
    return path.join(this.toolchainsDir, toolPathSegment(tool), `${version}-${platform}`);
  }

  /** Small state files: the registry of manifests in use, the coordinator endpoint. */
  get stateDir(): string {
    return path.join(this.root, 'state');
  }

  get indexesDir(): string {
    return path.join(this.root, 'indexes');
  }

  /** Sharded by the first two hex digits so no directory grows to hundreds of thousands of entries. */
  blobPath(sha256: string): string {
    assertComponent('sha256', sha256);
    return path.join(this.blobsDir, sha256.slice(0, 2), sha256);
  }
}
