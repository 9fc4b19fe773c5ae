import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CoordinatorService } from '../../src/core/coordinator/service';
import { isQmError, type QmError } from '../../src/core/errors';
import { HomeLayout } from '../../src/core/home';
import { parseLockfile, readLockfile } from '../../src/core/lockfile/qm-lock';
import { loadManifest } from '../../src/core/manifest/find';
import { parseQmToml } from '../../src/core/manifest/qm-toml';
import { checkProjectWrite, projectFile, readProjectText } from '../../src/core/paths/project-files';
import { componentProblem, requireSafeName, requireSha256 } from '../../src/core/paths/safe-names';
import { parsePlatform } from '../../src/core/platform';
import type { ProviderSet } from '../../src/core/providers/registry';
import type { ResolvedToolchain, ToolProvider } from '../../src/core/providers/types';
import { resolvePlan } from '../../src/core/plan/plan';
import { createCore } from '../../src/core/services';
import { blobLockKey, toolchainLockKey } from '../../src/core/store/lock-keys';
import { listFiles, tempHome } from '../helpers/temp-home';

const LINUX = parsePlatform('linux-x64');
const DIGEST = 'ab'.repeat(32);
const unsafe = (check: (error: QmError) => boolean = () => true) => (error: unknown): boolean => isQmError(error, 'EUNSAFEPATH') && check(error);

describe('the door for untrusted names (paths/safe-names.ts)', () => {
  it('lets through every real tool, version and platform spelling', () => {
    for (const name of ['node', 'go', 'zig', '22.11.0', '1.22.0-rc.1', '0.14.0-dev.2577+271452d22', '21.0.2+13', '3.12.1', 'nightly-2024-01-01', 'linux-x64', 'x86_64-linux', 'linux-amd64', 'v1.2.3', '_x']) {
      assert.equal(componentProblem(name), undefined, name);
    }
  });

  it('refuses what could leave its directory, hide, or name a device', () => {
    const refused: Array<[string, RegExp]> = [
      ['', /empty/],
      ['.', /directory/],
      ['..', /directory/],
      ['../../../victim', /separator/],
      ['a/b', /separator/],
      ['a\\b', /separator/],
      ['.hidden', /starts with "\."/],
      ['x\0y', /control/],
      ['x\ny', /control/],
      ['a b', /only letters/],
      ['é', /only letters/],
      ['abc.', /ends with/],
      ['NUL', /device/],
      ['con.txt', /device/],
      ['x'.repeat(129), /longer/],
    ];
    for (const [name, why] of refused) assert.match(componentProblem(name) ?? 'accepted', why, JSON.stringify(name));
  });

  it('names the input, the line and the value when it refuses', () => {
    assert.throws(
      () => requireSafeName('version', '../../x', { file: '/p/qm.lock', line: 7 }, 'node'),
      unsafe((e) => e.message.startsWith('/p/qm.lock:7: version "../../x" of node') && e.details.line === 7 && e.details.path === '/p/qm.lock' && e.details.found === '../../x'),
    );
    assert.throws(() => requireSafeName('platform', 'a/b', { url: 'https://example.com/index.json' }), unsafe((e) => e.message.startsWith('the index at https://example.com/index.json: platform "a/b"')));
    assert.equal(requireSha256(DIGEST.toUpperCase(), { description: 'x' }), DIGEST);
    assert.throws(() => requireSha256('../../etc/passwd', { description: 'a coordinator request' }), unsafe((e) => e.message.startsWith('a coordinator request: sha256 "../../etc/passwd"')));
  });

  it('HomeLayout and the lock keys refuse names that did not pass the door (defence in depth)', () => {
    const layout = new HomeLayout('/home/qm');
    assert.equal(layout.toolchainDir('node', '22.11.0', 'linux-x64'), '/home/qm/toolchains/node/22.11.0-linux-x64');
    assert.throws(() => layout.toolchainDir('node', '../../../victim', 'linux-x64'), unsafe());
    assert.throws(() => layout.toolchainDir('..', '1.0.0', 'linux-x64'), unsafe());
    assert.throws(() => layout.toolchainDir('node', '1.0.0', 'x/../../y'), unsafe());
    assert.throws(() => layout.blobPath(`../${DIGEST.slice(3)}`), unsafe());
    assert.throws(() => layout.blobPath(DIGEST.toUpperCase()), unsafe(), 'blob names are lower case');
    assert.throws(() => toolchainLockKey({ tool: 'node', version: '../x', platform: 'linux-x64' }), unsafe());
    assert.throws(() => blobLockKey('../x'), unsafe());
  });
});

describe('qm.lock is untrusted: every name checked at read, with file and line', () => {
  const lock = (fields: Record<string, string>): string =>
    ['version = 1', '', '[[tool]]', ...Object.entries({ name: 'node', spec: '20', platform: 'linux-x64', version: '20.18.1', url: 'https://nodejs.org/dist/v20.18.1/node-v20.18.1-linux-x64.tar.gz', sha256: DIGEST, ...fields }).map(([k, v]) => `${k} = ${JSON.stringify(v)}`), ''].join('\n');

  it('accepts a well-formed lock', () => {
    assert.equal(parseLockfile(lock({}), '/p/qm.lock').tools[0]?.version, '20.18.1');
  });

  for (const [field, value, line] of [
    ['name', '../node', 4],
    ['platform', '../../x', 6],
    ['version', '../../../victim', 7],
    ['sha256', '../../../../etc/passwd', 9],
  ] as const) {
    it(`refuses ${field} = "${value}" naming line ${line}`, () => {
      assert.throws(() => parseLockfile(lock({ [field]: value }), '/p/qm.lock'), unsafe((e) => e.message.startsWith(`/p/qm.lock:${line}: `) && e.message.includes(JSON.stringify(value)) && e.details.line === line));
    });
  }

  it('refuses an artifact digest that is not one', () => {
    const text = `version = 1\n\n[[artifact]]\nname = "x"\nurl = "https://example.com/x"\nsha256 = "../x"\n`;
    assert.throws(() => parseLockfile(text, '/p/qm.lock'), unsafe((e) => e.message.startsWith('/p/qm.lock:6: ')));
  });
});

