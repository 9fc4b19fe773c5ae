import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { CoordinatorHost } from '../../src/core/coordinator/host';
import { parsePlatform } from '../../src/core/platform';
import { createCore, type CoreServices } from '../../src/core/services';
import { DEFAULT_GO_RELEASES, publishGoDist, type GoArtifact } from '../fixtures/go-dist';
import { mirrorEnv } from '../fixtures/all-dists';
import { publishBunDist } from '../fixtures/bun-dist';
import { publishDenoDist } from '../fixtures/deno-dist';
import { publishJavaDist } from '../fixtures/java-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { publishPythonDist } from '../fixtures/python-dist';
import { publishRustDist } from '../fixtures/rust-dist';
import { DEFAULT_RELEASES, publishNodeDist, type FixtureRelease, type PublishedArtifact } from '../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist, type ZigArtifact } from '../fixtures/zig-dist';
import { FULL_CAPABILITIES, LspTestClient, type LspClientOptions } from './lsp-client';
import { coordinatorBackend, type BackendCalls } from './lsp-coordinator';
import { tempHome } from './temp-home';

export const PLATFORM = 'linux-x64';

export interface WorldOptions {
  /** Extra bytes in each Node.js archive (to watch a download's progress). */
  nodePayloadBytes?: number;
  /** Default: the fixture's six releases. */
  nodeReleases?: readonly FixtureRelease[];
}

/**
 * Everything a language-server test stands on: a mirror of nodejs.org, go.dev and ziglang.org on
 * 127.0.0.1, a temporary QM_HOME, a real coordinator host (as the extension hosts one) over
 * createCore, and a directory for projects.
 */
export class LspWorld {
  private readonly cleanups: Array<() => Promise<unknown>> = [];
  private projects = 0;

  private constructor(
    readonly mirror: MirrorServer,
    readonly node: PublishedArtifact[],
    readonly go: GoArtifact[],
    readonly zig: ZigArtifact[],
    readonly root: string,
    readonly core: CoreServices,
    readonly host: CoordinatorHost,
  ) {}

  static async start(options: WorldOptions = {}): Promise<LspWorld> {
    const mirror = await MirrorServer.start();
    const [node, go, zig] = await Promise.all([
      publishNodeDist(mirror, options.nodeReleases ?? DEFAULT_RELEASES, { platforms: ['linux-x64'], payloadBytes: options.nodePayloadBytes ?? 0 }),
      publishGoDist(mirror, DEFAULT_GO_RELEASES, { platforms: ['linux-amd64'] }),
      publishZigDist(mirror, DEFAULT_ZIG_RELEASES, { platforms: ['x86_64-linux'] }),
      // Python, Java, Rust, Deno and Bun in their own layouts (published after these, so node's stay as above).
      publishPythonDist(mirror),
      publishJavaDist(mirror),
      publishRustDist(mirror),
      publishDenoDist(mirror),
      publishBunDist(mirror),
    ]);
    const { home: root, dispose } = await tempHome('qm-lsp-');
    const env = LspWorld.envFor(mirror, root);
    const core = createCore({ home: env.QM_HOME!, env });
    const host = await CoordinatorHost.start({ core, platform: parsePlatform(PLATFORM) });
    const world = new LspWorld(mirror, node, go, zig, root, core, host);
    world.cleanups.push(() => mirror.close(), dispose, () => core.close(), () => host.dispose());
    return world;
  }

  private static envFor(mirror: MirrorServer, root: string): NodeJS.ProcessEnv {
    return {
      QM_HOME: path.join(root, 'qm'),
      ...mirrorEnv(mirror),
      QM_PLATFORM: PLATFORM,
    };
  }

  /** QM_HOME, mirrors and platform, for `qm` children. */
  get env(): NodeJS.ProcessEnv {
    return LspWorld.envFor(this.mirror, this.root);
  }

  /** A fresh project directory with these files; returns the directory. */
  async project(files: Record<string, string> = {}): Promise<string> {
    const dir = path.join(this.root, 'projects', `p${++this.projects}`);
    await fs.mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
    return dir;
  }

  uri(dir: string, file: string): string {
    return pathToFileURL(path.join(dir, file)).href;
  }

  /** A language server wired to this world's coordinator through the test double of the client. */
  async server(options: LspClientOptions = {}): Promise<{ client: LspTestClient; calls: BackendCalls }> {
    const backend = coordinatorBackend(this.host);
    const { client } = await LspTestClient.start({ capabilities: FULL_CAPABILITIES, ...options, backend, env: { QM_PLATFORM: PLATFORM, ...options.env } });
    this.cleanups.push(() => client.kill());
    return { client, calls: backend.calls };
  }

  /**
   * Returns once `client`'s server holds the version lists of `tools`: a spec no release matches
   * is reported from the list ("No released version of ...") only when the list has arrived.
   */
  async warmVersions(client: LspTestClient, tools: string[]): Promise<void> {
    const uri = this.uri(await this.project(), 'qm.toml');
    await client.open(uri, `[tools]\n${tools.map((tool) => `${tool} = "999"`).join('\n')}\n`);
    const fromList = (tool: string) => (d: Diagnostic): boolean => d.code === 'no-version' && typeof d.message === 'string' && d.message.startsWith(`No released version of ${tool} matches`);
    await client.current(uri, (diagnostics) => tools.every((tool) => diagnostics.some(fromList(tool))));
    await client.close(uri);
  }

  /** Runs every cleanup, even after one fails (a mirror left open would keep the test process alive), then throws the first failure. */
  async dispose(): Promise<void> {
    const failures: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) await Promise.resolve().then(cleanup).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  }
}
