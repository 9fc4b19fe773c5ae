// The real Node.js release (test/fixtures/real-node-release.ts) on a loopback mirror in the
// nodejs.org/dist layout, in its own process so that no benchmarked client shares its event loop.
// Three views of one release: /dist lists both archives, /dist-gz only the .tar.gz and /dist-xz
// only the .tar.xz (so qm can be held to one kind). Forked with IPC; answers {type:'stats'},
// {type:'reset'} and {type:'throttle', bytesPerSecond} (0: full speed) messages.
import { MirrorServer, type PathStats } from '../test/fixtures/mirror-server';
import { publishRealNodeRelease, realNodeRelease, type PublishedRealArchive, type RealArchiveKind } from '../test/fixtures/real-node-release';

export type MirrorView = 'both' | RealArchiveKind;

export interface MirrorReady {
  type: 'ready';
  version: string;
  /** The unpacked tree and its per-file manifest, for checking installs. */
  tree: string;
  manifestFile: string;
  /** Base URL per view, as QM_MIRROR_NODE / MISE_NODE_MIRROR_URL. */
  mirrors: Record<MirrorView, string>;
  archives: Record<MirrorView, Partial<Record<RealArchiveKind, PublishedRealArchive>>>;
}

export interface MirrorMessage {
  type: 'stats' | 'reset' | 'throttle';
  bytesPerSecond?: number;
}

const VIEWS: Array<[MirrorView, string, RealArchiveKind[]]> = [
  ['both', '/dist', ['tar.gz', 'tar.xz']],
  ['tar.gz', '/dist-gz', ['tar.gz']],
  ['tar.xz', '/dist-xz', ['tar.xz']],
];

async function serve(): Promise<void> {
  const release = await realNodeRelease(['tar.gz', 'tar.xz'], (line) => console.error(`bench: ${line}`));
  const server = await MirrorServer.start();
  const mirrors = {} as MirrorReady['mirrors'];
  const archives = {} as MirrorReady['archives'];
  for (const [view, prefix, kinds] of VIEWS) {
    mirrors[view] = `${server.url}${prefix}`;
    archives[view] = await publishRealNodeRelease(server, release, prefix, kinds);
  }
  const paths = Object.values(archives).flatMap((byKind) => Object.values(byKind).map((archive) => archive.path));
  process.on('message', (message: MirrorMessage) => {
    if (message.type === 'stats') {
      const stats: Record<string, PathStats> = Object.fromEntries(paths.map((path) => [path, server.stats(path)]));
      process.send!({ type: 'stats', stats });
    } else if (message.type === 'reset') {
      server.resetStats();
      process.send!({ type: 'reset' });
    } else {
      for (const path of paths) {
        server.clearFaults(path);
        if (message.bytesPerSecond) server.fault(path, { kind: 'throttle', bytesPerSecond: message.bytesPerSecond });
      }
      process.send!({ type: 'throttle' });
    }
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  const ready: MirrorReady = { type: 'ready', version: release.version, tree: release.tree, manifestFile: release.manifestFile, mirrors, archives };
  process.send!(ready);
}

if (require.main === module) void serve();
