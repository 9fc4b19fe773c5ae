import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { spawnQm, type Child } from '../helpers/child';
import { listFiles, tempHome } from '../helpers/temp-home';

/** Longer than any of these runs takes on a loaded machine; a run that outlives it hangs. */
const HANG_DEADLINE_MS = 60_000;

/**
 * A cloned project is untrusted input (issue 10, item 6): whatever qm.lock and qm.toml say, and
 * whatever symlinks the clone holds, `qm install` writes and deletes nothing outside QM_HOME and
 * the project, never hangs on a special file, and says which input was refused and where.
 */
describe('qm install in a hostile project: refused with EUNSAFEPATH, nothing outside touched', () => {
  let server: MirrorServer;
  let artifacts: PublishedArtifact[];
  let root: string;
  let project: string;
  let outside: string;
  let dispose: () => Promise<void>;
  let blob: { url: string; sha256: string };
  const children: Child[] = [];

  before(async () => {
    server = await MirrorServer.start();
    artifacts = await publishNodeDist(server, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    blob = server.addFile('/files/tool.bin', Buffer.from('the artifact\n'));
  });
  after(() => server.close());
  beforeEach(async () => {
    ({ home: root, dispose } = await tempHome());
    project = path.join(root, 'project');
    outside = path.join(root, 'outside');
    await fs.mkdir(project);
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'precious.txt'), 'precious\n');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await dispose();
  });

  const qmHome = (): string => path.join(root, 'qm');
  const env = (): NodeJS.ProcessEnv => ({ QM_HOME: qmHome(), QM_MIRROR_NODE: `${server.url}/dist`, QM_PLATFORM: 'linux-x64' });

  /** Runs qm to its end, failing the test (and killing qm) if it hangs. */
  async function qm(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const child = spawnQm(args, { cwd: project, env: env() });
    children.push(child);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`qm ${args.join(' ')} still running after ${HANG_DEADLINE_MS} ms: it hangs`)), HANG_DEADLINE_MS);
    });
    try {
      const { code } = await Promise.race([child.exited, hung]);
      return { code, stderr: child.stderr.join('\n') };
    } finally {
      clearTimeout(timer);
    }
  }

  async function assertOutsideUntouched(): Promise<void> {
    assert.deepEqual(await listFiles(outside), ['precious.txt']);
    assert.equal(await fs.readFile(path.join(outside, 'precious.txt'), 'utf8'), 'precious\n');
  }

  const artifactManifest = (dest: string): string => `[artifacts.tool]\nurl = "${blob.url}"\nsha256 = "${blob.sha256}"\ndest = "${dest}"\n`;

  it('a qm.lock version that climbs out of QM_HOME is refused, naming the file, line and value; the directory it names survives', async () => {
    // toolchains/node/../../../victim-linux-x64 is a sibling of QM_HOME.
    const victim = path.join(root, 'victim-linux-x64');
    await fs.mkdir(victim);
    await fs.writeFile(path.join(victim, 'precious.txt'), 'precious\n');
    const archive = artifacts.find((a) => a.version === 'v20.18.1' && a.ext === 'tar.gz')!;
    await fs.writeFile(path.join(project, 'qm.toml'), '[tools]\nnode = "20"\n');
    const lock = [
      'version = 1',
      '',
      '[[tool]]',
      'name = "node"',
      'spec = "20"',
      'platform = "linux-x64"',
      'version = "../../../victim"',
      `url = "https://nodejs.org/dist/v20.18.1/node-v20.18.1-linux-x64.tar.gz"`,
      `sha256 = "${archive.sha256}"`,
      '',
    ].join('\n');
    await fs.writeFile(path.join(project, 'qm.lock'), lock);
    for (const args of [['install'], ['install', '--locked']]) {
      const result = await qm(args);
      assert.equal(result.code, 2, `qm ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /EUNSAFEPATH/);
      assert.ok(result.stderr.includes(`${path.join(project, 'qm.lock')}:7`), `names the file and line: ${result.stderr}`);
      assert.ok(result.stderr.includes('"../../../victim"'), `names the value: ${result.stderr}`);
    }
    assert.deepEqual(await listFiles(victim), ['precious.txt'], 'the directory the lock named is as it was');
    assert.equal(await fs.readFile(path.join(project, 'qm.lock'), 'utf8'), lock, 'qm.lock is left as it was');
    assert.deepEqual(await listFiles(path.join(qmHome(), 'toolchains')), [], 'nothing was installed');
    await assertOutsideUntouched();
  });

  it('an artifact dest under a committed symlink to a folder outside the project is refused; the file outside keeps its content', async () => {
    await fs.writeFile(path.join(outside, 'file'), 'precious\n');
    await fs.symlink(outside, path.join(project, 'out'));
    await fs.writeFile(path.join(project, 'qm.toml'), artifactManifest('out/file'));
    const result = await qm(['install']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /EUNSAFEPATH/);
    assert.ok(result.stderr.includes(path.join(project, 'out')), `names the symlink: ${result.stderr}`);
    assert.equal(await fs.readFile(path.join(outside, 'file'), 'utf8'), 'precious\n');
    assert.deepEqual((await listFiles(outside)).sort(), ['file', 'precious.txt']);
    assert.equal((await fs.lstat(path.join(project, 'out'))).isSymbolicLink(), true, 'the symlink is left alone');
  });

  it('a dest missing inside a symlinked folder is refused too (no new file appears outside)', async () => {
    await fs.mkdir(path.join(project, 'vendor'));
    await fs.symlink(outside, path.join(project, 'vendor', 'lib'));
    await fs.writeFile(path.join(project, 'qm.toml'), artifactManifest('vendor/lib/deeper/file'));
    const result = await qm(['install']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /EUNSAFEPATH/);
    await assertOutsideUntouched();
  });

  for (const special of [
    { what: 'a symlink to /dev/zero', make: (file: string) => fs.symlink('/dev/zero', file) },
    { what: 'a FIFO', make: (file: string) => Promise.resolve(void execFileSync('mkfifo', [file])) },
    { what: 'a symlink to a FIFO outside the project', make: async (file: string) => {
      execFileSync('mkfifo', [path.join(outside, 'pipe')]);
      await fs.symlink(path.join(outside, 'pipe'), file);
    } },
    { what: 'a directory', make: (file: string) => fs.mkdir(file) },
  ]) {
    it(`a dest that is ${special.what} is refused at once, never read or replaced`, async () => {
      const dest = path.join(project, 'tool.bin');
      await special.make(dest);
      const before = await fs.lstat(dest);
      await fs.writeFile(path.join(project, 'qm.toml'), artifactManifest('tool.bin'));
      const result = await qm(['install']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /EUNSAFEPATH/);
      assert.ok(result.stderr.includes(dest), `names the dest: ${result.stderr}`);
      const after = await fs.lstat(dest);
      assert.equal(after.ino, before.ino, 'the dest is the same file as before');
      assert.equal(after.mode, before.mode);
    });
  }

  it('a dest that is a regular file is still replaced (the safe case keeps working)', async () => {
    await fs.mkdir(path.join(project, 'bin'));
    await fs.writeFile(path.join(project, 'bin', 'tool.bin'), 'old\n');
    await fs.writeFile(path.join(project, 'qm.toml'), artifactManifest('bin/tool.bin'));
    const result = await qm(['install']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await fs.readFile(path.join(project, 'bin', 'tool.bin'), 'utf8'), 'the artifact\n');
    const again = await qm(['install']);
    assert.equal(again.code, 0, again.stderr);
  });
});
