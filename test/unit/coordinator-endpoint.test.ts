import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkSocketFile, currentHost, endpointFor, hostTag, isPipe, prepareEndpointDir } from '../../src/core/coordinator/endpoint';
import { isQmError } from '../../src/core/errors';
import { tempHome } from '../helpers/temp-home';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const rootOnly = isRoot ? false : 'simulating another user needs root (fs.chown to uid 65534)';

/** Rejects with EENDPOINT and a message matching `pattern`. */
async function assertRefused(work: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(isQmError(error, 'EENDPOINT'), `expected EENDPOINT, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

async function modeOf(file: string): Promise<number> {
  return (await fs.lstat(file)).mode & 0o777;
}

describe('endpointFor', () => {
  const HOST = { hostname: 'build-7', bootId: 'fd58bf7e-16db-4245-884f-a4bf878d7995' };
  const TAG = hostTag(HOST);

  it('puts the socket under QM_HOME/run, named for this host, when the path is short enough', () => {
    assert.match(TAG, /^build-7-[0-9a-f]{10}$/);
    assert.equal(endpointFor('/tmp/qm-home', 'linux', HOST), `/tmp/qm-home/run/coordinator-${TAG}.sock`);
  });

  it('gives every host sharing a home its own endpoint: another hostname, or the same hostname on another kernel', () => {
    const here = endpointFor('/shared/qm', 'linux', HOST);
    assert.notEqual(endpointFor('/shared/qm', 'linux', { ...HOST, hostname: 'build-8' }), here);
    assert.notEqual(endpointFor('/shared/qm', 'linux', { ...HOST, bootId: '0b8e3a9c-0000-4000-8000-000000000000' }), here);
    assert.equal(endpointFor('/shared/qm', 'linux', { ...HOST }), here, 'one host, one endpoint');
    assert.match(hostTag({ hostname: 'a weird/host name that is long' }), /^a_weird_host_name_th-[0-9a-f]{10}$/);
    assert.equal(endpointFor('/tmp/qm-home', 'linux'), endpointFor('/tmp/qm-home', 'linux', currentHost()));
  });

  it('falls back to a short hashed path in a per-user temp directory for a long QM_HOME', () => {
    const home = path.join('/tmp', 'a'.repeat(120));
    const endpoint = endpointFor(home, 'linux', HOST);
    assert.equal(path.dirname(endpoint), path.join(os.tmpdir(), `qm-${process.getuid?.() ?? 0}`));
    assert.match(path.basename(endpoint), new RegExp(`^[0-9a-f]{16}-${TAG}\\.sock$`));
    assert.ok(Buffer.byteLength(endpoint) <= 100, `${endpoint} fits in sun_path`);
    assert.notEqual(endpointFor(`${home}b`, 'linux', HOST), endpoint, 'another long home gets another endpoint');
    assert.notEqual(endpointFor(home, 'linux', { ...HOST, hostname: 'build-8' }), endpoint, 'and another host too');
  });

  it('gives every spelling of one home the same endpoint, and different homes different ones', () => {
    const long = path.join(os.tmpdir(), 'q'.repeat(110));
    for (const home of ['/tmp/qm-home', long]) {
      const endpoint = endpointFor(home, 'linux');
      assert.equal(endpointFor(`${home}/`, 'linux'), endpoint);
      assert.equal(endpointFor(path.join(home, 'sub', '..'), 'linux'), endpoint);
      assert.equal(endpointFor(path.relative(process.cwd(), home), 'linux'), endpoint);
    }
    assert.notEqual(endpointFor('/tmp/qm-a', 'linux'), endpointFor('/tmp/qm-b', 'linux'));
  });

  it('names a Windows pipe by the same hash', () => {
    const endpoint = endpointFor('C:\\Users\\me\\AppData\\Local\\quartermaster\\cache', 'win32');
    assert.match(endpoint, /^\\\\\.\\pipe\\quartermaster-[0-9a-f]{16}$/);
    assert.ok(isPipe(endpoint));
    assert.equal(endpointFor('C:\\Users\\me\\AppData\\Local\\quartermaster\\cache', 'win32'), endpoint);
    assert.notEqual(endpointFor('D:\\qm', 'win32'), endpoint);
    assert.ok(!isPipe(endpointFor('/tmp/qm-home', 'linux')));
  });
});

describe('prepareEndpointDir', () => {
  let home: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(() => dispose());

  it('creates the directory (and its parents) 0700', async () => {
    const endpoint = path.join(home, 'deep', 'run', 'coordinator.sock');
    await prepareEndpointDir(endpoint);
    const stat = await fs.lstat(path.dirname(endpoint));
    assert.ok(stat.isDirectory());
    assert.equal(stat.mode & 0o777, 0o700);
  });

  it('tightens a 0755 (or 0777) directory it owns to 0700', async () => {
    for (const mode of [0o755, 0o777]) {
      const dir = path.join(home, `run-${mode.toString(8)}`);
      await fs.mkdir(dir);
      await fs.chmod(dir, mode);
      await prepareEndpointDir(path.join(dir, 'coordinator.sock'));
      assert.equal(await modeOf(dir), 0o700);
    }
  });

  it('refuses a symlink where the directory should be, and leaves it alone', async () => {
    const real = path.join(home, 'elsewhere');
    await fs.mkdir(real, { mode: 0o700 });
    const link = path.join(home, 'run');
    await fs.symlink(real, link);
    await assertRefused(prepareEndpointDir(path.join(link, 'coordinator.sock')), /should be a directory/);
    assert.ok((await fs.lstat(link)).isSymbolicLink());
  });

  it('refuses a regular file where the directory should be with EENDPOINT', async () => {
    const file = path.join(home, 'run');
    await fs.writeFile(file, 'not a directory');
    await assertRefused(prepareEndpointDir(path.join(file, 'coordinator.sock')), /run/);
    assert.equal(await fs.readFile(file, 'utf8'), 'not a directory');
  });

  it('refuses a directory owned by another user and does not touch its mode', { skip: rootOnly }, async () => {
    const dir = path.join(home, 'run');
    await fs.mkdir(dir);
    await fs.chmod(dir, 0o777);
    await fs.chown(dir, NOBODY, NOBODY);
    await assertRefused(prepareEndpointDir(path.join(dir, 'coordinator.sock')), new RegExp(`belongs to uid ${NOBODY}`));
    const stat = await fs.lstat(dir);
    assert.equal(stat.uid, NOBODY);
    assert.equal(stat.mode & 0o777, 0o777);
  });

  it('does nothing for a Windows pipe', async () => {
    await prepareEndpointDir('\\\\.\\pipe\\quartermaster-0123456789abcdef');
  });
});

describe('checkSocketFile', () => {
  let home: string;
  let dispose: () => Promise<void>;
  let listener: net.Server | undefined;
  beforeEach(async () => ({ home, dispose } = await tempHome()));
  afterEach(async () => {
    await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    listener = undefined;
    await dispose();
  });

  /** A real listening Unix socket at home/run/coordinator.sock with this mode. */
  async function socketFile(mode: number): Promise<string> {
    const endpoint = path.join(home, 'run', 'coordinator.sock');
    await prepareEndpointDir(endpoint);
    const server = net.createServer();
    listener = server;
    await new Promise<void>((resolve) => server.listen(endpoint, resolve));
    await fs.chmod(endpoint, mode);
    return endpoint;
  }

  it('says undefined when there is no file', async () => {
    assert.equal(await checkSocketFile(path.join(home, 'run', 'coordinator.sock')), undefined);
  });

  it('accepts our own socket, 0600', async () => {
    assert.equal(await checkSocketFile(await socketFile(0o600)), 'present');
  });

  it('refuses a socket others can reach (0666, and even 0640)', async () => {
    const endpoint = await socketFile(0o666);
    await assertRefused(checkSocketFile(endpoint), /accessible to other users \(mode 666\)/);
    await fs.chmod(endpoint, 0o640);
    await assertRefused(checkSocketFile(endpoint), /mode 640/);
  });

  it('refuses a regular file and a symlink to a good socket', async () => {
    const file = path.join(home, 'plain.sock');
    await fs.writeFile(file, '', { mode: 0o600 });
    await assertRefused(checkSocketFile(file), /is not a socket/);
    const link = path.join(home, 'link.sock');
    await fs.symlink(await socketFile(0o600), link);
    await assertRefused(checkSocketFile(link), /is not a socket/);
  });

  it('refuses a path it cannot inspect', async () => {
    const file = path.join(home, 'file');
    await fs.writeFile(file, '');
    await assertRefused(checkSocketFile(path.join(file, 'coordinator.sock')), /Cannot inspect/);
  });

  it('refuses a socket owned by another user', { skip: rootOnly }, async () => {
    const endpoint = await socketFile(0o600);
    await fs.chown(endpoint, NOBODY, NOBODY);
    await assertRefused(checkSocketFile(endpoint), new RegExp(`belongs to uid ${NOBODY}`));
  });

  it('takes a Windows pipe as present (the OS guards pipes)', async () => {
    assert.equal(await checkSocketFile('\\\\.\\pipe\\quartermaster-0123456789abcdef'), 'present');
  });
});
