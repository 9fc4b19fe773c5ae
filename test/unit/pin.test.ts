import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { writeLockfile } from '../../src/core/lockfile/qm-lock';
import { parseQmToml } from '../../src/core/manifest/qm-toml';
import { pinToolSpecs } from '../../src/core/project/pin';
import { LockManager } from '../../src/core/store/locks';
import { listFiles, tempHome } from '../helpers/temp-home';

describe('pinToolSpecs: set a tool spec in qm.toml, locked and merged', () => {
  let root: string;
  let project: string;
  let dispose: () => Promise<void>;
  let core: { locks: LockManager };

  beforeEach(async () => {
    ({ home: root, dispose } = await tempHome());
    project = path.join(root, 'project');
    await fs.mkdir(project);
    core = { locks: new LockManager(path.join(root, 'qm', 'locks')) };
  });
  afterEach(() => dispose());

  const manifest = (): string => path.join(project, 'qm.toml');

  it('creates qm.toml when there is none, and keeps comments and layout when there is', async () => {
    await pinToolSpecs(core, manifest(), [{ name: 'node', spec: '22' }]);
    assert.equal(await fs.readFile(manifest(), 'utf8'), '[tools]\nnode = "22"\n');
    await fs.writeFile(manifest(), '# ours\n[tools]\nnode = "22" # LTS\n');
    await pinToolSpecs(core, manifest(), [{ name: 'node', spec: '20' }, { name: 'zig', spec: '0.13.0' }]);
    assert.equal(await fs.readFile(manifest(), 'utf8'), '# ours\n[tools]\nnode = "20" # LTS\nzig = "0.13.0"\n');
    assert.deepEqual(await listFiles(project), ['qm.toml'], 'no temp file left');
  });

  it('many pins of different tools at once all land', async () => {
    await fs.writeFile(manifest(), '[tools]\n');
    const tools = ['node', 'go', 'zig'];
    await Promise.all(tools.map((name) => pinToolSpecs(core, manifest(), [{ name, spec: '1' }])));
    const pinned = parseQmToml(await fs.readFile(manifest(), 'utf8'), manifest()).tools.map((t) => `${t.name} ${t.spec}`);
    assert.deepEqual(pinned.sort(), ['go 1', 'node 1', 'zig 1']);
  });

  it('a qm.toml that is a symlink (here to a file outside the project) is refused and left alone', async () => {
    const outside = path.join(root, 'outside.toml');
    await fs.writeFile(outside, '[tools]\nnode = "18"\n');
    await fs.symlink(outside, manifest());
    await assert.rejects(pinToolSpecs(core, manifest(), [{ name: 'node', spec: '22' }]), (error) => isQmError(error, 'EUNSAFEPATH') && error.message.includes(manifest()));
    assert.equal(await fs.readFile(outside, 'utf8'), '[tools]\nnode = "18"\n');
    assert.equal((await fs.lstat(manifest())).isSymbolicLink(), true);
  });

  it('a qm.toml that is a FIFO is refused at once', async () => {
    execFileSync('mkfifo', [manifest()]);
    await assert.rejects(pinToolSpecs(core, manifest(), [{ name: 'node', spec: '22' }]), (error) => isQmError(error, 'EUNSAFEPATH'));
    assert.equal((await fs.lstat(manifest())).isFIFO(), true);
  });

  it('qm.lock is never written through a symlink either', async () => {
    const outside = path.join(root, 'outside.lock');
    await fs.writeFile(outside, 'precious\n');
    await fs.symlink(outside, path.join(project, 'qm.lock'));
    await assert.rejects(writeLockfile(path.join(project, 'qm.lock'), { tools: [], artifacts: [] }), (error) => isQmError(error, 'EUNSAFEPATH'));
    assert.equal(await fs.readFile(outside, 'utf8'), 'precious\n');
  });
});
