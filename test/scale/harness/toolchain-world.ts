import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HomeLayout } from '../../../src/core/home';
import { MirrorServer, type Fault, type PathStats } from '../../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../../fixtures/node-dist';

const run = promisify(execFile);

export const VERSION = '22.12.0';
export const PLATFORM = 'linux-x64';

/**
 * The fixture mirror with Node.js releases for linux-x64, plus what an installed 22.12.0 must
 * look like: the archive unpacked by the system's own tar, as an independent reference.
 */
export class ToolchainWorld {
  private constructor(
    readonly mirror: MirrorServer,
    /** 22.12.0's archives for linux-x64, .tar.gz and .tar.xz (qm picks one). */
    readonly archives: PublishedArtifact[],
    /** Every release's archives, for tests that install another version beside 22.12.0. */
    private readonly all: PublishedArtifact[],
    /** Every entry of the reference tree (see `treeManifest`). */
    readonly reference: string[],
  ) {}

  static async start(payloadBytes: number): Promise<ToolchainWorld> {
    const mirror = await MirrorServer.start();
    const artifacts = await publishNodeDist(mirror, DEFAULT_RELEASES, { platforms: [PLATFORM], payloadBytes });
    const archives = artifacts.filter((a) => a.version === `v${VERSION}`);
    const gz = archives.find((a) => a.ext === 'tar.gz')!;
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-reference-'));
    try {
      const body = Buffer.from(await (await fetch(gz.url)).arrayBuffer());
      await fs.writeFile(path.join(scratch, 'archive.tar.gz'), body);
      await fs.mkdir(path.join(scratch, 'tree'));
      await run('tar', ['-xzf', path.join(scratch, 'archive.tar.gz'), '-C', path.join(scratch, 'tree'), '--strip-components=1']);
      const reference = await treeManifest(path.join(scratch, 'tree'));
      mirror.resetStats();
      return new ToolchainWorld(mirror, archives, artifacts, reference);
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }

  /** A release's archives for linux-x64 ('22.11.0'); default 22.12.0's. */
  archivesOf(version = VERSION): PublishedArtifact[] {
    const found = this.all.filter((a) => a.version === `v${version}`);
    assert.ok(found.length > 0, `the mirror has node ${version}`);
    return found;
  }

  /** Applies a fault to both of a release's archives, whichever one qm fetches. */
  faultArchives(fault: Fault, version = VERSION): void {
    for (const archive of this.archivesOf(version)) this.mirror.fault(archive.path, fault);
  }

  /** The archive qm fetched (the one the mirror saw requests for), with its stats. */
  fetchedArchive(version = VERSION): { archive: PublishedArtifact; stats: PathStats } {
    const seen = this.archivesOf(version).map((archive) => ({ archive, stats: this.mirror.stats(archive.path) })).filter((s) => s.stats.requests > 0);
    assert.equal(seen.length, 1, `qm fetched exactly one of ${version}'s archives: ${JSON.stringify(seen.map((s) => s.archive.path))}`);
    return seen[0]!;
  }

  /** Resolves once either of a release's archives meets `predicate` (qm fetches one of them). */
  async archiveStats(predicate: (stats: PathStats) => boolean, version = VERSION): Promise<void> {
    const settled = new AbortController();
    try {
      await Promise.any(this.archivesOf(version).map((archive) => this.mirror.waitFor(archive.path, predicate, settled.signal)));
    } finally {
      settled.abort(); // The other archive's wait would otherwise stay registered.
    }
  }

  /** Resolves once the upstream has started sending a release's archive to someone. */
  archiveFlowing(version = VERSION): Promise<void> {
    return this.archiveStats((s) => s.bytesSent > 0, version);
  }

  /** Every path the upstream was asked for, with how often: what "one GET per file" checks. */
  upstreamRequests(paths: string[]): Record<string, number> {
    return Object.fromEntries(paths.map((p) => [p, this.mirror.stats(p).requests]));
  }

  close(): Promise<void> {
    return this.mirror.close();
  }
}

/**
 * QM_HOME, the mirror base and the platform: what every `qm` in these tests runs with. Alone
 * (QM_COORDINATOR=off) unless `coordinator`: then it looks for one at its home's endpoint.
 */
export function qmEnv(home: string, nodeMirror: string, options: { coordinator?: boolean } = {}): NodeJS.ProcessEnv {
  return { QM_HOME: home, QM_MIRROR_NODE: nodeMirror, QM_PLATFORM: PLATFORM, QM_COORDINATOR: options.coordinator ? '' : 'off' };
}

/** Installed, receipted, runnable, and file for file the reference tree. */
export async function assertInstalledTree(home: string, reference: string[], label = home): Promise<void> {
  const dir = new HomeLayout(home).toolchainDir('node', VERSION, PLATFORM);
  await fs.access(path.join(dir, '.qm-receipt.json')).catch(() => assert.fail(`${label}: no receipt in ${dir}`));
  const { stdout } = await run(path.join(dir, 'bin', 'node'), ['--version']);
  assert.equal(stdout.trim(), `v${VERSION}`, `${label}: bin/node runs`);
  const tree = (await treeManifest(dir)).filter((line) => !line.startsWith('.qm-receipt.json '));
  assert.deepEqual(tree, reference, `${label}: the installed tree is the archive's, entry for entry`);
}

/** One line per entry below `dir`: path, kind, permission bits, and content digest or link target. */
export async function treeManifest(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    const stat = await fs.lstat(full);
    const mode = (stat.mode & 0o777).toString(8);
    if (stat.isSymbolicLink()) lines.push(`${rel} link ${await fs.readlink(full)}`);
    else if (stat.isDirectory()) lines.push(`${rel} dir ${mode}`);
    else lines.push(`${rel} file ${mode} ${createHash('sha256').update(await fs.readFile(full)).digest('hex')}`);
  }
  return lines.sort();
}
