/**
 * The mirror side of the UI test: Node.js archives made big and slow enough that a download
 * visibly runs for seconds (so other requesters really arrive while it is in flight), and an audit
 * of what the mirror served: every archive fetched at most once, the expected ones exactly once,
 * and every version index at most once (the run is far shorter than the index TTL of an hour).
 */
import type { MirrorServer, PathStats } from '../../fixtures/mirror-server';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../../fixtures/go-dist';
import { DEFAULT_RELEASES, publishNodeDist } from '../../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist } from '../../fixtures/zig-dist';

export type ToolName = 'node' | 'go' | 'zig';

export interface Archive {
  tool: ToolName;
  /** Without a prefix: '22.12.0', '1.23.4', '0.13.0'. */
  version: string;
  /** The upstream platform spelling of each tool: 'linux-x64', 'linux-amd64', 'x86_64-linux'. */
  platform: string;
  /** URL path on the mirror. */
  path: string;
}

export interface SlowNodeOptions {
  /** Incompressible bytes added to every Node.js archive. */
  payloadBytes: number;
  /** The pace of every Node.js archive of this machine's platform. */
  bytesPerSecond: number;
}

/** This machine's platform as each upstream spells it (the extension host runs here too). */
export const HERE: Readonly<Record<ToolName, string>> = Object.freeze(
  process.arch === 'arm64'
    ? { node: 'linux-arm64', go: 'linux-arm64', zig: 'aarch64-linux' }
    : { node: 'linux-x64', go: 'linux-amd64', zig: 'x86_64-linux' },
);

export class DownloadAudit {
  readonly #mirror: MirrorServer;
  readonly archives: readonly Archive[];
  readonly indexes: readonly string[];

  private constructor(mirror: MirrorServer, archives: Archive[], indexes: string[]) {
    this.#mirror = mirror;
    this.archives = archives;
    this.indexes = indexes;
  }

  /**
   * Republishes the fixture's Node.js releases with a payload and throttles this platform's
   * archives; Go and Zig are published again unchanged (same bytes, same paths) to list their files.
   */
  static async prepare(mirror: MirrorServer, slow: SlowNodeOptions): Promise<DownloadAudit> {
    const [node, go, zig] = await Promise.all([
      publishNodeDist(mirror, DEFAULT_RELEASES, { payloadBytes: slow.payloadBytes }),
      publishGoDist(mirror, DEFAULT_GO_RELEASES),
      publishZigDist(mirror, DEFAULT_ZIG_RELEASES),
    ]);
    const archives: Archive[] = [
      ...node.map((a) => ({ tool: 'node' as const, version: a.version.replace(/^v/, ''), platform: a.platform, path: a.path })),
      ...go.map((a) => ({ tool: 'go' as const, version: a.version.replace(/^go/, ''), platform: a.platform, path: a.path })),
      ...zig.map((a) => ({ tool: 'zig' as const, version: a.version, platform: a.platform, path: a.path })),
    ];
    for (const archive of archives) {
      if (archive.tool === 'node' && archive.platform === HERE.node) mirror.fault(archive.path, { kind: 'throttle', bytesPerSecond: slow.bytesPerSecond });
    }
    const indexes = [
      '/dist/index.json',
      '/dist/index.tab',
      ...DEFAULT_RELEASES.map((r) => `/dist/${r.version}/SHASUMS256.txt`),
      '/dl/',
      '/download/index.json',
    ];
    return new DownloadAudit(mirror, archives, indexes);
  }

  /** The archives one tool version has for this platform (Node.js: .tar.gz and .tar.xz). */
  candidates(tool: ToolName, version: string): Archive[] {
    const found = this.archives.filter((a) => a.tool === tool && a.version === version && a.platform === HERE[tool]);
    if (found.length === 0) throw new Error(`the fixture mirror has no ${tool} ${version} for ${HERE[tool]}`);
    return found;
  }

  stats(path: string): PathStats {
    return this.#mirror.stats(path);
  }

  /** Resolves with the archive of `tool` `version` whose first GET has arrived. */
  async whenRequested(tool: ToolName, version: string, signal: AbortSignal): Promise<Archive> {
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    try {
      return await Promise.any(
        this.candidates(tool, version).map((archive) => this.#mirror.waitFor(archive.path, (s) => s.gets >= 1, both).then(() => archive)),
      );
    } catch (error) {
      throw error instanceof AggregateError ? (error.errors[0] as Error) : error;
    } finally {
      stop.abort();
    }
  }

  /** Full bodies the mirror has finished sending for any archive of `tool` `version`. */
  fullBodies(tool: ToolName, version: string): number {
    return this.candidates(tool, version).reduce((sum, a) => sum + this.#mirror.stats(a.path).fullBodies, 0);
  }

  /** What went wrong, one line each; empty when every rule holds. */
  problems(expected: ReadonlyArray<{ tool: ToolName; version: string }>): string[] {
    const problems: string[] = [];
    const wanted = new Set(expected.flatMap((e) => this.candidates(e.tool, e.version).map((a) => a.path)));
    for (const e of expected) {
      const fetched = this.candidates(e.tool, e.version).map((a) => ({ path: a.path, s: this.#mirror.stats(a.path) })).filter((x) => x.s.requests > 0);
      const gets = fetched.reduce((sum, x) => sum + x.s.gets, 0);
      const full = fetched.reduce((sum, x) => sum + x.s.fullBodies, 0);
      const ranges = fetched.reduce((sum, x) => sum + x.s.rangeRequests, 0);
      if (fetched.length !== 1 || gets !== 1 || full !== 1 || ranges !== 0) {
        problems.push(`${e.tool} ${e.version}: expected one full GET of one archive, got ${describe(fetched)}`);
      }
    }
    for (const archive of this.archives) {
      if (wanted.has(archive.path)) continue;
      const s = this.#mirror.stats(archive.path);
      if (s.requests > 0) problems.push(`${archive.path} was requested ${s.requests} time(s) though nothing asked for ${archive.tool} ${archive.version}`);
    }
    for (const index of this.indexes) {
      const s = this.#mirror.stats(index);
      if (s.requests > 1) problems.push(`index ${index} was requested ${s.requests} times within one TTL`);
    }
    return problems;
  }

  /** One line per path the mirror served, for the log. */
  report(): string {
    const paths = [...this.indexes, ...this.archives.map((a) => a.path)];
    return paths
      .map((path) => ({ path, s: this.#mirror.stats(path) }))
      .filter((x) => x.s.requests > 0)
      .map((x) => `  ${x.path}: ${x.s.requests} request(s), ${x.s.gets} GET, ${x.s.rangeRequests} ranged, ${x.s.fullBodies} full bod${x.s.fullBodies === 1 ? 'y' : 'ies'}, ${x.s.bytesSent} bytes`)
      .join('\n');
  }
}

function describe(fetched: Array<{ path: string; s: PathStats }>): string {
  if (fetched.length === 0) return 'no request at all';
  return fetched.map((x) => `${x.path} (${x.s.gets} GET, ${x.s.rangeRequests} ranged, ${x.s.fullBodies} full)`).join('; ');
}
