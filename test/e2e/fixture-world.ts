/**
 * What both VS Code runners (code-server + Chromium, and @vscode/test-electron) give the suite:
 * the fixture mirror with Node.js, Go and Zig releases, its stats endpoint, an empty QM_HOME and
 * a copy of a workspace fixture, all under one temp dir; `env` is what the extension host needs.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../fixtures/go-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { DEFAULT_ZIG_RELEASES, publishZigDist } from '../fixtures/zig-dist';
import { MirrorStatsServer } from './mirror-stats-server';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The suite's entry (extensionTestsPath); `npm run build` makes it from test/vscode/index.ts. */
export const EXTENSION_TESTS_PATH = path.join(REPO_ROOT, 'out/test/vscode/index.js');
/** The second extension the suite loads beside ours (test/vscode/api-consumer, built by `npm run build`). */
export const API_CONSUMER_PATH = path.join(REPO_ROOT, 'out/test/api-consumer');

/** Both the extension and its test bundle come from `npm run build`; say so instead of a confusing VS Code error. */
export async function assertBuilt(): Promise<void> {
  for (const file of [path.join(REPO_ROOT, 'out/extension.js'), EXTENSION_TESTS_PATH, path.join(API_CONSUMER_PATH, 'extension.js')]) {
    await fs.access(file).catch(() => {
      throw new Error(`${path.relative(REPO_ROOT, file)} is missing: run npm run build first`);
    });
  }
}

export interface FixtureWorldOptions {
  /** A directory copied to a fresh temp dir that VS Code opens; default test/vscode/workspace. */
  workspaceFixture?: string;
}

export class FixtureWorld {
  readonly mirror: MirrorServer;
  readonly stats: MirrorStatsServer;
  /** An empty QM_HOME. */
  readonly home: string;
  /** The copied workspace folder. */
  readonly workspace: string;
  readonly #root: string;

  private constructor(root: string, mirror: MirrorServer, stats: MirrorStatsServer) {
    this.#root = root;
    this.mirror = mirror;
    this.stats = stats;
    this.home = path.join(root, 'home');
    this.workspace = path.join(root, 'workspace');
  }

  static async create(options: FixtureWorldOptions = {}): Promise<FixtureWorld> {
    const fixture = path.resolve(REPO_ROOT, options.workspaceFixture ?? 'test/vscode/workspace');
    // realpath: VS Code reports workspace paths resolved, and /tmp may be a symlink.
    const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'qm-vscode-world-')));
    const started: { mirror?: MirrorServer; stats?: MirrorStatsServer } = {};
    try {
      await fs.mkdir(path.join(root, 'home'));
      await fs.cp(fixture, path.join(root, 'workspace'), { recursive: true });
      started.mirror = await MirrorServer.start();
      started.stats = await MirrorStatsServer.start(started.mirror);
      await Promise.all([
        publishNodeDist(started.mirror, DEFAULT_RELEASES),
        publishGoDist(started.mirror, DEFAULT_GO_RELEASES),
        publishZigDist(started.mirror, DEFAULT_ZIG_RELEASES),
      ]);
      return new FixtureWorld(root, started.mirror, started.stats);
    } catch (error) {
      await started.stats?.close();
      await started.mirror?.close();
      await fs.rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * For the extension host: the product's own variables point at the fixture, and the QM_TEST_*
   * ones let tests reach it (test/vscode/mirror-stats.ts reads QM_TEST_MIRROR_STATS); QM_TEST_GREP
   * (run only matching tests) passes through from this process.
   */
  get env(): Record<string, string> {
    const grep = process.env.QM_TEST_GREP;
    return {
      ...(grep === undefined ? {} : { QM_TEST_GREP: grep }),
      QM_HOME: this.home,
      QM_MIRROR_NODE: `${this.mirror.url}/dist`,
      QM_MIRROR_GO: `${this.mirror.url}/dl`,
      QM_MIRROR_ZIG: `${this.mirror.url}/download`,
      QM_TEST_MIRROR: this.mirror.url,
      QM_TEST_MIRROR_STATS: this.stats.url,
      QM_TEST_WORKSPACE: this.workspace,
    };
  }

  async dispose(): Promise<void> {
    await this.stats.close();
    await this.mirror.close();
    await fs.rm(this.#root, { recursive: true, force: true });
  }
}