describe('project files are never read through a FIFO or a device, nor written through a symlink', () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('a qm.lock, .nvmrc or qm.toml that is a FIFO or a symlink to /dev/zero is refused without blocking', async () => {
    execFileSync('mkfifo', [path.join(dir, 'qm.lock')]);
    await assert.rejects(readLockfile(path.join(dir, 'qm.lock')), unsafe((e) => e.message.includes('FIFO')));
    await fs.symlink('/dev/zero', path.join(dir, '.nvmrc'));
    await assert.rejects(loadManifest(path.join(dir, '.nvmrc')), unsafe((e) => e.message.includes('device')));
    execFileSync('mkfifo', [path.join(dir, 'qm.toml')]);
    await assert.rejects(loadManifest(path.join(dir, 'qm.toml')), unsafe());
  });

  it('a symlink to a regular file is read (a monorepo may link its manifest); a missing file is undefined', async () => {
    await fs.writeFile(path.join(dir, 'real.toml'), '[tools]\n');
    await fs.symlink(path.join(dir, 'real.toml'), path.join(dir, 'qm.toml'));
    assert.equal(await readProjectText(path.join(dir, 'qm.toml')), '[tools]\n');
    assert.equal(await readProjectText(path.join(dir, 'none')), undefined);
  });

  it('a write target refuses a symlinked parent even when it points inside the project, and creates real directories', async () => {
    await fs.mkdir(path.join(dir, 'real'));
    await fs.symlink(path.join(dir, 'real'), path.join(dir, 'link'));
    await assert.rejects(checkProjectWrite(projectFile(dir, 'link/file'), { create: true }), unsafe((e) => e.details.path === path.join(dir, 'link')));
    assert.deepEqual(await checkProjectWrite(projectFile(dir, 'a/b/c/file'), { create: true }), { exists: false });
    assert.equal((await fs.lstat(path.join(dir, 'a', 'b', 'c'))).isDirectory(), true);
    await fs.writeFile(path.join(dir, 'a', 'file'), 'x');
    assert.deepEqual(await checkProjectWrite(projectFile(dir, 'a/file')), { exists: true });
    await fs.writeFile(path.join(dir, 'plain'), 'x');
    await assert.rejects(checkProjectWrite(projectFile(dir, 'plain/file'), { create: true }), unsafe((e) => e.message.includes('not a directory')));
    assert.throws(() => projectFile(dir, '../escape'), unsafe());
  });
});

describe('toolchains from an index or a coordinator request take the same door', () => {
  let home: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('a provider whose index yields a version that is not a safe name fails the plan', async () => {
    const hostile: ToolProvider = {
      tool: 'node',
      baseUrl: 'https://example.com',
      layout: () => ({ platform: 'linux-x64', stripComponents: 1, binDirs: ['bin'], executables: ['node'] }),
      releases: () => Promise.resolve([]),
      resolve: (): Promise<ResolvedToolchain> =>
        Promise.resolve({ tool: 'node', version: '1.0.0/../../../x', upstreamVersion: 'v1', platform: 'linux-x64', url: 'https://example.com/x.tar.gz', sha256: DIGEST, archive: 'tar.gz', stripComponents: 1, binDirs: ['bin'], executables: ['node'] }),
    };
    const providers = { node: hostile } as unknown as ProviderSet;
    const manifest = parseQmToml('[tools]\nnode = "1"\n', path.join(home, 'qm.toml'));
    await assert.rejects(resolvePlan(manifest, { providers, platform: LINUX }), unsafe((e) => e.message.startsWith('the node index: version "1.0.0/../../../x"')));
  });

  it('a coordinator install request with a locked version that climbs out of QM_HOME is refused; the directory it names survives', async () => {
    const qmHome = path.join(home, 'qm');
    const victim = path.join(home, 'victim-linux-x64');
    await fs.mkdir(victim);
    await fs.writeFile(path.join(victim, 'precious.txt'), 'x');
    const core = createCore({ home: qmHome, env: {} });
    try {
      const service = new CoordinatorService(core, LINUX);
      const locked = { version: '../../../victim', url: 'https://nodejs.org/dist/v20.18.1/node-v20.18.1-linux-x64.tar.gz', sha256: DIGEST };
      await assert.rejects(
        service.install({ jobId: 'j1', requester: { kind: 'cli', pid: process.pid, label: 'test' }, tools: [{ name: 'node', spec: '20', locked }] }),
        unsafe((e) => e.message.startsWith('a coordinator request: version "../../../victim" of node')),
      );
      await assert.rejects(service.resolve([{ name: 'node', spec: '20', locked: { ...locked, version: '20.18.1', sha256: '../x' } }]), unsafe());
    } finally {
      await core.close();
    }
    assert.deepEqual(await listFiles(victim), ['precious.txt']);
  });
});
