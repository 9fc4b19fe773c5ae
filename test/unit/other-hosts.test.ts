import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { HomeLayout } from '../../src/core/home';
import { findOtherHostTemps, OTHER_HOST_TEMP_MAX_AGE_MS, removeOtherHostTemps } from '../../src/core/maintenance/other-hosts';
import type { LockManager } from '../../src/core/store/locks';
import { hostTag, uniqueTempName } from '../../src/core/store/temp-files';
import { tempHome } from '../helpers/temp-home';

const HOUR = 3600_000;

/** The home's locks as `qm doctor` sees them: here, one lock still held by a process on build-7. */
const locksHeldOnBuild7 = { list: () => Promise.resolve([{ key: 'blob-x', owner: { pid: 4242, host: 'build-7', purpose: 'download', since: new Date().toISOString() } }]) } as unknown as Pick<LockManager, 'list'>;
const noLocks = { list: () => Promise.resolve([]) } as unknown as Pick<LockManager, 'list'>;

/** A temp name as a process on `host` makes it. */
function tempOf(host: string, kind: 'part' | 'dir' | 'tmp', pid = 4242): string {
  return `${hostTag(host)}.${pid}.987654.${randomBytes(8).toString('hex')}.${kind}`;
}

describe('other hosts\' temps in a shared QM_HOME (qm doctor --fix [--host])', () => {
  let layout: HomeLayout;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    const scratch = await tempHome();
    dispose = scratch.dispose;
    layout = new HomeLayout(scratch.home);
    for (const dir of [layout.tmpDir, layout.locksDir, path.join(layout.stateDir, 'manifests')]) await fs.mkdir(dir, { recursive: true });
  });
  afterEach(() => dispose());

  async function make(file: string, ageMs: number, directory = false): Promise<string> {
    if (directory) await fs.mkdir(file);
    else await fs.writeFile(file, 'partial');
    const when = new Date(Date.now() - ageMs);
    await fs.utimes(file, when, when);
    return file;
  }

  it('lists another host\'s temps in tmp/ and beside their targets, by name when one of its locks gives it, never this host\'s', async () => {
    const part = await make(path.join(layout.tmpDir, tempOf('build-7', 'part')), HOUR);
    const staging = await make(path.join(layout.tmpDir, tempOf('build-7', 'dir')), 2 * HOUR, true);
    const beside = await make(path.join(layout.stateDir, 'manifests', `.abc.json.${tempOf('build-9', 'tmp')}`), 3 * HOUR);
    await make(path.join(layout.tmpDir, uniqueTempName('part')), HOUR);
    await make(path.join(layout.tmpDir, 'not-ours.part'), HOUR);

    const found = await findOtherHostTemps(layout, locksHeldOnBuild7);
    assert.deepEqual(found.map((t) => t.path).sort(), [part, staging, beside].sort());
    assert.deepEqual(found.filter((t) => t.path !== beside).map((t) => t.host), ['build-7', 'build-7']);
    assert.equal(found.find((t) => t.path === beside)!.host, `host tag ${hostTag('build-9')}`, 'a host no record names is shown by its tag');
    const ages = Object.fromEntries(found.map((t) => [t.path, Math.round(t.ageMs / HOUR)]));
    assert.deepEqual([ages[part], ages[staging], ages[beside]], [1, 2, 3]);
  });

  it('--fix removes other hosts\' temps older than a day and keeps younger ones (their host may be alive)', async () => {
    const old = await make(path.join(layout.tmpDir, tempOf('build-7', 'part')), OTHER_HOST_TEMP_MAX_AGE_MS + HOUR);
    const oldDir = await make(path.join(layout.tmpDir, tempOf('build-7', 'dir')), OTHER_HOST_TEMP_MAX_AGE_MS + HOUR, true);
    await fs.writeFile(path.join(oldDir, 'inside'), 'x');
    await fs.utimes(oldDir, new Date(Date.now() - OTHER_HOST_TEMP_MAX_AGE_MS - HOUR), new Date(Date.now() - OTHER_HOST_TEMP_MAX_AGE_MS - HOUR));
    const young = await make(path.join(layout.tmpDir, tempOf('build-7', 'part')), OTHER_HOST_TEMP_MAX_AGE_MS - HOUR);
    const mineOld = await make(path.join(layout.tmpDir, uniqueTempName('part')), OTHER_HOST_TEMP_MAX_AGE_MS + HOUR);

    const removed = await removeOtherHostTemps(layout, noLocks);
    assert.deepEqual(removed.sort(), [old, oldDir].sort());
    assert.deepEqual((await fs.readdir(layout.tmpDir)).sort(), [path.basename(young), path.basename(mineOld)].sort(), 'this host\'s temps are startup recovery\'s, by liveness, never by age');
  });

  it('--fix --host NAME removes every temp of that host at once, and only of that host', async () => {
    const gone = [
      await make(path.join(layout.tmpDir, tempOf('build-7', 'part')), 0),
      await make(path.join(layout.tmpDir, tempOf('build-7', 'dir')), 0, true),
      await make(path.join(layout.locksDir, `.blob-x.owner.json.${tempOf('build-7', 'tmp')}`), 0),
    ];
    const otherHost = await make(path.join(layout.tmpDir, tempOf('build-9', 'part')), 0);
    const removed = await removeOtherHostTemps(layout, noLocks, { host: 'build-7' });
    assert.deepEqual(removed.sort(), gone.sort());
    assert.deepEqual(await fs.readdir(layout.tmpDir), [path.basename(otherHost)]);
  });

  it('this host\'s temps from another boot or PID namespace count too: recovery cannot check them, the age rule removes them', async () => {
    const elsewhere = `${hostTag(os.hostname())}-deadbeef.4242.987654.${randomBytes(8).toString('hex')}.part`;
    const old = await make(path.join(layout.tmpDir, elsewhere), OTHER_HOST_TEMP_MAX_AGE_MS + HOUR);
    assert.deepEqual((await findOtherHostTemps(layout, noLocks)).map((t) => t.path), [old]);
    assert.deepEqual(await removeOtherHostTemps(layout, noLocks), [old]);
  });

  it('--host refuses this host and an empty name with EUSAGE, removing nothing', async () => {
    const mine = await make(path.join(layout.tmpDir, uniqueTempName('part')), 0);
    for (const host of [os.hostname(), ' ']) {
      await assert.rejects(removeOtherHostTemps(layout, noLocks, { host }), (error) => isQmError(error, 'EUSAGE'));
    }
    await fs.access(mine);
  });
});
