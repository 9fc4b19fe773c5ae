import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { siblingTempPath, writeFileAtomic } from '../../src/core/store/atomic-write';
import { isOrphanTemp, tempOwner } from '../../src/core/store/temp-files';
import { tempHome } from '../helpers/temp-home';

describe('writeFileAtomic', () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('replaces a file whole and leaves no temp file behind', async () => {
    const file = path.join(dir, 'qm.toml');
    await fs.writeFile(file, 'old');
    await writeFileAtomic(file, 'new');
    assert.equal(await fs.readFile(file, 'utf8'), 'new');
    assert.deepEqual(await fs.readdir(dir), ['qm.toml']);
  });

  it('sets the mode it is given', async () => {
    const file = path.join(dir, 'qm');
    await writeFileAtomic(file, '#!/bin/sh\n', { mode: 0o755 });
    assert.equal((await fs.stat(file)).mode & 0o111, 0o111);
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    const outside = path.join(dir, 'outside.txt');
    await fs.writeFile(outside, 'precious');
    const file = path.join(dir, 'qm.toml');
    await fs.symlink(outside, file);
    await writeFileAtomic(file, 'mine');
    assert.equal(await fs.readFile(outside, 'utf8'), 'precious');
    assert.equal((await fs.lstat(file)).isFile(), true);
  });

  it('names its temp file after its owner, so recovery can tell a live writer from a dead one', () => {
    const temp = path.basename(siblingTempPath(path.join(dir, 'qm.lock')));
    assert.match(temp, /^\.qm\.lock\./);
    assert.equal(tempOwner(temp)?.pid, process.pid);
    assert.equal(isOrphanTemp(temp), false, 'this process is alive');
  });

  it('fails with a QmError naming the file, and leaves nothing, when the directory is missing', async () => {
    const file = path.join(dir, 'missing', 'qm.toml');
    await assert.rejects(writeFileAtomic(file, 'x'), (error) => isQmError(error, 'EIO') && error.message.includes(file));
    assert.deepEqual(await fs.readdir(dir), []);
  });

  it('keeps the old content when the rename cannot happen, and removes its temp', async () => {
    const file = path.join(dir, 'target');
    await fs.mkdir(file); // rename(file-over-directory) fails with EISDIR
    await fs.writeFile(path.join(file, 'inside'), 'x');
    await assert.rejects(writeFileAtomic(file, 'x'), (error) => isQmError(error, 'EIO'));
    assert.deepEqual(await fs.readdir(dir), ['target']);
  });

  it('lets concurrent writers of one file each publish whole content', async () => {
    const file = path.join(dir, 'state.json');
    const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify({ writer: i, pad: 'x'.repeat(10_000) }));
    await Promise.all(bodies.map((body) => writeFileAtomic(file, body)));
    assert.ok(bodies.includes(await fs.readFile(file, 'utf8')));
    assert.deepEqual(await fs.readdir(dir), ['state.json']);
  });
});
